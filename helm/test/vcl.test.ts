import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { createApp } from '../../api/src/app.ts';
import { defaultConfig } from '../../api/src/config.ts';
import { createPool } from '../../api/src/db.ts';
import { notifyCache } from '../../db/src/notify-cache.ts';
import { BUNDLED_DATASET, seed } from '../../db/src/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { skipUnlessAvailable } from '../../test/support/requires.ts';
import { one, renderChart, type KubeObject } from './support/chart.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { request, startVarnish, varnishdMissing, vclForLoopback, type Varnish } from './support/varnish.ts';

// Node 20 here cannot strip types as the image's Node 24 does; tsx stands in for it.
const TSX = createRequire(import.meta.url).resolve('tsx');
const BAN_TOKEN = 'vcl-test-token-0123456789abcdef';
// Long enough that nothing expires while the suite runs, however slow the machine...
const MAX_AGE_SECONDS = 300;
// ...except the one object of the grace test, answered by a second app configured with a short max-age.
const SHORT_MAX_AGE_SECONDS = 2;
const SHORT_LIVED_URL = '/air_quality?limit=7';

/** A second, smaller dataset: the first 200 readings of the bundled file, so its sha256 (and version) differ. */
function writeSecondDataset(dir: string): string {
  const file = path.join(dir, 'second.csv');
  writeFileSync(file, readFileSync(BUNDLED_DATASET, 'utf8').split('\n').slice(0, 201).join('\n') + '\n');
  return file;
}

