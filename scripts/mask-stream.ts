// The masking function (scripts/secrets.ts) for streams: vitest's console output and files too
// large to read whole. Text is released a line at a time, so a secret that arrives in two chunks
// is masked whole; a multi-line secret's beginning is held back until it is known whether the rest
// follows.
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { stripVTControlCharacters } from 'node:util';
import { mask, secretFormsToMask } from './secrets.ts';

/** A line longer than this is released in pieces anyway (binary files, endless progress lines). */
const MAX_HELD = 1024 * 1024;

/**
 * How much of `text` can be masked and released now: up to the last line break (or, past MAX_HELD,
 * nearly all of it), then back to before any beginning of a secret that the rest could complete.
 */
export function safeCut(text: string, forms: readonly string[] = secretFormsToMask()): number {
  let cut = text.lastIndexOf('\n') + 1;
  if (cut === 0 && text.length > MAX_HELD) cut = text.length - (forms[0]?.length ?? 0);
  for (let moved = true; moved && cut > 0; ) {
    moved = false;
    const rest = text.slice(cut);
    for (const form of forms) {
      // The longest beginning first: the earliest place an occurrence could start.
      for (let k = Math.min(form.length - 1, cut); k >= 1; k--) {
        if (form.charCodeAt(k - 1) !== text.charCodeAt(cut - 1)) continue; // the cheap test first
        const tail = form.slice(k);
        if (text.startsWith(form.slice(0, k), cut - k) && (rest.startsWith(tail) || tail.startsWith(rest))) {
          cut -= k;
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
  }
  return cut;
}

/** A colour code inside a secret (a diff highlighting part of it) hides it from mask(): such a line goes out without its colours. */
function uncoloured(line: string): string {
  const plain = stripVTControlCharacters(line);
  if (plain === line) return line;
  const masked = mask(plain);
  return masked === plain ? line : masked;
}

/** A Transform whose output is its input masked; `changed` says whether masking replaced anything. */
export class MaskStream extends Transform {
  changed = false;
  private held = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor() {
    super({ decodeStrings: true });
  }

  private release(text: string): void {
    if (!text) return;
    let masked = mask(text);
    if (/[\x1b\x9b]/.test(masked)) masked = masked.split('\n').map(uncoloured).join('\n');
    if (masked !== text) this.changed = true;
    this.push(masked);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.held += this.decoder.write(chunk);
    const cut = safeCut(this.held);
    this.release(this.held.slice(0, cut));
    this.held = this.held.slice(cut);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.release(this.held + this.decoder.end());
    this.held = '';
    done();
  }
}

/**
 * A masking stream whose output goes to `dest` (process.stderr), which it never ends: hand it to
 * a writer (vitest), then `await close()` to write out what it still holds. It writes with
 * `dest`'s write as it is now: vitest's window renderer (on a terminal) replaces process.stderr's
 * write with one that forwards into this very stream, and piping would then go round in a circle.
 */
export function maskingWriter(dest: NodeJS.WritableStream): { stream: MaskStream; close: () => Promise<void> } {
  const stream = new MaskStream();
  const write = dest.write.bind(dest);
  stream.on('data', (chunk: Buffer) => write(chunk));
  const close = () =>
    new Promise<void>((resolve) => {
      if (stream.writableFinished) return resolve();
      stream.once('end', resolve);
      stream.end();
    });
  return { stream, close };
}

/**
 * Masks a file of any size by streaming it to `dest` (the same path masks in place). A file in
 * which nothing was masked is left as it was, byte for byte (binary files stay intact).
 */
export async function maskFile(src: string, dest: string = src): Promise<void> {
  const tmp = `${dest}.masking`;
  const masking = new MaskStream();
  try {
    await pipeline(createReadStream(src), masking, createWriteStream(tmp, { mode: 0o600 }));
    if (masking.changed) await rename(tmp, dest);
    else if (dest !== src) await copyFile(src, dest);
  } finally {
    await rm(tmp, { force: true });
  }
}
