import http from 'node:http';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset, type FixtureDataset } from './support/fixtures.ts';

interface Reading {
  station: string;
  measuredAt: string;
  measurements: { parameter: string; value: number | null; unit: string }[];
}
interface Page {
  dataset: { version: string };
  order: string;
  count: number;
  data: Reading[];
  next: string | null;
}

describe('API over a 10,000-row dataset', () => {
  let database: TestDatabase;
  let dataset: FixtureDataset;
  let api: RunningApp;

  before(async () => {
    database = await createTestDatabase();
    dataset = await createFixtureDataset(database.url, { perStation: 1000 });
    api = await startApp(database.url, { cacheMaxAgeSeconds: 30, cacheStaleWhileRevalidateSeconds: 90 });
  });
  after(async () => {
    await api?.close();
    await database?.drop();
  });

  async function json<T = Page>(path: string, headers?: Record<string, string>): Promise<T> {
    const response = await api.get(path, headers);
    expect(response.status, `${path}: ${await response.clone().text()}`).to.equal(200);
    return (await response.json()) as T;
  }

  async function problem(path: string, status: number, headers?: Record<string, string>) {
    const response = await api.get(path, headers);
    const body = (await response.json()) as {
      status: number;
      title: string;
      detail: string;
      errors?: { param: string; detail: string }[];
    };
    expect(response.status, `${path}: ${JSON.stringify(body)}`).to.equal(status);
    expect(response.headers.get('content-type')).to.equal('application/problem+json');
    expect(body.status).to.equal(status);
    expect(response.headers.get('cache-control')).to.equal('no-store');
    return { response, body };
  }

  async function walk(first: string): Promise<{ readings: Reading[]; pages: number }> {
    const readings: Reading[] = [];
    let path: string | null = first;
    let pages = 0;
    while (path) {
      const response = await api.get(path);
      expect(response.status).to.equal(200);
      const page = (await response.json()) as Page;
      const link = response.headers.get('link');
      if (page.next) expect(link).to.equal(`<${page.next}>; rel="next"`);
      else expect(link).to.equal(null);
      readings.push(...page.data);
      path = page.next;
      pages++;
    }
    return { readings, pages };
  }

  const key = (r: Reading) => `${r.measuredAt}|${r.station}`;

  describe('GET /air_quality', () => {
    it('serves the newest readings first with their station, ISO timestamp, grouped measurements and units', async () => {
      const page = await json('/air_quality?limit=3');
      expect(page.dataset.version).to.equal(dataset.version);
      expect(page.order).to.equal('desc');
      expect(page.count).to.equal(3);
      const first = page.data[0]!;
      expect(first.measuredAt).to.match(/^2016-10-11T09:45:00\.\d{3}Z$/);
      expect(first.station).to.equal('aq_09');
      expect(first.measurements.map((m) => m.parameter)).to.deep.equal(['so2', 'no2', 'co', 'o3', 'pm10', 'pm2_5']);
      expect(first.measurements.find((m) => m.parameter === 'co')!.unit).to.equal('mg/m³');
      expect(first.measurements.find((m) => m.parameter === 'no2')!.unit).to.equal('µg/m³');
    });

    it('returns 100 readings by default and reports missing values as null', async () => {
      const page = await json('/air_quality');
      expect(page.count).to.equal(100);
      expect(page.data.some((r) => r.measurements[0]!.value === null)).to.equal(true);
    });

    for (const order of ['desc', 'asc'] as const) {
      it(`walks all 10,000 readings ${order} through next links without losing or repeating one`, async () => {
        const { readings, pages } = await walk(`/air_quality?order=${order}&limit=1000`);
        expect(pages).to.equal(10);
        expect(readings).to.have.length(10_000);
        expect(new Set(readings.map(key)).size).to.equal(10_000);
        const sorted = [...readings].sort((a, b) => (key(a) < key(b) ? -1 : 1));
        expect(readings.map(key)).to.deep.equal(order === 'asc' ? sorted.map(key) : sorted.reverse().map(key));
      });
    }

    it('walks a filtered query with odd page sizes and keeps the filter on every page', async () => {
      const { readings } = await walk(
        '/air_quality?station=aq_03,aq_07&from=2016-10-02&to=2016-10-03&limit=37&order=asc',
      );
      expect(readings).to.have.length(2 * 96);
      expect(new Set(readings.map((r) => r.station))).to.deep.equal(new Set(['aq_03', 'aq_07']));
      expect(readings.every((r) => r.measuredAt.startsWith('2016-10-02'))).to.equal(true);
    });

    it('filters by one station, by several (repeated or comma-separated) and by time range with an exclusive end', async () => {
      const one = await json('/air_quality?station=aq_01&limit=1000');
      expect(one.data.every((r) => r.station === 'aq_01')).to.equal(true);
      const repeated = await json('/air_quality?station=aq_01&station=aq_02&limit=1000');
      const commas = await json('/air_quality?station=aq_02,aq_01&limit=1000');
      expect(repeated.data).to.deep.equal(commas.data);
      expect(new Set(repeated.data.map((r) => r.station))).to.deep.equal(new Set(['aq_01', 'aq_02']));
      const range = await json(
        '/air_quality?station=aq_00&from=2016-10-01T01:00:00Z&to=2016-10-01T02:00:00.003Z&order=asc',
      );
      // aq_00's readings sit at +3 ms (+ n % 5 ms): 01:00, 01:15, 01:30, 01:45 and 02:00 at +3 ms is excluded.
      expect(range.data.map((r) => r.measuredAt)).to.deep.equal([
        '2016-10-01T01:00:00.007Z',
        '2016-10-01T01:15:00.003Z',
        '2016-10-01T01:30:00.004Z',
        '2016-10-01T01:45:00.005Z',
      ]);
      const offset = await json(
        '/air_quality?station=aq_00&from=2016-10-01T03:00:00%2B02:00&to=2016-10-01T02:00:00Z&order=asc',
      );
      expect(offset.data.map((r) => r.measuredAt)).to.deep.equal(range.data.map((r) => r.measuredAt));
    });

    it('returns only the requested pollutants', async () => {
      const page = await json('/air_quality?pollutants=pm10,co&limit=5');
      for (const reading of page.data)
        expect(reading.measurements.map((m) => m.parameter)).to.deep.equal(['co', 'pm10']);
    });

    it('returns an empty page, with no next link, for a station that has no readings', async () => {
      const page = await json('/air_quality?station=nowhere');
      expect(page).to.include({ count: 0, next: null });
    });

    it('exports every matching reading as CSV with the source columns', async () => {
      const response = await api.get('/air_quality?station=aq_04&order=asc', { Accept: 'text/csv' });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
      const lines = (await response.text()).trimEnd().split('\n');
      expect(lines[0]).to.equal('TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5');
      expect(lines).to.have.length(1001);
      expect(lines[1]).to.match(/^2016-10-01T00:00:00\.015Z,aq_04,[\d.]*,[\d.]+,[\d.]+,[\d.]+,[\d.]+,[\d.]+$/);
      expect(lines.some((line) => line.includes('aq_04,,'))).to.equal(true);
    });

    it('exports the whole dataset as NDJSON whose lines equal the JSON readings', async () => {
      const response = await api.get('/air_quality', { Accept: 'application/x-ndjson' });
      expect(response.headers.get('content-type')).to.equal('application/x-ndjson; charset=utf-8');
      const lines = (await response.text()).trimEnd().split('\n');
      expect(lines).to.have.length(10_000);
      const page = await json('/air_quality?limit=50');
      expect(lines.slice(0, 50).map((line) => JSON.parse(line))).to.deep.equal(page.data);
    });

    it('honours limit and pollutants in an export', async () => {
      const response = await api.get('/air_quality?limit=3&pollutants=co', { Accept: 'text/csv' });
      expect((await response.text()).trimEnd().split('\n')).to.deep.equal([
        'TimeInstant,id_entity,co',
        '2016-10-11T09:45:00.034Z,aq_09,0.59',
        '2016-10-11T09:45:00.031Z,aq_08,0.59',
        '2016-10-11T09:45:00.028Z,aq_07,0.59',
      ]);
    });

    it('answers HEAD for an export with its headers and no body, and without opening a query', async () => {
      const response = await fetch(`${api.base}/air_quality`, { method: 'HEAD', headers: { Accept: 'text/csv' } });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
      expect(response.headers.get('x-dataset-version')).to.equal(dataset.version);
      expect(await response.text()).to.equal('');
    });

    it('prefers JSON for */* and follows q-values', async () => {
      expect((await api.get('/air_quality?limit=1', { Accept: '*/*' })).headers.get('content-type')).to.match(
        /^application\/json/,
      );
      const csv = await api.get('/air_quality?limit=1', { Accept: 'application/json;q=0.5, text/csv' });
      expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
      await csv.text();
    });
  });

  describe('caching headers', () => {
    it('marks data responses public with max-age, stale-while-revalidate, ETag, Vary and the dataset version', async () => {
      for (const path of [
        '/air_quality?limit=2',
        '/air_quality/stations',
        '/air_quality/stations/aq_01',
        '/air_quality/aggregates?interval=day',
      ]) {
        const response = await api.get(path);
        expect(response.status).to.equal(200);
        expect(response.headers.get('cache-control')).to.equal('public, max-age=30, stale-while-revalidate=90');
        expect(response.headers.get('etag')).to.match(new RegExp(`^"${dataset.version}-`));
        expect(response.headers.get('vary')).to.equal('Accept');
        expect(response.headers.get('x-dataset-version')).to.equal(dataset.version);
      }
    });

    it('gives the same ETag whatever the parameter order, and a different one for another query or media type', async () => {
      const a = (await api.get('/air_quality?station=aq_01,aq_02&limit=5&order=asc')).headers.get('etag');
      const b = (await api.get('/air_quality?order=asc&limit=5&station=aq_02&station=aq_01')).headers.get('etag');
      const c = (await api.get('/air_quality?order=asc&limit=6&station=aq_02&station=aq_01')).headers.get('etag');
      const d = await api.get('/air_quality?station=aq_01,aq_02&limit=5&order=asc', { Accept: 'text/csv' });
      await d.text();
      expect(a).to.equal(b);
      expect(c).to.not.equal(a);
      expect(d.headers.get('etag')).to.not.equal(a);
    });

    it('answers 304 with no body when If-None-Match names the current ETag, and 200 for a stale one', async () => {
      const first = await api.get('/air_quality/aggregates?interval=hour&limit=3');
      const etag = first.headers.get('etag')!;
      const again = await api.get('/air_quality/aggregates?interval=hour&limit=3', {
        'If-None-Match': `"other", ${etag}`,
      });
      expect(again.status).to.equal(304);
      expect(await again.text()).to.equal('');
      expect(again.headers.get('x-dataset-version')).to.equal(dataset.version);
      const stale = await api.get('/air_quality/aggregates?interval=hour&limit=3', {
        'If-None-Match': '"old-version"',
      });
      expect(stale.status).to.equal(200);
    });

    it('marks health, readiness and metrics no-store', async () => {
      for (const path of ['/health/live', '/health/ready', '/metrics']) {
        expect((await api.get(path)).headers.get('cache-control'), path).to.equal('no-store');
      }
    });
  });

  describe('stations', () => {
    it('lists every station with first and last reading, count and latest values', async () => {
      const body = await json<{
        count: number;
        data: {
          id: string;
          firstMeasuredAt: string;
          lastMeasuredAt: string;
          readings: number;
          latest: { measuredAt: string; measurements: unknown[] };
        }[];
      }>('/air_quality/stations');
      expect(body.count).to.equal(10);
      expect(body.data.map((s) => s.id)).to.deep.equal(dataset.stations);
      const s = body.data[2]!;
      expect(s).to.include({ id: 'aq_02', readings: 1000 });
      expect(s.firstMeasuredAt).to.equal('2016-10-01T00:00:00.009Z');
      expect(s.lastMeasuredAt).to.equal(s.latest.measuredAt);
      expect(s.latest.measurements).to.have.length(6);
    });

    it('shows one station by id', async () => {
      const body = await json<{ id: string; readings: number; dataset: { version: string } }>(
        '/air_quality/stations/aq_05',
      );
      expect(body).to.include({ id: 'aq_05', readings: 1000 });
      expect(body.dataset.version).to.equal(dataset.version);
    });

    it('answers 404 for an unknown station id', async () => {
      const { body } = await problem('/air_quality/stations/aq_99', 404);
      expect(body.detail).to.contain('aq_99');
    });
  });

  describe('aggregates', () => {
    it('computes avg, min, max and count per day and station, matching the raw readings', async () => {
      const body = await json<{
        data: {
          bucket: string;
          station: string;
          readings: number;
          measurements: { parameter: string; avg: number; min: number; max: number; count: number }[];
        }[];
      }>('/air_quality/aggregates?interval=day&station=aq_01&from=2016-10-02&to=2016-10-03');
      expect(body.data).to.have.length(1);
      const bucket = body.data[0]!;
      expect(bucket).to.include({ bucket: '2016-10-02T00:00:00.000Z', station: 'aq_01', readings: 96 });
      const raw = await json('/air_quality?station=aq_01&from=2016-10-02&to=2016-10-03&limit=1000&pollutants=no2,so2');
      const no2 = raw.data.map((r) => r.measurements.find((m) => m.parameter === 'no2')!.value as number);
      const so2 = raw.data
        .map((r) => r.measurements.find((m) => m.parameter === 'so2')!.value)
        .filter((v) => v !== null);
      const stat = bucket.measurements.find((m) => m.parameter === 'no2')!;
      expect(stat.min).to.equal(Math.min(...no2));
      expect(stat.max).to.equal(Math.max(...no2));
      expect(stat.avg).to.be.closeTo(no2.reduce((a, b) => a + b, 0) / no2.length, 1e-9);
      expect(bucket.measurements.find((m) => m.parameter === 'so2')!.count).to.equal(so2.length);
    });

    it('pages through hourly buckets in both orders without losing or repeating one', async () => {
      for (const order of ['asc', 'desc']) {
        const seen: string[] = [];
        let path: string | null = `/air_quality/aggregates?interval=hour&order=${order}&limit=333&pollutants=pm10`;
        while (path) {
          const page: { data: { bucket: string; station: string }[]; next: string | null } = await json(path);
          seen.push(...page.data.map((b) => `${b.bucket}|${b.station}`));
          path = page.next;
        }
        // 1000 readings every 15 minutes = 250 hours per station.
        expect(seen).to.have.length(2500);
        expect(new Set(seen).size).to.equal(2500);
        const sorted = [...seen].sort();
        expect(seen).to.deep.equal(order === 'asc' ? sorted : sorted.reverse());
      }
    });

    it('requires an interval of hour or day', async () => {
      expect((await problem('/air_quality/aggregates', 400)).body.errors).to.deep.equal([
        { param: 'interval', detail: 'required: hour or day' },
      ]);
      expect((await problem('/air_quality/aggregates?interval=week', 400)).body.errors![0]!.param).to.equal('interval');
    });
  });

  describe('errors', () => {
    it('names each bad parameter and why in one 400', async () => {
      const { body } = await problem('/air_quality?limit=0&from=yesterday&pollutants=co,lead&order=up&colour=red', 400);
      expect(body.errors!.map((e) => e.param).sort()).to.deep.equal(['colour', 'from', 'limit', 'order', 'pollutants']);
      expect(body.errors!.find((e) => e.param === 'pollutants')!.detail).to.contain('"lead"');
      expect(body.errors!.find((e) => e.param === 'colour')!.detail).to.contain('unknown parameter');
    });

    it('refuses impossible dates, from not before to, repeated single parameters and limits over 1000', async () => {
      expect((await problem('/air_quality?from=2016-02-30', 400)).body.errors![0]!.param).to.equal('from');
      expect((await problem('/air_quality?from=2016-10-02&to=2016-10-01', 400)).body.errors![0]!.detail).to.contain(
        'before',
      );
      expect((await problem('/air_quality?limit=5&limit=6', 400)).body.errors![0]!.detail).to.contain('give it once');
      expect((await problem('/air_quality?limit=1001', 400)).body.errors![0]!.param).to.equal('limit');
    });

    it('refuses a tampered cursor, a truncated one and one from a different query', async () => {
      const page = await json('/air_quality?limit=2&station=aq_01');
      const cursor = new URL(page.next!, 'http://x').searchParams.get('cursor')!;
      const [payload, mac] = cursor.split('.');
      const forged = Buffer.from(JSON.stringify(['2016-10-01 00:00:00+00', 'aq_01', 'x'])).toString('base64url');
      for (const bad of [`${forged}.${mac}`, cursor.slice(0, -3), 'garbage', `${payload}`]) {
        const { body } = await problem(`/air_quality?limit=2&station=aq_01&cursor=${encodeURIComponent(bad)}`, 400);
        expect(body.errors![0]!.param).to.equal('cursor');
      }
      const { body } = await problem(`/air_quality?limit=2&station=aq_02&cursor=${cursor}`, 400);
      expect(body.errors![0]!.detail).to.contain('different query');
    });

    it('answers 404 with problem+json for an unknown route', async () => {
      await problem('/air_quality/nope', 404);
    });

    it('answers 405 with Allow for a method a route does not support', async () => {
      const response = await fetch(`${api.base}/air_quality`, { method: 'DELETE' });
      expect(response.status).to.equal(405);
      expect(response.headers.get('allow')).to.equal('HEAD, GET');
      expect(response.headers.get('content-type')).to.equal('application/problem+json');
    });

    it('answers 405 with Allow, never 501 (a 5xx that would page someone), for methods no route implements', async () => {
      for (const method of ['TRACE', 'PROPFIND', 'BREW']) {
        const { status, allow, type } = await new Promise<{ status?: number; allow?: string; type?: string }>(
          (resolve, reject) => {
            const req = http.request(`${api.base}/air_quality`, { method }, (res) => {
              res.resume();
              res.on('end', () =>
                resolve({ status: res.statusCode, allow: res.headers.allow, type: res.headers['content-type'] }),
              );
            });
            req.on('error', reject);
            req.end();
          },
        );
        if (method === 'BREW') {
          // Node's parser refuses methods it does not know before the app sees them.
          expect(status, method).to.equal(400);
          continue;
        }
        expect(status, method).to.equal(405);
        expect(allow, method).to.equal('HEAD, GET');
        expect(type, method).to.equal('application/problem+json');
      }
      const unknownPath = await new Promise<number | undefined>((resolve, reject) => {
        const req = http.request(`${api.base}/nowhere`, { method: 'PROPFIND' }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      });
      expect(unknownPath).to.equal(404);
    });

    it('bounds a 400 however many bad parameters the query holds: 55 KB of unknown names give a body under 4 KB', async () => {
      const query = Array.from({ length: 4000 }, (_, i) => `unknown_${i}=1`).join('&');
      expect(query.length).to.be.greaterThan(55_000);
      const response = await api.get(`/air_quality?${query}`);
      const text = await response.text();
      expect(response.status).to.equal(400);
      expect(text.length).to.be.lessThan(4096);
      const body = JSON.parse(text) as { detail: string; errors: { param: string; detail: string }[] };
      expect(body.errors).to.have.length(11);
      expect(body.errors[10]).to.deep.equal({
        param: '(more)',
        detail: '3990 more problems not listed; fix the ones above first',
      });
      expect(body.detail).to.contain('3990 more problems not listed');
    });

    it('answers 406 when no acceptable media type can be produced', async () => {
      await problem('/air_quality', 406, { Accept: 'image/png' });
      await problem('/air_quality/stations', 406, { Accept: 'text/csv' });
    });

    it('answers 503 with Retry-After when a query exceeds the statement timeout', async () => {
      // Hourly aggregates over all 10,000 rows take several milliseconds; this instance allows one.
      const strict = await startApp(database.url, { dbStatementTimeoutMs: 1 });
      try {
        const response = await strict.get('/air_quality/aggregates?interval=hour&limit=1000');
        const body = (await response.json()) as { detail: string };
        expect(response.status, JSON.stringify(body)).to.equal(503);
        expect(response.headers.get('retry-after')).to.equal('5');
        expect(body.detail).to.contain('statement timeout');
      } finally {
        await strict.close();
      }
    });

    it('puts the instance and request ids on every response, echoing a well-formed X-Request-Id', async () => {
      const echoed = await api.get('/nope', { 'X-Request-Id': 'abc-123' });
      expect(echoed.headers.get('x-request-id')).to.equal('abc-123');
      expect(echoed.headers.get('x-instance-id')).to.match(/^[0-9a-f]{12}$/);
      const replaced = await api.get('/health/live', { 'X-Request-Id': 'bad id with spaces' });
      expect(replaced.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe('operations', () => {
    it('reports liveness and readiness with version, instance and dataset', async () => {
      const live = await json<Record<string, unknown>>('/health/live');
      expect(live).to.include({ status: 'live', version: 'dev' });
      const ready = await json<Record<string, unknown>>('/health/ready');
      expect(ready).to.deep.equal({
        status: 'ready',
        version: 'dev',
        instance: live.instance,
        dataset: dataset.version,
      });
    });

    it('exposes request durations by route and status, pool gauges and process metrics', async () => {
      await api.get('/air_quality/stations');
      const text = await (await api.get('/metrics')).text();
      expect(text).to.match(
        /http_request_duration_seconds_count\{method="GET",route="\/air_quality\/stations",status="200"\} [1-9]/,
      );
      expect(text).to.match(
        /http_request_duration_seconds_count\{method="GET",route="\/air_quality\/stations\/:id",status="404"\} [1-9]/,
      );
      expect(text).to.contain('db_pool_connections_total');
      expect(text).to.contain('process_resident_memory_bytes');
    });
  });
});
