// Ctrl-C in the middle of a run: the CLI cleans up what it started (gateway process, mock,
// tunnels) and exits 130. Checked on the real llm-proxy local target.
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { isInstalled } from '../scripts/local/paths.ts';
import { pidAlive } from '../scripts/local/process.ts';
import { descendants } from './cluster/live-run.ts';
import { requireInCI } from './prerequisite.ts';

const installed = requireInCI('llm-proxy (local install)', isInstalled('llm-proxy'), 'run scripts/setup-local.sh');

test.skipIf(!installed)('Ctrl-C during the suites stops every process the run started and exits 130', async () => {
  const cli = execa(process.execPath, ['scripts/cli.ts', '--chart', 'llm-proxy', '--target', 'local', '--suites', 'keys', '--report-dir', '/tmp/gs-interrupt-report'], {
    reject: false,
    all: true,
    env: { FORCE_COLOR: '0' },
  });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the run never reached the suites:\n${seen}`)), 90_000);
    cli.all!.on('data', (b: Buffer) => {
      seen += b.toString();
      if (seen.includes('▶ run suites')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const started = await descendants(cli.pid!);
  expect(started.length, 'the run should have started the gateway as a child process').toBeGreaterThan(0);
  cli.kill('SIGINT');
  const r = await cli;
  expect(r.exitCode, r.all).toBe(130);
  expect(r.all).toMatch(/SIGINT received: cleaning up/);
  await expect.poll(() => started.filter(pidAlive), { timeout: 10_000, message: 'processes left behind after Ctrl-C' }).toEqual([]);
});
