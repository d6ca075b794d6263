// The manifest check behind `--images auto`, against the real CNCF distribution registry on loopback
// (images pushed through its API by the test), once open and once behind token auth with a token
// service the test runs in place of ghcr.io's; a forward proxy shows HTTP_PROXY/NO_PROXY are obeyed.
import { execaSync } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decideAppImage } from '../scripts/cluster/app-image.ts';
import { apiHostOf, isLoopbackRegistry, parseImageRef } from '../scripts/cluster/image-ref.ts';
import { bearerChallenge, checkManifest, registryBaseUrl } from '../scripts/cluster/manifest.ts';
import { parseRegistryMirrors } from '../scripts/cluster/registry-mirrors.ts';
import { UserError } from '../scripts/errors.ts';
import { freePort } from './free-port.ts';
import { pushImage, REGISTRY_BIN, registryBinPresent, startRegistry, type Registry } from './oci-registry.ts';
import { requireInCI } from './prerequisite.ts';
import { startTokenService, type TokenService } from './token-service.ts';

const haveRegistry = requireInCI(`the CNCF registry binary ${REGISTRY_BIN}`, registryBinPresent(), 'run `bash scripts/setup-ci-tools.sh registry` (builds it with Go in ~3 min)');
const haveOpenssl = requireInCI('openssl', execaSync('openssl', ['version'], { reject: false }).exitCode === 0, 'install openssl (apt-get install openssl)');

describe('image references, as Docker reads them', () => {
  test('registry, repository and tag or digest', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    expect(parseImageRef('llm-proxy:latest')).toEqual({ registry: 'docker.io', name: 'library/llm-proxy', reference: 'latest' });
    expect(parseImageRef('redis')).toEqual({ registry: 'docker.io', name: 'library/redis', reference: 'latest' });
    expect(parseImageRef('bitnami/redis:7.2')).toEqual({ registry: 'docker.io', name: 'bitnami/redis', reference: '7.2' });
    expect(parseImageRef('index.docker.io/redis:7')).toEqual({ registry: 'docker.io', name: 'library/redis', reference: '7' });
    expect(parseImageRef('ghcr.io/berriai/litellm-database:main-v1.81.3')).toEqual({ registry: 'ghcr.io', name: 'berriai/litellm-database', reference: 'main-v1.81.3' });
    expect(parseImageRef(`localhost:5000/a/b:1@${digest}`)).toEqual({ registry: 'localhost:5000', name: 'a/b', reference: digest });
    expect(parseImageRef(`ghcr.io/x/y@${digest}`).reference).toBe(digest);
    expect(parseImageRef('localhost/x').registry).toBe('localhost');
    for (const bad of ['(unset):latest', 'UPPER:1', 'x:bad tag', `x@sha256:zz`, 'a//b']) expect(() => parseImageRef(bad)).toThrow(/is not an image reference/);
  });

  test("docker.io's API host, and plain http only on loopback", () => {
    expect(apiHostOf('docker.io')).toBe('registry-1.docker.io');
    expect(registryBaseUrl('docker.io', new Map())).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('ghcr.io', new Map())).toBe('https://ghcr.io');
    expect(registryBaseUrl('localhost:5000', new Map())).toBe('http://localhost:5000');
    expect(registryBaseUrl('127.0.0.1:5001', new Map())).toBe('http://127.0.0.1:5001');
    expect(isLoopbackRegistry('registry.example.com:5000')).toBe(false);
    expect(registryBaseUrl('ghcr.io', new Map([['ghcr.io', 'http://127.0.0.1:5001']]))).toBe('http://127.0.0.1:5001');
  });

  test('a Bearer challenge gives realm and service; Basic is none', () => {
    expect(bearerChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"')).toEqual({ realm: 'https://ghcr.io/token', service: 'ghcr.io' });
    expect(bearerChallenge('bearer realm=https://auth.example/t')).toEqual({ realm: 'https://auth.example/t', service: undefined });
    expect(bearerChallenge('Basic realm="Registry"')).toBeUndefined();
    expect(bearerChallenge(undefined)).toBeUndefined();
  });
});

