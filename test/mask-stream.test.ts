// The mask for streams: vitest's console output and diagnostics files of any size.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, test } from 'vitest';
import { maskTree } from '../scripts/kube/diagnostics.ts';
import { maskFile, maskingWriter, MaskStream, safeCut } from '../scripts/mask-stream.ts';
import { forgetSecrets, registerSecret } from '../scripts/secrets.ts';

const KEY = 'adm"in\\secret-Value-123';
const MULTILINE = 'line-one-of-a-key\nline-two-of-a-key';

afterEach(() => forgetSecrets());

/** Writes `chunks` through a MaskStream and returns what came out. */
async function through(chunks: (string | Buffer)[]): Promise<string> {
  const s = new MaskStream();
  const out = text(s);
  for (const c of chunks) s.write(c);
  s.end();
  return out;
}

describe('mask-stream', () => {
  test('a secret (raw, JSON-escaped, URL-encoded) split across two chunks at any point is masked whole', async () => {
    registerSecret(KEY);
    for (const form of [KEY, JSON.stringify(KEY).slice(1, -1), encodeURIComponent(KEY)]) {
      const input = `before\nthe key ${form} in the middle\nafter\n`;
      for (let at = 1; at < input.length; at++) {
        const out = await through([input.slice(0, at), input.slice(at)]);
        expect(out, `split at ${at}`).toBe('before\nthe key *** in the middle\nafter\n');
      }
    }
  });

  test('a secret that colour codes cut in two (a diff highlighting part of it) is masked, the line losing its colours', async () => {
    registerSecret(KEY);
    const coloured = `\x1b[31m- expected "${KEY.slice(0, 5)}\x1b[7m${KEY.slice(5)}\x1b[27m"\x1b[39m\n\x1b[32mok\x1b[39m\n`;
    expect(await through([coloured])).toBe('- expected "***"\n\x1b[32mok\x1b[39m\n');
  });

  test('an unregistered sk- token split across chunks is masked whole too', async () => {
    const input = 'answer: {"key":"sk-abcdefghijklmnop"}\n';
    for (let at = 1; at < input.length; at++) expect(await through([input.slice(0, at), input.slice(at)])).toBe('answer: {"key":"sk-***"}\n');
  });

  test('a multi-line secret split at its line break is held back until its rest arrives, and released if the rest differs', () => {
    registerSecret(MULTILINE);
    // "…line-one-of-a-key\n" could go on as the secret: only what precedes it may go out
    expect(safeCut('log: line-one-of-a-key\n')).toBe('log: '.length);
    expect(safeCut('log: line-one-of-a-key\nline-two')).toBe('log: '.length);
    // the rest is something else: the whole line may go
    expect(safeCut('log: line-one-of-a-key\nsomething else')).toBe('log: line-one-of-a-key\n'.length);
  });

  test('a multi-line secret across chunks comes out masked; a UTF-8 character split across chunks comes out whole', async () => {
    registerSecret(MULTILINE);
    const input = `ä ${MULTILINE} ö\nend\n`;
    const bytes = Buffer.from(input);
    for (let at = 1; at < bytes.length; at++) {
      expect(await through([bytes.subarray(0, at), bytes.subarray(at)]), `split at byte ${at}`).toBe('ä *** ö\nend\n');
    }
  });

  test('a writer over process.stderr-like output masks what is written and writes out what it holds on close, without ending its destination', async () => {
    registerSecret(KEY);
    const dest = new PassThrough();
    const seen: Buffer[] = [];
    dest.on('data', (c: Buffer) => seen.push(c));
    const w = maskingWriter(dest);
    w.stream.write(`FAIL keys > the admin credential creates a key\nError: HTTP 500 ${KEY.slice(0, 7)}`);
    w.stream.write(`${KEY.slice(7)} (no newline at the end)`);
    await w.close();
    expect(Buffer.concat(seen).toString()).toBe('FAIL keys > the admin credential creates a key\nError: HTTP 500 *** (no newline at the end)');
    expect(dest.writableEnded).toBe(false);
    await w.close(); // closing twice is harmless
  });

  test('a writer keeps to its destination\'s own write when vitest (on a terminal) reroutes that write into the writer', async () => {
    registerSecret(KEY);
    const dest = new PassThrough();
    const seen: Buffer[] = [];
    dest.on('data', (c: Buffer) => seen.push(c));
    const w = maskingWriter(dest);
    // vitest's window renderer: process.stderr.write now forwards into the stream vitest writes to
    const streamWrite = w.stream.write.bind(w.stream);
    let forwarded = 0;
    dest.write = ((chunk: string | Buffer) => {
      if (++forwarded > 5) throw new Error('the output went round in a circle');
      return streamWrite(chunk);
    }) as typeof dest.write;
    streamWrite(`x ${KEY}\n`);
    await w.close();
    expect(Buffer.concat(seen).toString()).toBe('x ***\n');
    expect(forwarded).toBe(0);
  });

  test('maskFile copies a file masked; a file with nothing to mask stays byte for byte', async () => {
    registerSecret(KEY);
    const dir = await mkdtemp(join(tmpdir(), 'gs-maskfile-'));
    await writeFile(join(dir, 'a.log'), `x ${KEY} y\n`);
    await maskFile(join(dir, 'a.log'), join(dir, 'b.log'));
    expect(await readFile(join(dir, 'b.log'), 'utf8')).toBe('x *** y\n');
    expect(await readFile(join(dir, 'a.log'), 'utf8')).toBe(`x ${KEY} y\n`);
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0a, 0xc3]); // not valid UTF-8
    await writeFile(join(dir, 'bin'), binary);
    await maskFile(join(dir, 'bin'));
    expect(await readFile(join(dir, 'bin'))).toEqual(binary);
  });

  test('diagnostics mask files over 64 MiB in kind-logs/ in place, streamed, a secret across every read-chunk boundary included', async () => {
    registerSecret(KEY);
    const dir = await mkdtemp(join(tmpdir(), 'gs-masktree-'));
    await mkdir(join(dir, 'node', 'containers'), { recursive: true });
    const big = join(dir, 'node', 'containers', 'gateway.log');
    // 65 MiB of log lines; the key lands across createReadStream's 64 KiB chunk boundaries too
    const line = `2024-01-01T00:00:00Z gateway: request with Authorization: Bearer ${KEY} refused\n`;
    const lines = Math.ceil((65 * 1024 * 1024) / line.length);
    await writeFile(big, line.repeat(lines));
    expect((await stat(big)).size).toBeGreaterThan(64 * 1024 * 1024);
    // one line longer than anything held back, with the key in the middle
    const long = join(dir, 'node', 'long.log');
    await writeFile(long, `${'a'.repeat(1.5 * 1024 * 1024)} ${KEY} ${'b'.repeat(1.5 * 1024 * 1024)}`);
    await maskTree(dir);
    let count = 0;
    let rest = '';
    for await (const chunk of createReadStream(big, 'utf8')) {
      const t = rest + (chunk as string);
      expect(t).not.toContain('adm"in');
      const end = t.lastIndexOf('\n') + 1;
      count += t.slice(0, end).split('Bearer *** refused\n').length - 1;
      rest = t.slice(end);
    }
    expect(count).toBe(lines);
    const longText = await readFile(long, 'utf8');
    expect(longText).not.toContain(KEY);
    expect(longText).toContain(' *** ');
  }, 120_000);
});
