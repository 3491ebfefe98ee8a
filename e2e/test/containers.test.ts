import { expect } from 'chai';
import { copyFileSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildImages,
  composeBinary,
  dockerMissing,
  imageRef,
  runCommand,
  startDockerEngine,
  type BuiltImage,
  type CommandResult,
  type DockerEngine,
} from '../harness/docker.ts';
import getPort from 'get-port';
import { skipUnlessAvailable } from '../../test/support/requires.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

/**
 * The images and compose.yaml on a real Docker engine: the API image built from api/Dockerfile, the container smoke
 * script the workflows run, and the whole system brought up by compose — seeded on the first `up`, served through
 * Varnish by five API replicas, reseeded, refused a bad file, and taken down without a trace.
 */

function describeResult(run: CommandResult): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout.slice(-4000)}\n--- stderr\n${run.stderr.slice(-4000)}`;
}

describe('images and compose on a real Docker engine', function () {
  this.timeout(20 * 60_000);
  let engine: DockerEngine | undefined;
  let images: BuiltImage[] = [];
  const docker = (...args: string[]) => runCommand('docker', args, { DOCKER_HOST: engine!.host });

  before(async function () {
    skipUnlessAvailable(this, 'a Docker engine', dockerMissing());
    engine = startDockerEngine();
    images = await buildImages(engine);
  });

  after(function () {
    engine?.stop();
  });

  describe('the API image', function () {
    it('is built from api/Dockerfile with every image the project runs beside it', function () {
      expect(images.map((i) => i.name).sort()).to.deep.equal(['api', 'node', 'postgres', 'varnish']);
      expect(imageRef(images, 'postgres')).to.equal('postgres:17');
      expect(imageRef(images, 'varnish')).to.equal('varnish:7.7');
      const api = images.find((i) => i.name === 'api')!;
      expect(api.standIn).to.equal(false);
      for (const image of images) expect(image.archive).to.match(/\.tar$/);
    });

    it('runs as the non-root user node (uid 1000) by its own configuration', async function () {
      const user = await docker('image', 'inspect', '--format', '{{.Config.User}}', imageRef(images, 'api'));
      expect(user.stdout.trim()).to.equal('node');
      const id = await docker('run', '--rm', '--read-only', imageRef(images, 'api'), 'id', '-u');
      expect(id.stdout.trim(), describeResult(id)).to.equal('1000');
    });

    it('passes the container smoke run of the workflows: migrate, seed, serve, read-only root, non-root', async function () {
      const smoke = await runCommand(
        'bash',
        ['.github/scripts/container-smoke.sh', imageRef(images, 'api'), '9.8.7-smoke'],
        {
          DOCKER_HOST: engine!.host,
        },
      );
      expect(smoke.code, describeResult(smoke)).to.equal(0);
      expect(smoke.stdout).to.include('seed: loaded db/data/environment_airq_measurand.csv: 960 rows, 10 stations');
      expect(smoke.stdout).to.include('container smoke passed');
      expect(smoke.stdout).to.include('as uid 1000 on a read-only root');
    });

    it('fails the container smoke run for an image that cannot migrate, naming the step', async function () {
      const smoke = await runCommand(
        'bash',
        ['.github/scripts/container-smoke.sh', imageRef(images, 'node'), '1.0.0'],
        {
          DOCKER_HOST: engine!.host,
        },
      );
      expect(smoke.code, describeResult(smoke)).to.equal(1);
      expect(smoke.stdout).to.include('::error title=container smoke::');
    });
  });

  describe('compose.yaml', function () {
    const project = `airq-test-${process.pid}`;
    let port = 0;
    let seedDir = '';
    let compose = '';
    const env = (): Record<string, string> => ({
      DOCKER_HOST: engine!.host,
      COMPOSE_PROJECT_NAME: project,
      AIRQ_API_IMAGE: imageRef(images, 'api'),
      AIRQ_PORT: String(port),
      AIRQ_SEED_DIR: seedDir,
      AIRQ_VERSION: '4.5.6-compose',
    });
    const run = (...args: string[]) =>
      runCommand(compose, ['-f', path.join(REPO_ROOT, 'compose.yaml'), ...args], env());
    const get = async (url: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${url}`);
      return { status: response.status, headers: response.headers, body: await response.text() };
    };
    const leftovers = async () => {
      const label = `label=com.docker.compose.project=${project}`;
      const found = await Promise.all([
        docker('ps', '-aq', '--filter', label),
        docker('volume', 'ls', '-q', '--filter', label),
        docker('network', 'ls', '-q', '--filter', label),
      ]);
      return found.map((r) => r.stdout.trim()).filter(Boolean);
    };

    before(async function () {
      const binary = composeBinary();
      skipUnlessAvailable(this, 'Docker Compose v2', binary.missing);
      compose = binary.path!;
      port = await getPort();
      seedDir = mkdtempSync(path.join(tmpdir(), 'airq-compose-seed-'));
      chmodSync(seedDir, 0o755); // the seed container reads it as uid 1000
      copyFileSync(path.join(REPO_ROOT, 'db/data/generated-week.csv'), path.join(seedDir, 'week.csv'));
      writeFileSync(
        path.join(seedDir, 'bad.csv'),
        'TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5\n2016-10-01 00:00:00.000,aq_x,abc,1,1,1,1,1\n',
      );
      for (const file of ['week.csv', 'bad.csv']) chmodSync(path.join(seedDir, file), 0o644);
    });

    after(async function () {
      if (compose && engine) await run('down', '--volumes', '--remove-orphans', '--timeout', '5');
      if (seedDir) rmSync(seedDir, { recursive: true, force: true });
    });

    it('up -d seeds the bundled CSV on the first run and serves its 960 readings through Varnish', async function () {
      const up = await run('up', '--detach', '--wait', '--wait-timeout', '300');
      expect(up.code, describeResult(up)).to.equal(0);
      const seedLog = await run('logs', 'seed');
      expect(seedLog.stdout).to.match(/loaded db\/data\/environment_airq_measurand\.csv: 960 rows, 10 stations/);
      const page = await get('/air_quality?limit=1000');
      expect(page.status, page.body).to.equal(200);
      expect((JSON.parse(page.body) as { count: number }).count).to.equal(960);
      expect(page.headers.get('via') ?? '').to.include('Varnish');
    });

    it('answers the second identical request from the cache', async function () {
      const url = '/air_quality?station=aq_jaen&limit=5';
      const first = await get(url);
      const second = await get(url);
      expect(first.headers.get('x-cache')).to.equal('MISS');
      expect(second.headers.get('x-cache')).to.equal('HIT');
      expect(second.body).to.equal(first.body);
    });

    it('spreads uncached requests over five API replicas', async function () {
      const instances = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const ready = await get('/health/ready');
        expect(ready.status).to.equal(200);
        expect(ready.headers.get('x-cache')).to.equal('PASS');
        instances.add(ready.headers.get('x-instance-id') ?? 'none');
      }
      expect([...instances]).to.have.length(5);
      expect(JSON.parse((await get('/health/ready')).body)).to.include({ version: '4.5.6-compose' });
    });

    it('follows next links across replicas: every replica opens the cursors of the others', async function () {
      for (let limit = 1; limit <= 10; limit++) {
        const first = await get(`/air_quality?limit=${limit}&station=aq_salvia`);
        expect(first.status, first.body).to.equal(200);
        const next = (JSON.parse(first.body) as { next: string }).next;
        const second = await get(next);
        expect(second.status, `${next}: ${second.body}`).to.equal(200);
        expect((JSON.parse(second.body) as { count: number }).count).to.equal(limit);
      }
    });

    it('up again reloads nothing: the seed finds the dataset already active', async function () {
      const up = await run('up', '--detach', '--wait', '--wait-timeout', '300');
      expect(up.code, describeResult(up)).to.equal(0);
      const seedLog = await run('logs', 'seed');
      expect(seedLog.stdout).to.match(
        /environment_airq_measurand\.csv is already the active dataset [0-9a-f]{12} \(960 rows/,
      );
    });

    it('reseeds from a mounted CSV: the cache is banned and the new dataset version is served', async function () {
      const before = await get('/air_quality?station=aq_jaen&limit=5');
      const oldVersion = before.headers.get('x-dataset-version');
      const seed = await run('run', '--rm', 'seed', '--file', '/seed/week.csv');
      expect(seed.code, describeResult(seed)).to.equal(0);
      expect(seed.stdout).to.match(/loaded \/seed\/week\.csv: 6,720 rows, 10 stations/);
      expect(seed.stdout + seed.stderr).not.to.include('cache not notified');
      const after = await get('/air_quality?station=aq_jaen&limit=5');
      expect(after.headers.get('x-dataset-version')).to.match(/^[0-9a-f]{12}$/);
      expect(after.headers.get('x-dataset-version')).not.to.equal(oldVersion);
      expect(after.headers.get('x-cache')).to.equal('MISS');
    });

    it('refuses a bad CSV with the file:line message and keeps serving the previous dataset', async function () {
      const current = (await get('/air_quality?limit=1')).headers.get('x-dataset-version');
      const seed = await run('run', '--rm', 'seed', '--file', '/seed/bad.csv');
      expect(seed.code, describeResult(seed)).to.equal(1);
      expect(seed.stderr).to.include('/seed/bad.csv:2: column "so2": "abc" is not a number');
      const after = await get('/air_quality?limit=1');
      expect(after.status).to.equal(200);
      expect(after.headers.get('x-dataset-version')).to.equal(current);
    });

    it('down -v leaves no container, volume or network behind', async function () {
      const down = await run('down', '--volumes', '--remove-orphans', '--timeout', '5');
      expect(down.code, describeResult(down)).to.equal(0);
      expect(await leftovers()).to.deep.equal([]);
    });
  });
});
