import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset } from './support/fixtures.ts';

const PUBLIC = [
  '/',
  '/openapi.json',
  '/air_quality?limit=1',
  '/air_quality/stations',
  '/air_quality/stations/aq_01',
  '/air_quality/aggregates?interval=day&limit=1',
];

describe('CORS on the public read-only routes', () => {
  let database: TestDatabase;
  let open: RunningApp;
  let listed: RunningApp;

  before(async () => {
    database = await createTestDatabase();
    await createFixtureDataset(database.url, { perStation: 4 });
    open = await startApp(database.url);
    listed = await startApp(database.url, { corsOrigins: ['https://maps.example', 'http://localhost:3000'] });
  });
  after(async () => {
    await Promise.all([open?.close(), listed?.close()]);
    await database?.drop();
  });

  const preflight = (app: RunningApp, path: string, origin: string, method = 'GET') =>
    fetch(app.base + path, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'if-none-match',
      },
    });

  describe('with the default (any origin)', () => {
    it('lets any page read every public route, errors included, without credentials and without varying by Origin', async () => {
      for (const path of [...PUBLIC, '/air_quality?limit=0', '/air_quality/stations/nowhere']) {
        const response = await open.get(path, { Origin: 'https://anywhere.example' });
        expect(response.headers.get('access-control-allow-origin'), path).to.equal('*');
        expect(response.headers.get('access-control-allow-credentials'), path).to.equal(null);
        expect(response.headers.get('access-control-expose-headers'), path)
          .to.contain('ETag')
          .and.contain('Link')
          .and.contain('X-Request-Id');
        expect(response.headers.get('vary') ?? '', path).to.not.contain('Origin');
      }
    });

    it('sends the header without an Origin too, so a cached copy serves browsers', async () => {
      const response = await open.get('/air_quality/stations');
      expect(response.headers.get('access-control-allow-origin')).to.equal('*');
    });

    it('answers a preflight for GET and HEAD with 204, the methods and the request headers it accepts', async () => {
      for (const method of ['GET', 'HEAD']) {
        const response = await preflight(open, '/air_quality', 'https://anywhere.example', method);
        expect(response.status).to.equal(204);
        expect(response.headers.get('access-control-allow-origin')).to.equal('*');
        expect(response.headers.get('access-control-allow-methods')).to.equal('GET, HEAD');
        expect(response.headers.get('access-control-allow-headers')).to.contain('If-None-Match');
        expect(response.headers.get('access-control-max-age')).to.equal('600');
      }
    });

    it('refuses a preflight for a method that would write, and stays off the operational routes', async () => {
      const write = await preflight(open, '/air_quality', 'https://anywhere.example', 'DELETE');
      expect(write.headers.get('access-control-allow-origin')).to.equal(null);
      for (const path of ['/metrics', '/health/ready', '/docs']) {
        const response = await open.get(path, { Origin: 'https://anywhere.example' });
        expect(response.headers.get('access-control-allow-origin'), path).to.equal(null);
        const pre = await preflight(open, path, 'https://anywhere.example');
        expect(pre.headers.get('access-control-allow-origin'), path).to.equal(null);
      }
    });
  });

  describe('with CORS_ORIGINS listing origins', () => {
    it('echoes a listed origin and varies by Origin', async () => {
      for (const path of PUBLIC) {
        const response = await listed.get(path, { Origin: 'http://localhost:3000' });
        expect(response.status, path).to.equal(200);
        expect(response.headers.get('access-control-allow-origin'), path).to.equal('http://localhost:3000');
        expect(response.headers.get('vary'), path).to.contain('Origin');
      }
      const pre = await preflight(listed, '/air_quality', 'https://maps.example');
      expect(pre.status).to.equal(204);
      expect(pre.headers.get('access-control-allow-origin')).to.equal('https://maps.example');
    });

    it('gives an origin not on the list no CORS header, yet still answers the request itself', async () => {
      const response = await listed.get('/air_quality?limit=1', { Origin: 'https://evil.example' });
      expect(response.status).to.equal(200);
      expect(response.headers.get('access-control-allow-origin')).to.equal(null);
      expect(response.headers.get('vary')).to.contain('Origin');
      const pre = await preflight(listed, '/air_quality', 'https://evil.example');
      expect(pre.headers.get('access-control-allow-origin')).to.equal(null);
      const none = await listed.get('/air_quality?limit=1');
      expect(none.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });
});
