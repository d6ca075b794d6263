// Reads a YAML chart profile (scripts/profiles/builtin/*.yaml, or a team's own with --profile),
// resolves its `extends:` chain, validates it against profile.schema.json and turns it into the
// runtime ChartProfile the targets and suites use. A bad profile is a UserError (exit 2) naming the
// file, the path in it and what was expected, before anything is provisioned.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { UserError } from '../errors.ts';
import {
  type Condition,
  deepMerge,
  IMAGE_PLACEHOLDERS,
  imageContext,
  type Overlay,
  placeholdersFor,
  placeholdersIn,
  renderValues,
  replacedDefaults,
  substitute,
  type Values,
} from './render.ts';
import type { ChartProfile, CompanionChart, StandInImage } from './types.ts';

export const BUILTIN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'builtin');
const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), 'profile.schema.json');

/** A profile file as written (after `extends:` is resolved): what the schema describes. */
export interface ProfileDocument extends Record<string, unknown> {
  name: string;
  writtenFor?: { versions?: string[]; commits?: string[] };
  values: Values;
  when?: Overlay[];
  companions?: { name: string; path: string; chartName: string; version: string; replaceDefaults?: string[]; values: Values; when?: Overlay[] }[];
  corrections?: { values?: { paths: string[]; set: Values } }[];
  app?: { valuesPath: string; standIn?: { image: StandInImage; values: Values } };
}

type Validator = ReturnType<Ajv2020['compile']>;
let validators: { complete: Validator; partial: Validator } | undefined;

/** The schema without its required fields: what a file that `extends:` another (or a base) must meet on its own. */
function partialOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(partialOf);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !['required', 'if', 'then', 'else'].includes(k)).map(([k, v]) => [k, partialOf(v)]));
}

/** The schema's errors for a complete profile, or for a partial one (a base, or a file that extends one). */
function validate(doc: unknown, kind: 'complete' | 'partial' = 'complete'): ErrorObject[] {
  if (!validators) {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
    validators = { complete: ajv.compile(schema), partial: ajv.compile({ ...(partialOf(schema) as object), $id: String(schema["$id"]).replace(".schema.json", ".partial.schema.json") }) };
  }
  const v = validators[kind];
  return v(doc) ? [] : (v.errors ?? []);
}

/** ajv's `/features/ratelimit.per-key` as the dotted path a reader finds in the file. */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
}

/** The schema's errors as sentences, in order; a map's missing keys make one sentence. */
function describeAll(errors: ErrorObject[]): string[] {
  const sentences = new Map<string, string[]>(); // key → missing keys, or the one sentence
  for (const e of errors) {
    if (e.keyword === 'required') {
      const at = dotted(e.instancePath);
      const missing = `${at ? `${at}.` : ''}${(e.params as { missingProperty: string }).missingProperty}`;
      sentences.set(`required ${at}`, [...(sentences.get(`required ${at}`) ?? []), `\`${missing}\``]);
    } else {
      const d = describe(e);
      if (d) sentences.set(d, [d]);
    }
  }
  return [...sentences].map(([key, parts]) =>
    key.startsWith('required ') ? `${parts.join(', ')} ${parts.length > 1 ? 'are' : 'is'} missing (required)` : parts[0]!,
  );
}