describe('the cache VCL in a real varnishd, in front of the API', function () {
  let database: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  let api: http.Server | undefined;
  let varnish: Varnish | undefined;
  let dir: string | undefined;
  let firstVersion: string;
  /** Requests the API received, by URL as Varnish sent it. */
  const reached = new Map<string, number>();
  const reachedApi = (url: string) => reached.get(url) ?? 0;
  /** The Accept header of each request the API received, by URL as Varnish sent it (undefined: none). */
  const acceptSeen = new Map<string, (string | undefined)[]>();
  let apiPort: number;
  let port: number;
  let objects: KubeObject[];

  /** Runs the `helm test` pod's container command here, pointed at this Varnish instead of the cache Service. */
  async function runHelmTestPod(): Promise<{ ok: boolean; output: string }> {
    const container = one(objects, 'Pod', 'airq-test').spec.containers[0];
    const [command, ...args] = container.command as string[];
    try {
      const { stdout, stderr } = await promisify(execFile)(command!, args, {
        env: { ...process.env, CACHE_URL: `http://127.0.0.1:${port}` },
        timeout: 30_000,
      });
      return { ok: true, output: stdout + stderr };
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      return { ok: false, output: stdout + stderr };
    }
  }

  const get = (url: string, headers: Record<string, string | string[] | undefined> = {}) =>
    request(port, { path: url, headers });
  const ban = (version: string, headers: Record<string, string> = {}, localAddress?: string) =>
    request(port, { method: 'BAN', path: '/', headers: { 'x-dataset-version': version, ...headers }, localAddress });

  before(async function () {
    skipUnlessAvailable(this, 'varnishd', varnishdMissing());
    database = await createTestDatabase({ migrated: true });
    const config = defaultConfig({ cacheMaxAgeSeconds: MAX_AGE_SECONDS, cacheStaleWhileRevalidateSeconds: 1 });
    pool = createPool(config, database.url);
    firstVersion = (await seed({ databaseUrl: database.url, file: BUNDLED_DATASET, log: () => {} })).version;
    const handle = createApp({ db: pool, config }).callback();
    const shortLived = createApp({
      db: pool,
      config: { ...config, cacheMaxAgeSeconds: SHORT_MAX_AGE_SECONDS },
    }).callback();
    api = http.createServer((req, res) => {
      reached.set(req.url ?? '', reachedApi(req.url ?? '') + 1);
      acceptSeen.set(req.url ?? '', [...(acceptSeen.get(req.url ?? '') ?? []), req.headers.accept]);
      void (req.url === SHORT_LIVED_URL ? shortLived : handle)(req, res);
    });
    await new Promise<void>((resolve) => api!.listen(0, '127.0.0.1', resolve));
    apiPort = (api.address() as AddressInfo).port;

    objects = await renderChart({ set: [`cache.ban.token=${BAN_TOKEN}`] });
    dir = mkdtempSync(path.join(tmpdir(), 'airq-vcl-'));
    const vcl = vclForLoopback(objects, (api.address() as AddressInfo).port, dir);
    varnish = await startVarnish(vcl, dir);
    port = varnish.port;
  });

  after(async function () {
    await varnish?.stop();
    if (api?.listening) {
      api.closeAllConnections();
      await new Promise((resolve) => api!.close(resolve));
    }
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers a second identical request from the cache without reaching the API', async function () {
    const first = await get('/air_quality?limit=2');
    const second = await get('/air_quality?limit=2');
    expect(first.status, first.body).to.equal(200);
    expect(first.headers['x-cache']).to.equal('MISS');
    expect(first.headers['x-dataset-version']).to.equal(firstVersion);
    expect(second.status).to.equal(200);
    expect(second.headers['x-cache']).to.equal('HIT');
    expect(second.body).to.equal(first.body);
    expect(reachedApi('/air_quality?limit=2')).to.equal(1);
  });

  it('opens a new API connection for every fetch, so kube-proxy spreads misses over all replicas', async function () {
    let connections = 0;
    const count = () => connections++;
    api!.on('connection', count);
    try {
      for (let page = 1; page <= 5; page++) {
        const response = await get(`/air_quality?limit=${page}&order=asc`);
        expect(response.headers['x-cache']).to.equal('MISS');
      }
    } finally {
      api!.off('connection', count);
    }
    expect(connections).to.equal(5);
  });

  it('serves reordered query parameters from the same object', async function () {
    const first = await get('/air_quality?station=aq_aragoneses&limit=3&order=desc');
    const reordered = await get('/air_quality?order=desc&limit=3&station=aq_aragoneses');
    expect(first.status, first.body).to.equal(200);
    expect(first.headers['x-cache']).to.equal('MISS');
    expect(reordered.headers['x-cache']).to.equal('HIT');
    expect(reordered.body).to.equal(first.body);
    // Varnish sorted the parameters before its one fetch.
    expect(reachedApi('/air_quality?limit=3&order=desc&station=aq_aragoneses')).to.equal(1);
    expect(reachedApi('/air_quality?station=aq_aragoneses&limit=3&order=desc')).to.equal(0);
  });

  it('keeps JSON and CSV apart and streams CSV exports past the cache', async function () {
    const json = await get('/air_quality/stations');
    const csv = await get('/air_quality/stations', { accept: 'text/csv' });
    const csvAgain = await get('/air_quality/stations', { accept: 'text/csv' });
    expect(json.headers['x-cache']).to.equal('MISS');
    expect(csv.headers['x-cache']).to.equal('PASS');
    expect(csvAgain.headers['x-cache']).to.equal('PASS');
    expect(reachedApi('/air_quality/stations')).to.equal(3);
  });

  it('serves a browser, curl, wrk (no Accept) and a JSON client one cached object, fetched once as application/json', async function () {
    const url = '/air_quality?limit=11';
    const clients: Record<string, string | undefined> = {
      firefox: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      chrome:
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
      curl: '*/*',
      wrk: undefined,
      'an empty Accept': '',
      'a JSON client': 'application/json',
      'application/*': 'application/*',
    };
    const replies = [];
    for (const [client, accept] of Object.entries(clients)) replies.push({ client, reply: await get(url, { accept }) });
    expect(replies.map(({ client, reply }) => `${client}: ${reply.status} ${reply.headers['x-cache']}`)).to.deep.equal(
      Object.keys(clients).map((client, i) => `${client}: 200 ${i === 0 ? 'MISS' : 'HIT'}`),
    );
    for (const { client, reply } of replies) {
      expect(reply.headers['content-type'], client).to.equal('application/json; charset=utf-8');
      expect(reply.body, client).to.equal(replies[0]!.reply.body);
    }
    expect(Number(replies.at(-1)!.reply.headers['x-cache-hits'])).to.equal(Object.keys(clients).length - 1);
    // One fetch, and the API saw the normalised header rather than the first client's.
    expect(acceptSeen.get(url)).to.deep.equal(['application/json']);
  });

  it('gives CSV and NDJSON requests their own answer from the API, asked with the normalised type, never the JSON object', async function () {
    const url = '/air_quality?limit=12';
    const json = await get(url, { accept: '*/*' });
    expect(json.headers['x-cache']).to.equal('MISS');
    const csv = await get(url, { accept: ' Text/CSV ' });
    const ndjson = await get(url, { accept: 'application/x-ndjson' });
    expect([csv.status, csv.headers['x-cache'], csv.headers['content-type']]).to.deep.equal([
      200,
      'PASS',
      'text/csv; charset=utf-8',
    ]);
    expect(csv.body.split('\n')[0]).to.match(/^TimeInstant,id_entity,/);
    expect([ndjson.status, ndjson.headers['x-cache'], ndjson.headers['content-type']]).to.deep.equal([
      200,
      'PASS',
      'application/x-ndjson; charset=utf-8',
    ]);
    expect(JSON.parse(ndjson.body.split('\n')[0]!)).to.have.keys('station', 'measuredAt', 'measurements');
    expect(acceptSeen.get(url)).to.deep.equal(['application/json', 'text/csv', 'application/x-ndjson']);
    // The exports left the JSON object alone.
    expect((await get(url, { accept: undefined })).headers['x-cache']).to.equal('HIT');
  });

  it('rewrites Accept only to the type the API itself would choose for the original header, and passes what it cannot decide', async function () {
    const cases: { accept: string | string[]; normalised: string | undefined }[] = [
      { accept: 'application/json, text/plain, */*', normalised: 'application/json' },
      { accept: 'APPLICATION/JSON', normalised: 'application/json' },
      { accept: 'image/webp, */*;q=0.1', normalised: 'application/json' },
      { accept: 'text/html', normalised: undefined },
      { accept: '*/*;q=0', normalised: undefined },
      // A less specific range with a higher q wins over application/json: the API answers CSV here.
      { accept: 'application/json;q=0.1, */*', normalised: undefined },
      { accept: 'application/json;charset=utf-8', normalised: undefined },
      { accept: 'text/*', normalised: undefined },
      { accept: 'application/json, text/csv', normalised: undefined },
      { accept: 'text/csv;q=0.5, application/x-ndjson', normalised: undefined },
      { accept: 'application/*;q=0.2, */*;q=0.9', normalised: undefined },
      // Two Accept lines are one list to the API (CSV wins it): the cache must not decide on the first alone.
      { accept: ['*/*', 'text/csv'], normalised: undefined },
    ];
    for (const [index, { accept, normalised }] of cases.entries()) {
      const url = `/air_quality?limit=${30 + index}`;
      // Straight to the API, on a URL of its own so the cached one stays unfetched.
      const direct = await request(apiPort, { path: `/air_quality?limit=${60 + index}`, headers: { accept } });
      const viaCache = await get(url, { accept });
      const again = await get(url, { accept });
      const where = `Accept: ${String(accept)}`;
      expect(acceptSeen.get(url)?.[0], where).to.equal(normalised ?? [accept].flat().join(', '));
      expect([viaCache.status, viaCache.headers['content-type']], where).to.deep.equal([
        direct.status,
        direct.headers['content-type'],
      ]);
      if (normalised) {
        expect([viaCache.headers['x-cache'], again.headers['x-cache']], where).to.deep.equal(['MISS', 'HIT']);
      } else {
        expect([viaCache.headers['x-cache'], again.headers['x-cache']], where).to.deep.equal(['PASS', 'PASS']);
      }
    }
  });

  it('coalesces concurrent misses for one object into a single API request', async function () {
    const replies = await Promise.all(Array.from({ length: 20 }, () => get('/air_quality?limit=4')));
    expect(replies.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
    expect(new Set(replies.map((r) => r.body)).size).to.equal(1);
    expect(reachedApi('/air_quality?limit=4')).to.equal(1);
  });

  it('never caches health, readiness or metrics', async function () {
    for (const url of ['/health/ready', '/health/live', '/metrics']) {
      const first = await get(url);
      const second = await get(url);
      expect(first.status, `${url}: ${first.body}`).to.equal(200);
      expect([first.headers['x-cache'], second.headers['x-cache']], url).to.deep.equal(['PASS', 'PASS']);
      expect(reachedApi(url), url).to.equal(2);
    }
    expect(JSON.parse((await get('/health/ready')).body)).to.include({ status: 'ready', dataset: firstVersion });
  });

  it('passes requests other than GET and HEAD to the API', async function () {
    const post = await request(port, { method: 'POST', path: '/air_quality?limit=2' });
    expect(post.headers['x-cache']).to.equal('PASS');
    expect(post.status).to.equal(405);
    expect(reachedApi('/air_quality?limit=2')).to.equal(2);
  });

  it('refuses a BAN without the token or with a wrong one, and keeps the cached objects', async function () {
    const missing = await ban('ffffffffffff');
    const wrong = await ban('ffffffffffff', { 'x-ban-token': `${BAN_TOKEN}x` });
    expect([missing.status, wrong.status]).to.deep.equal([403, 403]);
    expect(missing.body).to.include('missing or wrong X-Ban-Token');
    expect((await get('/air_quality?limit=2')).headers['x-cache']).to.equal('HIT');
    expect(reachedApi('/air_quality?limit=2')).to.equal(2);
  });

  it('refuses a BAN from outside the cluster networks even with the token', async function () {
    // 127.0.0.2 is loopback but in none of cache.ban.allowedCidrs: Varnish sees a foreign client address.
    const foreign = await ban('ffffffffffff', { 'x-ban-token': BAN_TOKEN }, '127.0.0.2');
    expect(foreign.status).to.equal(403);
    expect(foreign.body).to.include('only accepted from inside the cluster');
    expect((await get('/air_quality?limit=2')).headers['x-cache']).to.equal('HIT');
  });

  it('refuses a BAN whose dataset version is not 12 hex characters', async function () {
    const reply = await ban('*', { 'x-ban-token': BAN_TOKEN });
    expect(reply.status).to.equal(400);
    expect((await get('/air_quality?limit=2')).headers['x-cache']).to.equal('HIT');
  });

  it("after a reseed, the seeder's BAN with the new dataset version empties the cache of every other version", async function () {
    const cachedOld = await get('/air_quality?limit=5');
    expect(cachedOld.headers['x-dataset-version']).to.equal(firstVersion);

    // Load without notifying, so that one object of the new dataset can be cached before the BAN (it must survive),
    // then send the seeder's own notification as the seed Job would (CACHE_BAN_URL, CACHE_BAN_TOKEN).
    const loaded = await seed({ databaseUrl: database!.url, file: writeSecondDataset(dir!), log: () => {} });
    expect(loaded.status).to.equal('loaded');
    const secondVersion = loaded.version;
    expect(secondVersion).not.to.equal(firstVersion);
    const fresh = await get('/air_quality?limit=6');
    expect(fresh.headers['x-dataset-version']).to.equal(secondVersion);
    expect(
      (await get('/air_quality?limit=5')).headers['x-dataset-version'],
      'old object still served before the BAN',
    ).to.equal(firstVersion);

    const notified = await notifyCache(
      { url: `http://127.0.0.1:${port}/`, token: BAN_TOKEN, attempts: 1 },
      secondVersion,
    );
    expect(notified, notified.message).to.include({ ok: true });

    for (const url of [
      '/air_quality?limit=2',
      '/air_quality?limit=5',
      '/air_quality?limit=3&order=desc&station=aq_aragoneses',
    ]) {
      const after = await get(url);
      expect(after.headers['x-cache'], url).to.equal('MISS');
      expect(after.headers['x-dataset-version'], url).to.equal(secondVersion);
    }
    expect(reachedApi('/air_quality?limit=5')).to.equal(2);
    const kept = await get('/air_quality?limit=6');
    expect(kept.headers['x-cache']).to.equal('HIT');
    expect(reachedApi('/air_quality?limit=6')).to.equal(1);
  });

  it('accepts the BAN the seeder sends at the end of a seed run', async function () {
    const third = path.join(dir!, 'third.csv');
    writeFileSync(third, readFileSync(BUNDLED_DATASET, 'utf8').split('\n').slice(0, 101).join('\n') + '\n');
    const loaded = await seed({
      databaseUrl: database!.url,
      file: third,
      log: () => {},
      notify: { url: `http://127.0.0.1:${port}/`, token: BAN_TOKEN, attempts: 1 },
    });
    expect(loaded.notification, loaded.notification?.message).to.include({ ok: true });
    const after = await get('/air_quality?limit=6');
    expect(after.headers['x-cache']).to.equal('MISS');
    expect(after.headers['x-dataset-version']).to.equal(loaded.version);
  });

  it('bans the cache when the seed Job container runs as rendered, with its env and the token from the Secret', async function () {
    const fourth = path.join(dir!, 'fourth.csv');
    writeFileSync(fourth, readFileSync(BUNDLED_DATASET, 'utf8').split('\n').slice(0, 151).join('\n') + '\n');
    const rendered = await renderChart({ set: [`cache.ban.token=${BAN_TOKEN}`, `seed.file=${fourth}`] });
    const container = one(rendered, 'Job', 'airq-seed').spec.template.spec.containers[0];
    const secrets = new Map(
      rendered.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, o.data as Record<string, string>]),
    );
    // What the kubelet would hand the container, with only the two addresses moved to loopback.
    const env: Record<string, string> = {};
    for (const entry of container.env as {
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef: { name: string; key: string } };
    }[]) {
      if (entry.valueFrom) {
        const { name, key } = entry.valueFrom.secretKeyRef;
        env[entry.name] = Buffer.from(secrets.get(name)![key]!, 'base64').toString();
      } else {
        env[entry.name] = entry.value!.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? '');
      }
    }
    expect(env.CACHE_BAN_URL).to.equal('http://airq-cache-headless.airq-test.svc:8080/');
    expect(env.CACHE_BAN_TOKEN).to.equal(BAN_TOKEN);
    env.CACHE_BAN_URL = `http://127.0.0.1:${port}/`;
    env.DATABASE_URL = database!.url;

    const before = await get('/air_quality?limit=6');
    expect(before.headers['x-cache']).to.equal('HIT');
    const [node, ...args] = container.command as string[];
    expect(node).to.equal('node');
    const { stderr } = await promisify(execFile)(process.execPath, ['--import', TSX, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    expect(stderr).to.include(`cache notified: BAN http://127.0.0.1:${port}/ answered 200`);
    const after = await get('/air_quality?limit=6');
    expect(after.headers['x-cache']).to.equal('MISS');
    expect(after.headers['x-dataset-version']).not.to.equal(before.headers['x-dataset-version']);
  });

  it('passes the helm test pod check: ready, and data through the cache', async function () {
    const result = await runHelmTestPod();
    expect(result.ok, result.output).to.equal(true);
    expect(result.output).to.include('GET /health/ready: 200 X-Cache=PASS');
    expect(result.output).to.match(/GET \/air_quality\?limit=1: 200 X-Cache=(MISS|HIT)/);
  });

  // Last: it stops the API.
  it('serves a stale object within grace while the API is down', async function () {
    const url = SHORT_LIVED_URL;
    const cached = await get(url);
    expect(cached.headers['x-cache']).to.equal('MISS');
    expect(cached.headers['cache-control']).to.include(`max-age=${SHORT_MAX_AGE_SECONDS}`);
    api!.closeAllConnections();
    await new Promise((resolve) => api!.close(resolve));

    const uncached = await get('/air_quality?limit=8');
    expect(uncached.status, 'the API is really down').to.equal(503);
    expect(uncached.headers['content-type']).to.equal('application/problem+json');
    expect(uncached.headers['cache-control']).to.equal('no-store');
    expect(JSON.parse(uncached.body)).to.include({ status: 503, title: 'Service Unavailable' });

    // Past max-age and past the API's own stale-while-revalidate (1 s), only the chart's grace keeps it servable.
    await new Promise((r) => setTimeout(r, (SHORT_MAX_AGE_SECONDS + 2) * 1000));
    for (let i = 0; i < 2; i++) {
      const stale = await get(url);
      expect(stale.status).to.equal(200);
      expect(stale.headers['x-cache']).to.equal('HIT-STALE');
      expect(Number(stale.headers.age)).to.be.at.least(SHORT_MAX_AGE_SECONDS);
      expect(stale.body).to.equal(cached.body);
    }

    // Readiness is never cached, so the helm test pod notices the API is gone even though data is still served.
    const check = await runHelmTestPod();
    expect(check.ok, check.output).to.equal(false);
    expect(check.output).to.include('/health/ready: not ready (status 503');
  });
});
