import type Router from '@koa/router';
import { INDEX_LINKS, noQuery, type Index } from '../contract.ts';
import { DOCS_ASSETS, DOCS_CSP, DOCS_PAGE, docsAsset, type DocsAsset } from '../docs-assets.ts';
import { acceptJson } from '../negotiation.ts';
import { cachedOpenApiDocument } from '../openapi.ts';
import { parseQuery } from '../params.ts';
import { Problem, printable } from '../problem.ts';
import type { RouteDeps } from './deps.ts';

/** The API describing itself: an index of links, the OpenAPI document and the interactive reference built on it. */
export function docsRoutes(router: Router, deps: RouteDeps): void {
  const cache = `public, max-age=${deps.config.cacheMaxAgeSeconds}`;
  router.get('/', (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    acceptJson(ctx);
    ctx.set('Cache-Control', cache);
    const body: Index = { name: 'airq air-quality API', version: deps.config.appVersion, links: INDEX_LINKS };
    ctx.body = body;
  });
  router.get('/openapi.json', (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    ctx.set('Cache-Control', cache);
    ctx.body = cachedOpenApiDocument(deps.config.appVersion);
  });
  router.get('/docs', (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    ctx.set('Cache-Control', cache);
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_PAGE;
  });
  router.get('/docs/assets/:file', (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    const file = ctx.params.file ?? '';
    if (!Object.hasOwn(DOCS_ASSETS, file)) {
      throw new Problem(
        'not-found',
        `no asset ${JSON.stringify(printable(file))}; the reference page at /docs names its assets`,
      );
    }
    const name = file as DocsAsset;
    ctx.set('Cache-Control', cache);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = DOCS_ASSETS[name].type;
    ctx.body = docsAsset(name);
  });
}