describe('GATEWAY_SMOKE_REGISTRY_MIRRORS', () => {
  test('a comma list of host=url', () => {
    expect(parseRegistryMirrors('docker.io=http://127.0.0.1:5001/, ghcr.io=http://127.0.0.1:5001')).toEqual(
      new Map([
        ['docker.io', 'http://127.0.0.1:5001'],
        ['ghcr.io', 'http://127.0.0.1:5001'],
      ]),
    );
    expect(parseRegistryMirrors('')).toEqual(new Map());
  });

  test('a malformed entry is a one-paragraph usage error naming it', () => {
    for (const [text, why] of [
      ['docker.io', /no `=` between/],
      ['docker.io=', /no URL after/],
      ['=http://x', /no `host=`/],
      ['docker.io=127.0.0.1:5001', /not a URL/],
      ['docker.io=ftp://127.0.0.1:5001', /not an http or https URL/],
      ['docker.io=not a url', /not a URL/],
      ['http://docker.io=http://x', /not a registry host/],
      ['docker.io=http://u:secret@x', /plain base URL/],
      ['docker.io=http://a,docker.io=http://b', /given twice/],
    ] as const) {
      let err: unknown;
      try {
        parseRegistryMirrors(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).message).toMatch(why);
      expect((err as UserError).message).not.toContain('\n');
    }
  });
});

