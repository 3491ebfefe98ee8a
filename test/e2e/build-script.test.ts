import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILD_SCRIPT } from '../../e2e/harness/tools.ts';

/**
 * The cache logic of e2e/tools/build.sh, on a scratch cache: reuse, redo of a half build, locking. These runs never
 * build (a build takes minutes); the real builds are exercised by every e2e suite and by .ci/run.
 */

const TOOLS = ['kubernetes-v1.35.4', 'etcd-v3.6.16', 'kwok-v0.7.0'];

/** PATH without any directory holding `go`, so a build attempt would show. */
const PATH_WITHOUT_GO = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => dir && !existsSync(path.join(dir, 'go')))
  .join(path.delimiter);

function fakeTool(cache: string, tool: string, complete: boolean): void {
  mkdirSync(path.join(cache, tool, 'bin'), { recursive: true });
  if (complete) writeFileSync(path.join(cache, tool, '.complete'), '2026-01-01T00:00:00Z\n');
}

function runScript(cache: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('bash', [BUILD_SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, PATH: PATH_WITHOUT_GO, AIRQ_TOOLS_CACHE: cache },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('e2e/tools/build.sh', function () {
  let cache: string;

  beforeEach(() => {
    cache = mkdtempSync(path.join(tmpdir(), 'airq-tools-cache-'));
  });
  afterEach(() => rmSync(cache, { recursive: true, force: true }));

  it('reuses every tool whose directory carries the completion marker, without needing Go, and links them into one directory', function () {
    for (const tool of TOOLS) fakeTool(cache, tool, true);
    const run = runScript(cache);
    expect(run.status, run.stderr).to.equal(0);
    for (const tool of TOOLS) expect(run.stderr).to.include(`reusing ${tool} from ${path.join(cache, tool)}`);
    const binDir = /^AIRQ_TOOLS_BIN=(.+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(binDir).to.equal(path.join(cache, 'bin-k1.35.4-e3.6.16-w0.7.0'));
    expect(readlinkSync(path.join(binDir, 'kube-apiserver'))).to.equal(path.join(cache, 'kubernetes-v1.35.4', 'bin', 'kube-apiserver'));
    expect(readlinkSync(path.join(binDir, 'etcd'))).to.equal(path.join(cache, 'etcd-v3.6.16', 'bin', 'etcd'));
    expect(readlinkSync(path.join(binDir, 'kwok'))).to.equal(path.join(cache, 'kwok-v0.7.0', 'bin', 'kwok'));
  });

  it('redoes a half-built tool (no marker), and without Go says which directory it could not build and how to fix it', function () {
    fakeTool(cache, 'kubernetes-v1.35.4', true);
    fakeTool(cache, 'etcd-v3.6.16', false);
    const run = runScript(cache);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include('reusing kubernetes-v1.35.4');
    expect(run.stderr).to.include(`go not found on PATH: install Go >= 1.25 (https://go.dev/dl) to build etcd-v3.6.16 into ${path.join(cache, 'etcd-v3.6.16')}`);
    expect(run.stdout).not.to.include('AIRQ_TOOLS_BIN=');
  });

  it('waits for a concurrent run holding the cache lock instead of building alongside it', async function () {
    for (const tool of TOOLS) fakeTool(cache, tool, true);
    // Another "build" holds the lock for a moment.
    const holder = spawn('flock', [path.join(cache, '.lock'), 'sleep', '1.5'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const run = runScript(cache);
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include(`another build holds ${path.join(cache, '.lock')}; waiting for it`);
  });
});
