// A stand-in for a registry's token service (ghcr.io's and Docker Hub's are not ours to test
// against): GET /token?service=…&scope=repository:<name>:<actions> answers a JWT signed with a key
// made by openssl, carrying its certificate in the x5c header as distribution's token auth verifies it
// against its rootcertbundle. `refuse` makes it answer 401 as a service does for a private repository.
import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';

export interface TokenService {
  realm: string;
  certFile: string;
  /** Every request's query, in order: what the client asked for. */
  requests: URLSearchParams[];
  refuse: boolean;
  /** Docker Hub's service answers `token`, OAuth-style ones `access_token`: the test picks. */
  field: 'token' | 'access_token';
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenService(dir: string, claims: { service: string; issuer: string }): Promise<TokenService> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=gateway-smoke test token service']);
  const key = await readFile(keyFile, 'utf8');
  const certDer = (await readFile(certFile, 'utf8')).replace(/-----[^-]+-----|\s/g, '');

  const sign = (access: { type: string; name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer] }));
    const payload = b64url(JSON.stringify({ iss: claims.issuer, sub: '', aud: claims.service, exp: now + 300, nbf: now - 10, iat: now, jti: `${now}-${Math.random()}`, access }));
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
    return `${header}.${payload}.${b64url(signature)}`;
  };

  const svc: TokenService = { realm: '', certFile, requests: [], refuse: false, field: 'token', close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    svc.requests.push(query);
    if (svc.refuse) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"access denied"}]}');
      return;
    }
    // scope=repository:<name>:<a,b>; every action asked for is granted (the test decides who asks)
    const access = query.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type: type!, name: name!, actions: (actions ?? '').split(',') };
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ [svc.field]: sign(access), expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  svc.realm = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
  svc.close = () => new Promise<void>((r) => server.close(() => r()));
  return svc;
}
