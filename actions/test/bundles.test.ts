import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

const run = promisify(execFile);

async function check(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['actions/build.mjs', '--check', ...args], {
      cwd: REPO_ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const actionNames = readdirSync(path.join(REPO_ROOT, 'actions', 'src'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(REPO_ROOT, 'actions', 'src', entry.name, 'main.ts')))
  .map((entry) => entry.name);

describe('action bundles', function () {
  this.timeout(120_000);

  it('are committed for every action and identical to a fresh build of their sources', async function () {
    expect(actionNames.length, 'no actions under actions/src').to.be.greaterThan(0);
    const result = await check();
    expect(result.code, result.stderr).to.equal(0);
  });

  it('are reported stale by name, with the fix, when a committed bundle differs from its sources', async function () {
    const scratch = mkdtempSync(path.join(tmpdir(), 'airq-bundles-'));
    try {
      for (const name of actionNames) {
        const dist = path.join(REPO_ROOT, 'actions', name, 'dist');
        if (existsSync(dist)) cpSync(dist, path.join(scratch, name, 'dist'), { recursive: true });
      }
      const victim = actionNames[0] ?? '';
      writeFileSync(path.join(scratch, victim, 'dist', 'index.js'), '// edited by hand\n', { flag: 'a' });
      const result = await check('--dist-root', scratch);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.include(`actions/${victim}/dist/index.js differs`);
      expect(result.stderr).to.include('npm run build:actions');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
