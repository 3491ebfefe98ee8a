import type Router from '@koa/router';
import { cacheable } from '../caching.ts';
import { DEFAULT_LIMIT, aggregatesQuery } from '../contract.ts';
import { checkCursorDataset } from '../cursor.ts';
import { acceptJson } from '../negotiation.ts';
import { nextLink, openQuery } from '../pagination.ts';
import { canonicalQuery, parseQuery } from '../params.ts';
import { aggregatesPage } from '../shape.ts';
import { listAggregates } from '../sql/measurements.ts';
import { afterDatasetSwitch, readConsistently, servedDataset, type RouteDeps } from './deps.ts';

export function aggregatesRoutes(router: Router, deps: RouteDeps): void {
  router.get('/air_quality/aggregates', async (ctx) => {
    const q = parseQuery(ctx.querystring, aggregatesQuery);
    const { filter, key, digest, cursor } = openQuery(q, deps.config.cursorKey, { interval: q.interval });
    const after = cursor?.position;
    acceptJson(ctx);
    const dataset = await servedDataset(deps.db);
    checkCursorDataset(cursor, dataset.version);
    const limit = q.limit ?? DEFAULT_LIMIT;
    const normalised = `${ctx.path}?${canonicalQuery({ q: key, limit, cursor: q.cursor })}`;
    if (cacheable(ctx, deps.config, dataset.version, normalised)) return;
    const read = await readConsistently(
      deps.db,
      dataset,
      (d) => listAggregates(deps.db, d.id, filter, q.interval, after, limit + 1),
      (r) => !r.length,
    );
    afterDatasetSwitch(ctx, deps.config, dataset, read.dataset, cursor, normalised);
    const rows = read.result;
    const more = rows.length > limit;
    if (more) rows.pop();
    const last = rows.at(-1);
    const next =
      more && last
        ? nextLink(
            ctx.path,
            key,
            limit,
            { at: last.bucket, station: last.station_id },
            digest,
            read.dataset.version,
            deps.config.cursorKey,
          )
        : null;
    if (next) ctx.set('Link', `<${next}>; rel="next"`);
    ctx.body = aggregatesPage({
      version: read.dataset.version,
      interval: q.interval,
      order: filter.order,
      rows,
      pollutants: filter.pollutants,
      next,
    });
  });
}
