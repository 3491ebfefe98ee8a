import http from 'node:http';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { ContractChecker, type Document } from './support/contract.ts';
import { createFixtureDataset } from './support/fixtures.ts';

/** Small deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_VALUES = [
  "' OR 1=1 --",
  "'; DROP TABLE measurements; --",
  "aq_01'); SELECT pg_sleep(10); --",
  '$1',
  '\\x00',
  '%00',
  '%FF%FE',
  '%C0%AF',
  '%ED%A0%80',
  '%E2%82',
  '%',
  '%G1',
  '%2',
  '99999999999999999999999',
  '-1',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '١٢٣',
  '2016-13-45',
  '2016-02-30T25:61:61Z',
  '+275760-09-13T00:00:00.000Z',
  '0000-01-01',
  '9999-12-31T23:59:59.999999+14:00',
  '2016-10-01T00:00:00.1234567Z',
  'null',
  '[]',
  '{"a":1}',
  'a'.repeat(5000),
  '%F0%9F%92%A9',
  'aq_01,,aq_02',
  ',',
  'W10.abc',
  'eyJ9.eyJ9',
  'WyIyMDE2LTEwLTAxIDAwOjAwOjAwKzAwIiwiYXFfMDEiLCJ4Il0.AAAAAAAAAAAAAAAAAAAAAA',
];
const NAMES = [
  'station',
  'from',
  'to',
  'pollutants',
  'limit',
  'cursor',
  'order',
  'interval',
  'colour',
  '',
  'LIMIT',
  'station[]',
  '__proto__',
  'constructor',
  '%FF',
  'a'.repeat(300),
];
const PATHS = [
  '/air_quality',
  '/air_quality/aggregates',
  '/air_quality/stations',
  '/air_quality/stations/',
  '/health/ready',
  '/health/live',
  '/metrics',
  '/openapi.json',
  '/air_quality/x/y',
  '//air_quality',
  '/air_quality/..%2F..%2Fetc%2Fpasswd',
];
const ACCEPTS = [
  '*/*',
  'text/csv',
  'application/x-ndjson',
  'image/png',
  'text/*;q=0.1',
  ';;;',
  'application/json;q=abc',
  '',
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function enc(value: string, random: () => number): string {
  // Half the values go raw (bad percent-encoding included), half properly encoded.
  return random() < 0.5
    ? value.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)).replace(/[#]/g, '%23')
    : encodeURIComponent(value);
}

function generate(random: () => number): { method: string; path: string; headers: Record<string, string> } {
  let path = pick(random, PATHS);
  if (path === '/air_quality/stations/') path += enc(pick(random, NASTY_VALUES), random);
  const params: string[] = [];
  const count = Math.floor(random() * 6);
  for (let i = 0; i < count; i++)
    params.push(`${enc(pick(random, NAMES), random)}=${enc(pick(random, NASTY_VALUES), random)}`);
  if (random() < 0.05) params.push(`station=${'x'.repeat(10_000)}`);
  if (random() < 0.05) params.push(Array.from({ length: 900 }, (_, i) => `p${i}=${i}`).join('&'));
  const headers: Record<string, string> = { Accept: pick(random, ACCEPTS) };
  if (random() < 0.2) headers['If-None-Match'] = pick(random, ['*', '"x"', 'W/"', ',,,', '"a", W/"b"']);
  if (random() < 0.2) headers['X-Request-Id'] = pick(random, ['ok-id', 'x'.repeat(500), '../../etc', 'a b']);
  const method = random() < 0.9 ? 'GET' : pick(random, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
  return { method, path: params.length ? `${path}?${params.join('&')}` : path, headers };
}

describe('API under a few thousand generated bad requests', () => {
  let database: TestDatabase;
  let api: RunningApp;

  before(async () => {
    database = await createTestDatabase();
    await createFixtureDataset(database.url, { perStation: 50 });
    api = await startApp(database.url);
  });
  after(async () => {
    await api?.close();
    await database?.drop();
  });

  it('never answers 5xx, always answers what the OpenAPI document describes (problems for errors), and keeps serving afterwards', async () => {
    const contract = new ContractChecker((await (await api.get('/openapi.json')).json()) as Document);
    const random = prng(20_161_001);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const url = new URL(api.base);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const send = (request: ReturnType<typeof generate>) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: request.method,
            path: request.path,
            headers: request.headers,
            agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
              const type = res.headers['content-type'] ?? '';
              if (status >= 500) failures.push(`${status} ${request.method} ${request.path.slice(0, 200)}`);
              else if (status >= 400 && request.method !== 'HEAD' && type !== 'application/problem+json') {
                failures.push(`${status} without problem+json: ${request.path.slice(0, 200)}`);
              }
              try {
                contract.check(
                  request.method,
                  request.path,
                  { status, contentType: type },
                  Buffer.concat(chunks).toString('utf8'),
                );
              } catch (error) {
                failures.push((error as Error).message.slice(0, 500));
              }
              resolve();
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    const total = 3000;
    const requests = Array.from({ length: total }, () => generate(random));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) await send(requests[next++]!);
      }),
    );
    agent.destroy();
    expect(failures, failures.slice(0, 10).join('\n')).to.deep.equal([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).to.equal(total);
    // The generator must actually reach the validators, not only the 404 path.
    expect(statuses.get(400) ?? 0).to.be.greaterThan(500);
    expect((await api.get('/air_quality?limit=1')).status).to.equal(200);
  });

  it('answers a 10 KB query string with a 400 naming the parameter, not a bare 431', async () => {
    const response = await api.get(`/air_quality?station=${'x'.repeat(10_240)}`);
    expect(response.status).to.equal(400);
    const body = (await response.json()) as { errors: { param: string; detail: string }[] };
    expect(body.errors[0]).to.deep.equal({
      param: 'station',
      detail: `${JSON.stringify(`${'x'.repeat(60)}…`)}: longer than 200 characters`,
    });
  });

  it('answers a request whose headers exceed 64 KiB with a 431 problem document', async () => {
    const response = await api.get(`/air_quality?station=${'x'.repeat(70_000)}`);
    expect(response.status).to.equal(431);
    expect(response.headers.get('content-type')).to.equal('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).to.contain('shorten the query');
  });
});
