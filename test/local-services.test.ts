// Throwaway PostgreSQL and Redis servers on loopback (Debian packages, installed by
// scripts/setup-local.sh): they answer, and stop() kills them and removes their temp dir.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { isInstalled, postgresBinDir } from '../scripts/local/paths.ts';
import { pidAlive, tcpExchange } from '../scripts/local/process.ts';
import { startPostgres } from '../scripts/local/postgres.ts';
import { startRedis } from '../scripts/local/redis.ts';
import { requireInCI } from './prerequisite.ts';

const pg = requireInCI('PostgreSQL (Debian package)', isInstalled('postgres'), 'no /usr/lib/postgresql/*/bin/postgres; run scripts/setup-local.sh apt');
const redis = requireInCI('redis-server (Debian package)', isInstalled('redis'), 'no redis-server; run scripts/setup-local.sh apt');

describe('local services', () => {
  test.skipIf(!pg)('postgres: starts on a free loopback port, creates the database, answers SQL, stop() removes everything', async () => {
    const db = await startPostgres({ database: 'litellm' });
    try {
      expect(db.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/litellm$/);
      const r = await execa(`${postgresBinDir()}/psql`, [db.url, '-At', '-c', 'select current_database(), 6*7'], { reject: false, all: true });
      expect(r.all).toBe('litellm|42');
    } finally {
      await db.stop();
    }
    expect(pidAlive(db.pid)).toBe(false);
    expect(existsSync(db.dir)).toBe(false);
    await expect(tcpExchange('127.0.0.1', db.port)).rejects.toThrow();
  }, 90_000);

  test.skipIf(!redis)('redis: answers PING, stop() kills it and removes its dir', async () => {
    const r = await startRedis({ password: 'redis-secret-pw' });
    try {
      expect(r.url).toMatch(/^redis:\/\/:redis-secret-pw@127\.0\.0\.1:\d+$/);
      expect(await tcpExchange('127.0.0.1', r.port, 'PING\r\n')).toMatch(/NOAUTH/);
      expect(await tcpExchange('127.0.0.1', r.port, 'AUTH redis-secret-pw\r\nSET k v\r\nGET k\r\n', 'v\r\n')).toContain('$1\r\nv');
    } finally {
      await r.stop();
    }
    expect(pidAlive(r.pid)).toBe(false);
    expect(existsSync(r.dir)).toBe(false);
  }, 60_000);
});
