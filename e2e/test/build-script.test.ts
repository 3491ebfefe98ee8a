import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILD_SCRIPT } from '../harness/tools.ts';

/**
 * The cache logic of e2e/tools/build.sh, on a scratch cache: reuse, redo of a half build, locking. These runs never
 * build (a build takes minutes); the real builds are exercised by every e2e suite and by .ci/run.
 */

/** Each tool's directory and the binaries it must hold to be reused. */
const TOOLS: Record<string, string[]> = {
  'kubernetes-v1.35.4': ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'],
  'etcd-v3.6.16': ['etcd'],
  'kwok-v0.7.0': ['kwok'],
  'coredns-v1.15.0': ['coredns'],
  'kube-router-v2.1.0': ['kube-router'],
  'pause-v1': ['pause'],
  'compose-v2.40.3': ['docker-compose'],
  'act-v0.2.89': ['act'],
  'buildx-v0.38.2': ['docker-buildx'],
  'registry-v3.0.0': ['registry'],
  'node-v24.22.3': ['node'],
};
const SET_DIR = 'bin-k1.35.4-e3.6.16-w0.7.0-c1.15.0-kr2.1.0-p1-d2.40.3-a0.2.89-x0.38.2-r3.0.0-n24.22.3';
/** Where a binary is linked in the set directory, when not at its top. */
const LINKED_AS: Record<string, string> = { 'docker-buildx': 'cli-plugins/docker-buildx', node: 'node24/node' };

/** PATH without any directory holding `go`, so a build attempt would show. */
const PATH_WITHOUT_GO = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => dir && !existsSync(path.join(dir, 'go')))
  .join(path.delimiter);

function fakeTool(cache: string, tool: string, complete: boolean, binaries = TOOLS[tool] ?? []): void {
  mkdirSync(path.join(cache, tool, 'bin'), { recursive: true });
  for (const binary of binaries) writeFileSync(path.join(cache, tool, 'bin', binary), '#!/bin/sh\n', { mode: 0o755 });
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
    for (const tool of Object.keys(TOOLS)) fakeTool(cache, tool, true);
    const run = runScript(cache);
    expect(run.status, run.stderr).to.equal(0);
    for (const tool of Object.keys(TOOLS))
      expect(run.stderr).to.include(`reusing ${tool} from ${path.join(cache, tool)}`);
    const binDir = /^AIRQ_TOOLS_BIN=(.+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(binDir).to.equal(path.join(cache, SET_DIR));
    for (const [tool, binaries] of Object.entries(TOOLS)) {
      for (const binary of binaries)
        expect(readlinkSync(path.join(binDir, LINKED_AS[binary] ?? binary))).to.equal(
          path.join(cache, tool, 'bin', binary),
        );
    }
    // Where the docker CLI looks for plugins when DOCKER_CONFIG is the set directory.
    expect(readlinkSync(path.join(binDir, 'cli-plugins', 'docker-compose'))).to.equal(
      path.join(cache, 'compose-v2.40.3', 'bin', 'docker-compose'),
    );
  });

  it('rebuilds a marked tool that lacks one of its binaries (a cache from an older build.sh)', function () {
    for (const tool of Object.keys(TOOLS)) fakeTool(cache, tool, true);
    fakeTool(cache, 'kubernetes-v1.35.4', true, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    rmSync(path.join(cache, 'kubernetes-v1.35.4', 'bin', 'kubelet'), { force: true });
    rmSync(path.join(cache, 'kubernetes-v1.35.4', 'bin', 'kube-proxy'), { force: true });
    const run = runScript(cache);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include('kubernetes-v1.35.4 lacks kubelet kube-proxy (an older build); rebuilding it');
    expect(run.stderr).to.include(
      `go not found on PATH: install Go >= 1.25 (https://go.dev/dl) to build kubernetes-v1.35.4 into ${path.join(cache, 'kubernetes-v1.35.4')}`,
    );
  });

  it('redoes a half-built tool (no marker), and without Go says which directory it could not build and how to fix it', function () {
    for (const tool of Object.keys(TOOLS)) fakeTool(cache, tool, true);
    fakeTool(cache, 'etcd-v3.6.16', false);
    rmSync(path.join(cache, 'etcd-v3.6.16', '.complete'));
    const run = runScript(cache);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include('reusing kubernetes-v1.35.4');
    expect(run.stderr).to.include(
      `go not found on PATH: install Go >= 1.25 (https://go.dev/dl) to build etcd-v3.6.16 into ${path.join(cache, 'etcd-v3.6.16')}`,
    );
    expect(run.stdout).not.to.include('AIRQ_TOOLS_BIN=');
  });

  it('waits for a concurrent run holding the cache lock instead of building alongside it', async function () {
    for (const tool of Object.keys(TOOLS)) fakeTool(cache, tool, true);
    // Another "build" holds the lock for a moment.
    const holder = spawn('flock', [path.join(cache, '.lock'), 'sleep', '1.5'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const run = runScript(cache);
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.include(`another build holds ${path.join(cache, '.lock')}; waiting for it`);
  });
});
