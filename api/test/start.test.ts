import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import getPort from 'get-port';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

describe('npm start without DATABASE_URL', function () {
  this.timeout(180_000);

  it('starts an embedded PostgreSQL, migrates, seeds the bundled dataset and serves it', async () => {
    // Not created here: under root the package creates it for its `postgres` user, which a 0700 mkdtemp would lock out.
    const dataDir = path.join(os.tmpdir(), `airq-start-${process.pid}-${randomBytes(3).toString('hex')}`);
    const port = await getPort();
    const env: NodeJS.ProcessEnv = { ...process.env, AIRQ_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    // `npm start` is `tsx api/src/server.ts`; the same entry point through the same loader.
    const child = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let ready: { status: string; dataset: string | null } | undefined;
      for (let i = 0; i < 1200 && child.exitCode === null; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        if (response?.status === 200) {
          ready = (await response.json()) as typeof ready;
          break;
        }
        await sleep(100);
      }
      const bundled = createHash('sha256')
        .update(readFileSync(path.join(REPO_ROOT, 'db/data/environment_airq_measurand.csv')))
        .digest('hex');
      expect(ready, 'readiness of the started server').to.deep.include({
        status: 'ready',
        dataset: bundled.slice(0, 12),
      });
      const page = (await (await fetch(`http://127.0.0.1:${port}/air_quality`)).json()) as {
        count: number;
        dataset: { version: string };
      };
      expect(page.count).to.equal(100);
      expect(page.dataset.version).to.equal(bundled.slice(0, 12));
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