function describe(e: ErrorObject): string | undefined {
  const at = dotted(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
  switch (e.keyword) {
    case 'if':
    case 'oneOf': // its branches' own errors say more
      return undefined;
    case 'additionalProperties':
      return `\`${join(at, String(p['additionalProperty']))}\` is not a known key here (expected one of: ${Object.keys((e.parentSchema as { properties?: object }).properties ?? {}).join(', ')})`;
    case 'enum':
      return `\`${at}\` must be one of: ${(p['allowedValues'] as unknown[]).join(', ')}`;
    case 'const':
      return `\`${at}\` must be ${JSON.stringify(p['allowedValue'])}`;
    default:
      return `\`${at || '(top)'}\` ${e.message ?? 'is not valid'}`;
  }
}

function fail(file: string, problems: string[]): never {
  const unique = [...new Set(problems)];
  throw new UserError(
    `The chart profile ${file} is not valid: ${unique.slice(0, 8).join('; ')}${unique.length > 8 ? `; and ${unique.length - 8} more` : ''}. ` +
      'Fix the profile (its schema is scripts/profiles/profile.schema.json; editors that read the `# yaml-language-server: $schema=` line check it as you type).',
  );
}

function readYaml(file: string): Values {
  if (!existsSync(file)) throw new UserError(`The chart profile ${file} does not exist. Pass the path of a profile YAML file, or a built-in name (${builtinNames().join(', ')}).`);
  const doc = parseDocument(readFileSync(file, 'utf8'), { merge: true });
  if (doc.errors.length) fail(file, doc.errors.map((e) => `YAML syntax at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`));
  const data: unknown = doc.toJS();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail(file, ['the file must hold a map of profile fields']);
  return data as Values;
}

/** `extends:` names a built-in profile, or a file relative to the profile that says it. */
function basePath(ref: string, from: string): string {
  if (/^[a-z0-9][a-z0-9.-]*$/.test(ref) && !ref.endsWith('.yaml') && !ref.endsWith('.yml')) return join(BUILTIN_DIR, `${ref}.yaml`);
  return isAbsolute(ref) ? ref : resolve(dirname(from), ref);
}

/** The file merged over its `extends:` chain (maps merge, lists are replaced). */
function resolveChain(file: string, seen: string[] = []): Values {
  if (seen.includes(file)) fail(file, [`\`extends\` goes round in a circle: ${[...seen, file].join(' → ')}`]);
  const own = readYaml(file);
  const errors = describeAll(validate(own, 'extends' in own || own['abstract'] === true ? 'partial' : 'complete'));
  if (errors.length) fail(file, errors);
  const { extends: ref, abstract: _abstract, ...rest } = own;
  if (typeof ref !== 'string') return own;
  const base = basePath(ref, file);
  if (!existsSync(base)) fail(file, [`\`extends\` names "${ref}", which is neither a built-in profile (${builtinNames().join(', ')}) nor a file (${base})`]);
  const { abstract: _baseAbstract, ...inherited } = resolveChain(base, [...seen, file]);
  return deepMerge(inherited, rest);
}

/** Placeholders each values tree may use; an unknown one or one outside its overlay fails the load. */
function checkPlaceholders(file: string, doc: ProfileDocument): void {
  const problems: string[] = [];
  const check = (tree: unknown, at: string, allowed: string[]) => {
    for (const { path, name } of placeholdersIn(tree, at)) {
      if (!allowed.includes(name)) problems.push(`\`${path}\` uses \${${name}}, which is not one of: ${allowed.join(', ')}`);
    }
  };
  const overlays = (list: Overlay[] | undefined, at: string) => list?.forEach((o, i) => check(o.values, `${at}[${i}].values`, placeholdersFor(o.has)));
  check(doc.values, 'values', placeholdersFor());
  overlays(doc.when, 'when');
  doc.companions?.forEach((c, i) => {
    check(c.values, `companions[${i}].values`, placeholdersFor());
    overlays(c.when, `companions[${i}].when`);
  });
  if (doc.app?.standIn) check(doc.app.standIn.values, 'app.standIn.values', IMAGE_PLACEHOLDERS);
  if (problems.length) fail(file, problems);
}

/** The runtime profile a document describes: its values become functions of the run's wiring. */
function toProfile(doc: ProfileDocument, file: string): ChartProfile {
  const { extends: _e, abstract: _a, writtenFor, values, when, companions, app, ...data } = doc;
  const source = data['source'] as ChartProfile['source'];
  const profile = {
    ...data,
    corrections: (data['corrections'] as ChartProfile['corrections'] | undefined) ?? [],
    values: (w) => renderValues(values, when ?? [], w),
    ...(companions
      ? {
          companions: companions.map(
            (c): CompanionChart => ({
              name: c.name,
              path: c.path,
              chartName: c.chartName,
              version: c.version,
              values: (w, defaults) => renderValues(c.values, c.when ?? [], w, replacedDefaults(c.replaceDefaults ?? [], defaults)),
            }),
          ),
        }
      : {}),
    ...(app
      ? {
          app: {
            valuesPath: app.valuesPath,
            ...(app.standIn
              ? { standIn: { image: app.standIn.image, values: (ref: string) => substitute(app.standIn!.values, imageContext(ref)) as Values } }
              : {}),
          },
        }
      : {}),
  } as ChartProfile;
  // not enumerable: JSON of a profile (and what the suites receive) stays the runtime shape
  Object.defineProperty(profile, 'origin', {
    value: { file, document: doc, writtenFor: writtenFor ?? { versions: [source.version], commits: source.kind === 'git' ? [source.commit] : [] } },
    enumerable: false,
  });
  return profile;
}

/** A profile file, its `extends:` chain resolved, validated and ready to run. */
export function loadProfile(file: string): ChartProfile {
  const path = resolve(file);
  if (readYaml(path)['abstract'] === true) fail(path, ['it is `abstract: true`, a base for other profiles: write a profile that `extends:` it']);
  const { extends: _e, abstract: _a, ...complete } = resolveChain(path);
  // merged, the profile must be complete (the schema's `then:` applies to a file with no extends)
  const errors = describeAll(validate(complete));
  if (errors.length) fail(path, errors);
  checkPlaceholders(path, complete as ProfileDocument);
  return toProfile(complete as ProfileDocument, path);
}

/** Where a profile came from and what it was written for (set by the loader, not in JSON). */
export interface ProfileOrigin {
  file: string;
  document: ProfileDocument;
  writtenFor: { versions?: string[]; commits?: string[] };
}

export function originOf(profile: ChartProfile): ProfileOrigin | undefined {
  return (profile as ChartProfile & { origin?: ProfileOrigin }).origin;
}

/** The built-in profiles' names: the YAML files in builtin/ that are not bases. */
export function builtinNames(): string[] {
  return BUILTIN_ORDER;
}

/** The order `--help` and the tests list them in. */
const BUILTIN_ORDER = ['routeiq', 'llm-proxy', 'litellm-proxy', 'ai-gateway-core'];

export function loadBuiltins(): ChartProfile[] {
  return BUILTIN_ORDER.map((n) => loadProfile(join(BUILTIN_DIR, `${n}.yaml`)));
}

export type { Condition };
