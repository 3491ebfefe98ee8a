import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';

/** Debian's Chromium (`apt-get install -y chromium`); CHROMIUM names another binary. */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshot of the rendered reference is kept for a reader to look at. */
const SCREENSHOT = process.env.DOCS_SCREENSHOT ?? join(tmpdir(), 'airq-docs.png');

describe('GET /docs: the interactive reference in a real browser', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let api: RunningApp;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: install Chromium (apt-get install -y chromium) or set CHROMIUM to its path`);
    }
    database = await createTestDatabase();
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
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) complaints.push(message.text());
    });
    page.on('pageerror', (error) => complaints.push(error.message));

    const response = await page.goto(`${api.base}/docs`);
    expect(response?.status()).to.equal(200);
    expect(response?.headers()['content-security-policy']).to.contain("script-src 'self'").and.contain("default-src 'none'");

    const doc = (await (await api.get('/openapi.json')).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    await page.waitForFunction(`document.querySelectorAll('.opblock').length === ${operations.length}`, undefined, { timeout: 60_000 });
    const shown = await page.$$eval('.opblock .opblock-summary-path', (nodes) => nodes.map((node) => node.getAttribute('data-path')));
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
});
