import type Router from '@koa/router';
import { noStore } from '../caching.ts';
import { parseQuery } from '../params.ts';
import { Problem, unavailable } from '../problem.ts';
import { databaseState } from '../sql/datasets.ts';
import type { RouteDeps } from './deps.ts';
import { openApiDocument } from '../openapi.ts';

/** Health, readiness, metrics and the API description: never cached, never dependent on a dataset. */
export function operationsRoutes(router: Router, deps: RouteDeps): void {
  router.get('/health/live', (ctx) => {
    parseQuery(ctx.querystring, {});
    noStore(ctx);
    ctx.body = { status: 'live', version: deps.config.appVersion, instance: deps.instanceId };
  });
  router.get('/health/ready', async (ctx) => {
    parseQuery(ctx.querystring, {});
    noStore(ctx);
    if (deps.lifecycle.shuttingDown) throw unavailable(`instance ${deps.instanceId} is shutting down`);
    let state;
    try {
      state = await databaseState(deps.db);
    } catch (error) {
      deps.log.warn({ requestId: ctx.state.requestId, err: error }, 'readiness: database unreachable');
      throw new Problem(503, 'the database is unreachable; check DATABASE_URL and that PostgreSQL is up', {
        headers: { 'Retry-After': '5' },
      });
    }
    const required = await deps.requiredSchemaVersion();
    if (state.schemaVersion === null || state.schemaVersion < required) {
      throw unavailable(
        `the database schema is at version ${state.schemaVersion ?? 'none'}, this build needs ${required}; run \`node db/src/cli.ts migrate\``,
      );
    }
    ctx.body = {
      status: 'ready',
      version: deps.config.appVersion,
      instance: deps.instanceId,
      dataset: state.dataset?.version ?? null,
    };
  });
  router.get('/metrics', async (ctx) => {
    parseQuery(ctx.querystring, {});
    noStore(ctx);
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  router.get('/openapi.json', (ctx) => {
    parseQuery(ctx.querystring, {});
    ctx.set('Cache-Control', `public, max-age=${deps.config.cacheMaxAgeSeconds}`);
    ctx.body = openApiDocument(deps.config.appVersion);
  });
}
