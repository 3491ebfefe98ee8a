import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { createApp } from '../../api/src/app.ts';
import { defaultConfig } from '../../api/src/config.ts';
import { createPool } from '../../api/src/db.ts';
import getPort from 'get-port';
import { notifyCache } from '../../db/src/notify-cache.ts';
import { BUNDLED_DATASET, seed } from '../../db/src/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { skipUnlessAvailable } from '../../test/support/requires.ts';
import { one, renderChart } from './support/chart.ts';
import { request, startVarnish, varnishdMissing, vclForLoopback, type Varnish } from './support/varnish.ts';

const BAN_TOKEN = 'replicas-test-token-0123456789';
// Two cache pods behind one headless Service name: two varnishd on one port, at two loopback addresses.
const POD_ADDRESSES = ['127.0.0.1', '127.0.0.2'];

describe('the seed BAN with more than one cache replica (two real varnishd)', function () {
  let database: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  let api: http.Server | undefined;
  const caches: Varnish[] = [];
  let dir: string | undefined;
  let port: number;
  let banUrl: string;
  let banHost: string;
  let firstVersion: string;

  /** The cluster DNS's answer for the headless Service: one address per ready cache pod. */
  const resolvePods = (ready: string[]) => async (host: string) => {
    if (host !== banHost) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return ready;
  };
  const get = (address: string, url: string) => request(port, { host: address, path: url });

  before(async function () {
    skipUnlessAvailable(this, 'varnishd', varnishdMissing());
    database = await createTestDatabase({ migrated: true });
    const config = defaultConfig({ cacheMaxAgeSeconds: 300 });
    pool = createPool(config, database.url);
    firstVersion = (await seed({ databaseUrl: database.url, file: BUNDLED_DATASET, log: () => {} })).version;
    api = http.createServer(createApp({ db: pool, config }).callback());
    await new Promise<void>((resolve) => api!.listen(0, '127.0.0.1', resolve));

    // The pods listen on cache.containerPort, which the headless Service and so the seed's URL carry. The seed pod's
    // address must be in cache.ban.allowedCidrs: here the seeder connects from loopback.
    port = await getPort();
    const objects = await renderChart({
      values: { cache: { replicas: 2, containerPort: port, ban: { token: BAN_TOKEN, allowedCidrs: ['127.0.0.0/8'] } } },
    });
    const seedEnv = one(objects, 'Job', 'airq-seed').spec.template.spec.containers[0].env as {
      name: string;
      value?: string;
    }[];
    banUrl = seedEnv.find((e) => e.name === 'CACHE_BAN_URL')!.value!;
    banHost = new URL(banUrl).hostname;
    expect(banHost).to.equal('airq-cache-headless.airq-test.svc');
    expect(new URL(banUrl).port).to.equal(String(port));
    dir = mkdtempSync(path.join(tmpdir(), 'airq-replicas-'));
    for (const address of POD_ADDRESSES) {
      const own = path.join(dir, address);
      mkdirSync(own);
      const vcl = vclForLoopback(objects, (api.address() as AddressInfo).port, own);
      caches.push(await startVarnish(vcl, own, [], { host: address, port }));
    }
  });

  after(async function () {
    for (const cache of caches) await cache.stop();
    if (api?.listening) {
      api.closeAllConnections();
      await new Promise((resolve) => api!.close(resolve));
    }
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a copy per replica, and bans every replica after a reseed, not just the one a Service address picks', async function () {
    for (const address of POD_ADDRESSES) {
      expect((await get(address, '/air_quality?limit=2')).headers['x-cache'], address).to.equal('MISS');
      const hit = await get(address, '/air_quality?limit=2');
      expect([hit.headers['x-cache'], hit.headers['x-dataset-version']], address).to.deep.equal(['HIT', firstVersion]);
    }

    const file = path.join(dir!, 'second.csv');
    writeFileSync(file, readFileSync(BUNDLED_DATASET, 'utf8').split('\n').slice(0, 201).join('\n') + '\n');
    const loaded = await seed({ databaseUrl: database!.url, file, log: () => {} });
    expect(loaded.version).not.to.equal(firstVersion);

    const notified = await notifyCache(
      { url: banUrl, token: BAN_TOKEN, attempts: 1, resolve: resolvePods(POD_ADDRESSES) },
      loaded.version,
    );
    expect(notified).to.deep.equal({
      ok: true,
      message: `cache notified: ${POD_ADDRESSES.map((address) => `BAN ${banUrl} (${address}) answered 200`).join('; ')}`,
    });
    for (const address of POD_ADDRESSES) {
      const after = await get(address, '/air_quality?limit=2');
      expect([after.headers['x-cache'], after.headers['x-dataset-version']], address).to.deep.equal([
        'MISS',
        loaded.version,
      ]);
    }
  });

  it('names each replica that refused or missed the BAN by its address, and bans the pods DNS still lists', async function () {
    // A wrong token: every replica refuses, and each one is named.
    const wrongToken = await notifyCache(
      { url: banUrl, token: `${BAN_TOKEN}x`, attempts: 2, retryDelayMs: 10, resolve: resolvePods(POD_ADDRESSES) },
      'abcdefabcdef',
    );
    expect(wrongToken.ok).to.equal(false);
    expect(wrongToken.message).to.include(`BAN ${banUrl} (127.0.0.1) answered 403`);
    expect(wrongToken.message).to.include(`BAN ${banUrl} (127.0.0.2) answered 403`);
    expect(wrongToken.message).to.include('after 2 attempt(s)');

    // A pod that is gone by the time the BAN is sent.
    const stopped = caches.pop()!;
    await stopped.stop();
    const oneDown = await notifyCache(
      {
        url: banUrl,
        token: BAN_TOKEN,
        attempts: 2,
        retryDelayMs: 10,
        timeoutMs: 2_000,
        resolve: resolvePods(POD_ADDRESSES),
      },
      'abcdefabcdef',
    );
    expect(oneDown.ok).to.equal(false);
    expect(oneDown.message).to.match(
      new RegExp(`^cache not notified: BAN ${banUrl.replaceAll('.', '\\.')} \\(127\\.0\\.0\\.2\\) failed: `),
    );
    expect(oneDown.message).not.to.include('(127.0.0.1)');

    // Once DNS no longer lists it (the endpoints controller removed the pod), the BAN succeeds on those that remain.
    const remaining = await notifyCache(
      { url: banUrl, token: BAN_TOKEN, attempts: 1, resolve: resolvePods(['127.0.0.1']) },
      'abcdefabcdef',
    );
    expect(remaining).to.deep.equal({ ok: true, message: `cache notified: BAN ${banUrl} (127.0.0.1) answered 200` });
  });

  it('names the host it could not resolve', async function () {
    const result = await notifyCache(
      { url: banUrl, token: BAN_TOKEN, attempts: 2, retryDelayMs: 10, resolve: resolvePods([]) },
      'abcdefabcdef',
    );
    expect(result.ok).to.equal(false);
    expect(result.message).to.match(
      /^cache not notified: BAN http:\/\/airq-cache-headless\.airq-test\.svc:\d+\/ cannot resolve airq-cache-headless\.airq-test\.svc: no addresses after 2 attempt\(s\)/,
    );
    const real = await notifyCache({ url: 'http://airq-cache-headless.invalid:8080/', attempts: 1 }, 'abcdefabcdef');
    expect(real.message).to.match(/cannot resolve airq-cache-headless\.invalid: .*ENOTFOUND/);
  });
});
