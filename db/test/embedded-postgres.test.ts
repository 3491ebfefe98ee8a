import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../src/local-database.ts';

/** Runs a script in a fresh Node process (with tsx) from the repository root. */
function node(script: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('embedded PostgreSQL at process exit', () => {
  const dataDir = () => path.join(os.tmpdir(), `airq-embedded-exit-${process.pid}-${Date.now()}`);

  it('exits 0 with nothing on stderr after the server was stopped (the package hook threw "done is not a function")', () => {
    const { status, stderr } = node(`
      import { startEmbeddedPostgres } from './db/src/embedded-postgres.ts';
      const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir())}, persistent: false });
      await server.stop();
    `);
    expect(stderr).to.equal('');
    expect(status).to.equal(0);
  });

  it('interrupts a server still running when the process exits, keeping its exit code', async () => {
    const { status, stderr } = node(`
      import { startEmbeddedPostgres } from './db/src/embedded-postgres.ts';
      const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir())}, persistent: false });
      console.error(server.pid);
      process.exit(3);
    `);
    expect(status).to.equal(3);
    const pid = Number(stderr.trim());
    expect(pid).to.be.greaterThan(0);
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        alive = false;
      }
    }
    expect(alive, `postmaster ${pid} outlived the process that started it`).to.equal(false);
  });
});
