import type Router from '@koa/router';
import { noStore } from '../caching.ts';
import { noQuery, type Live, type Ready } from '../contract.ts';
import { parseQuery } from '../params.ts';
import { Problem } from '../problem.ts';
import { databaseState } from '../sql/datasets.ts';
import type { RouteDeps } from './deps.ts';

/** Health, readiness and metrics: never cached, never dependent on a dataset. */
export function operationsRoutes(router: Router, deps: RouteDeps): void {
  router.get('/health/live', (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    noStore(ctx);
    const body: Live = { status: 'live', version: deps.config.appVersion, instance: deps.instanceId };
    ctx.body = body;
  });
  router.get('/health/ready', async (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    noStore(ctx);
    if (deps.lifecycle.shuttingDown) throw new Problem('shutting-down', `instance ${deps.instanceId} is shutting down`);
    let state;
    try {
      state = await databaseState(deps.db);
    } catch (error) {
      deps.log.warn({ requestId: ctx.state.requestId, err: error }, 'readiness: database unreachable');
      throw new Problem(
        'database-unavailable',
        'the database is unreachable; check DATABASE_URL and that PostgreSQL is up',
      );
    }
    const required = await deps.requiredSchemaVersion();
    if (state.schemaVersion === null || state.schemaVersion < required) {
      throw new Problem(
        'schema-outdated',
        `the database schema is at version ${state.schemaVersion ?? 'none'}, this build needs ${required}; run \`node db/src/cli.ts migrate\``,
      );
    }
    const body: Ready = {
      status: 'ready',
      version: deps.config.appVersion,
      instance: deps.instanceId,
      dataset: state.dataset?.version ?? null,
    };
    ctx.body = body;
  });
  router.get('/metrics', async (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    noStore(ctx);
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
}
