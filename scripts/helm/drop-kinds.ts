#!/usr/bin/env node
// A Helm post-renderer (`helm install --post-renderer`): reads the rendered manifests on stdin,
// writes them back without the documents of the given kinds, and records what it removed so the
// harness can report it (a correction applied to a chart is a failing check, never silent).
//
//   drop-kinds.ts --kind BackendTLSPolicy [--kind OTHER] [--record removed.jsonl]
//
// The record holds one JSON object per removed document: {"kind","name","namespace"}.
import { appendFileSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

function usage(why: string): never {
  process.stderr.write(`drop-kinds: ${why}. Usage: drop-kinds.ts --kind KIND [--kind KIND...] [--record FILE] < manifests.yaml\n`);
  process.exit(2);
}

const kinds = new Set<string>();
let record: string | undefined;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const value = () => argv[++i] ?? usage(`${a} needs a value`);
  if (a === '--kind') kinds.add(value());
  else if (a === '--record') record = value();
  else usage(`unknown argument "${a}"`);
}
if (kinds.size === 0) usage('no --kind given');

const docs = parseAllDocuments(readFileSync(0, 'utf8'));
const kept: string[] = [];
for (const doc of docs) {
  if (doc.errors.length > 0) {
    process.stderr.write(`drop-kinds: the rendered manifests are not valid YAML: ${doc.errors[0]!.message}\n`);
    process.exit(1);
  }
  const obj = doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
  if (obj && typeof obj === 'object' && obj.kind && kinds.has(obj.kind)) {
    const entry = { kind: obj.kind, name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace ?? '' };
    if (record) appendFileSync(record, `${JSON.stringify(entry)}\n`);
    continue;
  }
  if (obj !== null) kept.push(doc.toString().trimEnd());
}
process.stdout.write(kept.length ? `---\n${kept.join('\n---\n')}\n` : '');
