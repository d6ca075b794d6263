// A real OCI registry for tests: the CNCF distribution registry binary (scripts/setup-ci-tools.sh
// registry) on a loopback port, storage in a temp dir, optionally behind token auth; and a push of a
// small image through the distribution API, so no docker is needed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { freePort } from './free-port.ts';

export const REGISTRY_BIN = join(homedir(), '.cache/gateway-smoke/bin/registry');
export const registryBinPresent = (): boolean => existsSync(REGISTRY_BIN);

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate whose key signs the tokens. */
  certFile: string;
}

export interface Registry {
  /** http://127.0.0.1:<port> */
  url: string;
  /** 127.0.0.1:<port>, as an image reference names it */
  host: string;
  stop(): Promise<void>;
}


export async function startRegistry(dir: string, auth?: TokenAuth): Promise<Registry> {
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(auth
      ? ['auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    rootcertbundle: ${auth.certFile}`]
      : []),
  ].join('\n');
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, `${config}\n`);
  const proc: ResultPromise = execa(REGISTRY_BIN, ['serve', configFile], {
    all: true,
    buffer: { all: true },
    reject: false,
    // v3 exports traces over OTLP by default; nothing listens for them here
    env: { OTEL_TRACES_EXPORTER: 'none' },
  });
  let exited = false;
  void proc.finally(() => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill('SIGTERM');
    await proc;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`registry exited: ${(await proc).all}`);
    try {
      const res = await request(`${url}/v2/`);
      await res.body.dump();
      if (res.statusCode === 200 || res.statusCode === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`registry did not answer on ${url} within 20 s: ${(await proc).all}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, host: `127.0.0.1:${port}`, stop };
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function expectStatus(res: Awaited<ReturnType<typeof request>>, want: number, what: string): Promise<void> {
  if (res.statusCode !== want) throw new Error(`${what}: HTTP ${res.statusCode} ${await res.body.text()}`);
  await res.body.dump();
}

/**
 * Pushes a one-layer image (an empty tar) as `name:tag`; returns the manifest's digest as the
 * registry reports it. `authorization` is sent with every request when the registry wants a token.
 */
export async function pushImage(base: string, name: string, tag: string, authorization?: string): Promise<string> {
  const auth = authorization ? { authorization } : {};
  const layer = gzipSync(Buffer.alloc(1024));
  const configBlob = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(Buffer.alloc(1024))] } }),
  );
  for (const blob of [layer, configBlob]) {
    const start = await request(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: auth });
    await expectStatus(start, 202, `start upload to ${name}`);
    const location = new URL(String(start.headers['location']), base);
    location.searchParams.set('digest', sha256(blob));
    const put = await request(location.toString(), {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
      body: blob,
    });
    await expectStatus(put, 201, `upload blob to ${name}`);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configBlob), size: configBlob.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  const res = await request(`${base}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  const digest = String(res.headers['docker-content-digest']);
  await expectStatus(res, 201, `put manifest ${name}:${tag}`);
  if (digest !== sha256(manifest)) throw new Error(`the registry stored ${name}:${tag} as ${digest}, not ${sha256(manifest)}`);
  return digest;
}
