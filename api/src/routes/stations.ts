import type Router from '@koa/router';
import type { Context } from 'koa';
import { cacheable } from '../caching.ts';
import { parseQuery, printable, stationIdProblem } from '../params.ts';
import { badParameters, notAcceptable, notFound } from '../problem.ts';
import { stationOne, stationsList } from '../shape.ts';
import { findStation, listStations } from '../sql/stations.ts';
import { servedDataset, type RouteDeps } from './deps.ts';

export function acceptJson(ctx: Context): void {
  if (!ctx.accepts('application/json')) throw notAcceptable(['application/json']);
}

export function stationsRoutes(router: Router, deps: RouteDeps): void {
  router.get('/air_quality/stations', async (ctx) => {
    parseQuery(ctx.querystring, {});
    acceptJson(ctx);
    const dataset = await servedDataset(deps.db);
    if (cacheable(ctx, deps.config, dataset.version, ctx.path)) return;
    ctx.body = stationsList(dataset.version, await listStations(deps.db, dataset.id));
  });
  router.get('/air_quality/stations/:id', async (ctx) => {
    parseQuery(ctx.querystring, {});
    const id = ctx.params.id ?? '';
    const problem = stationIdProblem(id);
    if (problem) throw badParameters([{ param: 'id', detail: `${JSON.stringify(printable(id))}: ${problem}` }]);
    acceptJson(ctx);
    const dataset = await servedDataset(deps.db);
    const row = await findStation(deps.db, dataset.id, id);
    if (!row) throw notFound(`no station ${JSON.stringify(printable(id))} in dataset ${dataset.version}; list them at /air_quality/stations`);
    if (cacheable(ctx, deps.config, dataset.version, `${ctx.path}|${id}`)) return;
    ctx.body = stationOne(dataset.version, row);
  });
}
