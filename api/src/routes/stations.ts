import type Router from '@koa/router';
import { cacheable } from '../caching.ts';
import { noQuery } from '../contract.ts';
import { stationIdProblem } from '../domain.ts';
import { acceptJson } from '../negotiation.ts';
import { parseQuery } from '../params.ts';
import { Problem, badParameters, printable } from '../problem.ts';
import { stationOne, stationsList } from '../shape.ts';
import { findStation, listStations } from '../sql/stations.ts';
import { afterDatasetSwitch, readConsistently, servedDataset, type RouteDeps } from './deps.ts';

export function stationsRoutes(router: Router, deps: RouteDeps): void {
  router.get('/air_quality/stations', async (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    acceptJson(ctx);
    const dataset = await servedDataset(deps.db);
    if (cacheable(ctx, deps.config, dataset.version, ctx.path)) return;
    const read = await readConsistently(
      deps.db,
      dataset,
      (d) => listStations(deps.db, d.id),
      (r) => !r.length,
    );
    afterDatasetSwitch(ctx, deps.config, dataset, read.dataset, undefined, ctx.path);
    ctx.body = stationsList(read.dataset.version, read.result);
  });
  router.get('/air_quality/stations/:id', async (ctx) => {
    parseQuery(ctx.querystring, noQuery);
    const id = ctx.params.id ?? '';
    const problem = stationIdProblem(id);
    if (problem) throw badParameters([{ param: 'id', detail: `${JSON.stringify(printable(id))}: ${problem}` }]);
    acceptJson(ctx);
    const dataset = await servedDataset(deps.db);
    const { dataset: served, result: row } = await readConsistently(
      deps.db,
      dataset,
      (d) => findStation(deps.db, d.id, id),
      (r) => !r,
    );
    if (!row)
      throw new Problem(
        'unknown-station',
        `no station ${JSON.stringify(printable(id))} in dataset ${served.version}; list them at /air_quality/stations`,
      );
    if (cacheable(ctx, deps.config, served.version, `${ctx.path}|${id}`)) return;
    ctx.body = stationOne(served.version, row);
  });
}
