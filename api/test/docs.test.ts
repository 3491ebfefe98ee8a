import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset } from './support/fixtures.ts';

/** Debian's Chromium (`apt-get install -y chromium`); CHROMIUM names another binary. */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshot of the rendered reference is kept for a reader to look at. */
const SCREENSHOT = process.env.DOCS_SCREENSHOT ?? join(tmpdir(), 'airq-docs.png');

describe('in a real browser (Chromium): GET /docs, and CORS', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let api: RunningApp;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: install Chromium (apt-get install -y chromium) or set CHROMIUM to its path`,
      );
    }
    database = await createTestDatabase();
    await createFixtureDataset(database.url, { perStation: 2 });
    api = await startApp(database.url);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await database?.drop();
  });

  it('renders every operation of the OpenAPI document, fetching nothing from outside the API and breaking no CSP rule', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    const requested: string[] = [];
    const complaints: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text()))
        complaints.push(message.text());
    });
    page.on('pageerror', (error) => complaints.push(error.message));

    const response = await page.goto(`${api.base}/docs`);
    expect(response?.status()).to.equal(200);
    expect(response?.headers()['content-security-policy'])
      .to.contain("script-src 'self'")
      .and.contain("default-src 'none'");

    const doc = (await (await api.get('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    await page.waitForFunction(`document.querySelectorAll('.opblock').length === ${operations.length}`, undefined, {
      timeout: 60_000,
    });
    const shown = await page.$$eval('.opblock .opblock-summary-path', (nodes) =>
      nodes.map((node) => node.getAttribute('data-path')),
    );
    expect([...shown].sort()).to.deep.equal(Object.keys(doc.paths).sort());
    expect(await page.textContent('.info .title')).to.contain('airq air-quality API');

    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(statSync(SCREENSHOT).size).to.be.greaterThan(10_000);
    console.log(`      screenshot: ${SCREENSHOT}`);

    const origin = new URL(api.base).origin;
    expect(requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin)).to.deep.equal([]);
    expect(requested).to.include(`${origin}/openapi.json`);
    expect(complaints).to.deep.equal([]);
  });

  it('lets a page on another origin read the data (with a preflight), and keeps it out when CORS_ORIGINS does not list it', async () => {
    // localhost and 127.0.0.1 are different origins for the browser, the same server for the test.
    const port = new URL(api.base).port;
    const listed = await startApp(database.url, { corsOrigins: ['https://maps.example'] });
    const page = await browser.newPage();
    try {
      await page.goto(`http://localhost:${port}/health/live`);
      const read = (url: string) =>
        page.evaluate(async (target) => {
          try {
            // X-Request-Id is not a CORS-safelisted header: the browser sends a preflight first.
            const response = await fetch(target, { headers: { 'X-Request-Id': 'from-another-origin' } });
            return {
              status: response.status,
              etag: response.headers.get('ETag'),
              requestId: response.headers.get('X-Request-Id'),
            };
          } catch (error) {
            return { error: String(error) };
          }
        }, url);
      const allowed = await read(`${api.base}/air_quality/stations`);
      expect(allowed).to.deep.include({ status: 200, requestId: 'from-another-origin' });
      expect(allowed)
        .to.have.property('etag')
        .that.matches(/^"[0-9a-f]{12}-/);
      expect(await read(`${listed.base}/air_quality/stations`))
        .to.have.property('error')
        .that.contains('Failed to fetch');
    } finally {
      await page.close();
      await listed.close();
    }
  });
});