/** A forward proxy for plain-http targets (absolute-form request lines), recording what it forwarded. */
async function startForwardProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const upstream = httpRequest(req.url!, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe.runIf(haveRegistry)('against the real registry, open', () => {
  let dir: string;
  let reg: Registry;
  let digest: string;
  const env = {}; // no proxy, no mirrors: nothing from this machine's environment leaks in

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gs-manifest-'));
    reg = await startRegistry(dir);
    digest = await pushImage(reg.url, 'gs/app', '1.0');
  });
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('present, with the digest the push produced, by tag and by digest', async () => {
    const byTag = await checkManifest(`${reg.host}/gs/app:1.0`, { env });
    expect(byTag).toEqual({ kind: 'present', digest, detail: `HEAD ${reg.url}/v2/gs/app/manifests/1.0 answered HTTP 200 (${digest})` });
    const byDigest = await checkManifest(`${reg.host}/gs/app@${digest}`, { env });
    expect(byDigest).toMatchObject({ kind: 'present', digest });
  });

  test('manifest unknown for a tag or repository the registry does not have', async () => {
    expect(await checkManifest(`${reg.host}/gs/app:2.0`, { env })).toEqual({ kind: 'manifest unknown', detail: `HEAD ${reg.url}/v2/gs/app/manifests/2.0 answered HTTP 404` });
    expect((await checkManifest(`${reg.host}/gs/nothing:1.0`, { env })).kind).toBe('manifest unknown');
    expect((await checkManifest(`${reg.host}/gs/app@sha256:${'0'.repeat(64)}`, { env })).kind).toBe('manifest unknown');
  });

  test('registry unreachable on a closed port, and on one that never answers, with the error code', async () => {
    const port = await freePort();
    expect(await checkManifest(`127.0.0.1:${port}/gs/app:1.0`, { env })).toEqual({
      kind: 'registry unreachable',
      code: 'ECONNREFUSED',
      detail: `HEAD http://127.0.0.1:${port}/v2/gs/app/manifests/1.0 failed: ECONNREFUSED`,
    });
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const m = await checkManifest(`127.0.0.1:${(silent.address() as { port: number }).port}/gs/app:1.0`, { env, timeoutMs: 300 });
      expect(m.kind).toBe('registry unreachable');
      expect(m.kind === 'registry unreachable' ? m.code : '').toMatch(/^(TimeoutError|UND_ERR_HEADERS_TIMEOUT)$/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test("mirrors stand in for docker.io and ghcr.io, with Docker's name rules (the llm-proxy case)", async () => {
    const redis = await pushImage(reg.url, 'library/redis', '7');
    const litellm = await pushImage(reg.url, 'berriai/litellm-database', 'main-v1.81.3');
    const mirrored = { GATEWAY_SMOKE_REGISTRY_MIRRORS: `docker.io=${reg.url},ghcr.io=${reg.url}/` };
    expect(await checkManifest('redis:7', { env: mirrored })).toMatchObject({ kind: 'present', digest: redis });
    expect(await checkManifest('ghcr.io/berriai/litellm-database:main-v1.81.3', { env: mirrored })).toMatchObject({ kind: 'present', digest: litellm });

    // llm-proxy's chart names llm-proxy:latest, which no registry serves: auto runs the stand-in and says so
    const missing = await checkManifest('llm-proxy:latest', { env: mirrored });
    expect(missing).toEqual({ kind: 'manifest unknown', detail: `HEAD ${reg.url}/v2/library/llm-proxy/manifests/latest answered HTTP 404` });
    const facts = { chart: 'llm-proxy', chartImage: 'llm-proxy:latest', hasStandIn: true, onEveryNode: false, manifest: missing };
    expect(decideAppImage('auto', facts)).toEqual({ use: 'local', chartImage: 'llm-proxy:latest', why: `manifest unknown for llm-proxy:latest (${missing.detail})` });
    expect(() => decideAppImage('chart', facts)).toThrow(/--images chart: the chart's image llm-proxy:latest cannot be pulled: manifest unknown/);
    expect(decideAppImage('auto', { ...facts, chartImage: 'redis:7', manifest: await checkManifest('redis:7', { env: mirrored }) }).use).toBe('chart');
  });

  test('HTTP_PROXY carries the request; NO_PROXY exempts the host', async () => {
    const proxy = await startForwardProxy();
    try {
      const via = await checkManifest(`${reg.host}/gs/app:1.0`, { env: { HTTP_PROXY: proxy.url } });
      expect(via).toMatchObject({ kind: 'present', digest });
      expect(proxy.seen).toEqual([`HEAD ${reg.url}/v2/gs/app/manifests/1.0`]);

      const direct = await checkManifest(`${reg.host}/gs/app:1.0`, { env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } });
      expect(direct.kind).toBe('present');
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
    // a proxy that is down makes the registry unreachable, though the registry itself is up
    const dead = `http://127.0.0.1:${await freePort()}`;
    expect((await checkManifest(`${reg.host}/gs/app:1.0`, { env: { http_proxy: dead } })).kind).toBe('registry unreachable');
  });
});

describe.runIf(haveRegistry && haveOpenssl)('against the real registry behind token auth (the ghcr.io / Docker Hub flow)', () => {
  let dir: string;
  let reg: Registry;
  let tokens: TokenService;
  let digest: string;
  const env = {};
  const service = 'gs-test-registry';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gs-manifest-token-'));
    tokens = await startTokenService(dir, { service, issuer: 'gs-test-issuer' });
    reg = await startRegistry(dir, { realm: tokens.realm, service, issuer: 'gs-test-issuer', certFile: tokens.certFile });
    // the test pushes with a push token of its own; the check only ever asks for pull
    const res = await request(`${tokens.realm}?service=${service}&scope=repository:gs/app:pull,push`);
    const { token } = (await res.body.json()) as { token: string };
    digest = await pushImage(reg.url, 'gs/app', '1.0', `Bearer ${token}`);
    tokens.requests.length = 0;
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('without a token the registry refuses (so the flow below is what lets the check in)', async () => {
    const res = await request(`${reg.url}/v2/gs/app/manifests/1.0`, { method: 'HEAD' });
    await res.body.dump();
    expect(res.statusCode).toBe(401);
    expect(String(res.headers['www-authenticate'])).toContain(`realm="${tokens.realm}"`);
  });

  test('an anonymous pull token is fetched for exactly this repository, and the manifest is present', async () => {
    const m = await checkManifest(`${reg.host}/gs/app:1.0`, { env });
    expect(m).toEqual({
      kind: 'present',
      digest,
      detail: `HEAD ${reg.url}/v2/gs/app/manifests/1.0 with an anonymous token from ${tokens.realm} answered HTTP 200 (${digest})`,
    });
    expect(tokens.requests.map((q) => [q.get('service'), q.getAll('scope')])).toEqual([[service, ['repository:gs/app:pull']]]);

    tokens.field = 'access_token';
    try {
      expect(await checkManifest(`${reg.host}/gs/app@${digest}`, { env })).toMatchObject({ kind: 'present', digest });
    } finally {
      tokens.field = 'token';
    }
    expect(await checkManifest(`${reg.host}/gs/app:9.9`, { env })).toMatchObject({ kind: 'manifest unknown' });
  });

  test('unauthorized when the token service refuses', async () => {
    tokens.refuse = true;
    try {
      const m = await checkManifest(`${reg.host}/gs/app:1.0`, { env });
      expect(m.kind).toBe('unauthorized');
      expect(m.detail).toBe(`GET ${tokens.realm} (anonymous pull token for gs/app) answered HTTP 401: no anonymous pull`);
    } finally {
      tokens.refuse = false;
    }
  });
});
