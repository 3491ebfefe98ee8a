import { pipeline } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { cacheable } from '../caching.ts';
import { DEFAULT_LIMIT, READING_TYPES, readingsQuery } from '../contract.ts';
import { checkCursorDataset } from '../cursor.ts';
import type { Position, ReadingFilter } from '../domain.ts';
import { nextLink, openQuery } from '../pagination.ts';
import { canonicalQuery, parseQuery } from '../params.ts';
import { notAcceptable } from '../problem.ts';
import { exportStream } from '../export-stream.ts';
import { rawPosition, readingsPageBody, type RawRow } from '../raw-readings.ts';
import { activeDataset, type ActiveDataset } from '../sql/datasets.ts';
import { copyReadings, listReadings, readPage } from '../sql/measurements.ts';
import { afterDatasetSwitch, noDatasetYet, readConsistently, servedDataset, type RouteDeps } from './deps.ts';

// An export may legitimately run for minutes; it gets its own bound instead of the per-query statement_timeout.
export const EXPORT_STATEMENT_TIMEOUT_MS = 15 * 60_000;

export function readingsRoutes(router: Router, deps: RouteDeps): void {
  router.get('/air_quality', async (ctx) => {
    const q = parseQuery(ctx.querystring, readingsQuery);
    const { filter, key, digest, cursor } = openQuery(q, deps.config.cursorKey);
    const after = cursor?.position;
    const type = ctx.accepts(...READING_TYPES);
    if (!type) throw notAcceptable(READING_TYPES);
    const normalised = `${ctx.path}?${canonicalQuery({ q: key, limit: q.limit, cursor: q.cursor })}|${type}`;
    const limit = q.limit ?? DEFAULT_LIMIT;
    let dataset: ActiveDataset;
    let rows: RawRow[];
    if (type === 'application/json' && !ctx.get('If-None-Match')) {
      // The dataset and the page in one round trip; a conditional request asks for the version first instead, so
      // that answering 304 runs no page query.
      ({ dataset, rows } = await readPageConsistently(deps, filter, after, limit + 1));
      checkCursorDataset(cursor, dataset.version);
      cacheable(ctx, deps.config, dataset.version, normalised);
    } else {
      dataset = await servedDataset(deps.db);
      checkCursorDataset(cursor, dataset.version);
      if (cacheable(ctx, deps.config, dataset.version, normalised)) return;

      if (type !== 'application/json') {
        ctx.type = type === 'text/csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
        if (type === 'text/csv')
          ctx.set('Content-Disposition', `inline; filename="air_quality-${dataset.version}.csv"`);
        if (ctx.method === 'HEAD') {
          // Headers only: no cursor is opened for a body that would not be sent.
          ctx.status = 200;
          return;
        }
        await streamExport(ctx, deps, dataset.id, filter, after, q.limit, type);
        return;
      }

      const read = await readConsistently(
        deps.db,
        dataset,
        (d) => listReadings(deps.db, d.id, filter, after, limit + 1),
        (r) => !r.length,
      );
      afterDatasetSwitch(ctx, deps.config, dataset, read.dataset, cursor, normalised);
      dataset = read.dataset;
      rows = read.result;
    }
    const more = rows.length > limit;
    if (more) rows.pop();
    const last = rows.at(-1);
    const next =
      more && last
        ? nextLink(ctx.path, key, limit, rawPosition(last), digest, dataset.version, deps.config.cursorKey)
        : null;
    if (next) ctx.set('Link', `<${next}>; rel="next"`);
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = readingsPageBody({
      version: dataset.version,
      order: filter.order,
      rows,
      pollutants: filter.pollutants,
      next,
    });
  });
}

/**
 * readPage, with readConsistently's care: a page that comes back empty because a seed's switch dropped its dataset
 * between the snapshot and the read is read again from the dataset active now. 503 while no dataset is loaded.
 */
async function readPageConsistently(
  deps: RouteDeps,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number,
): Promise<{ dataset: ActiveDataset; rows: RawRow[] }> {
  let page = await readPage(deps.db, filter, after, limit);
  if (page.dataset && !page.rows.length) {
    const now = await activeDataset(deps.db);
    if (now && now.id !== page.dataset.id) page = await readPage(deps.db, filter, after, limit);
  }
  if (!page.dataset) throw noDatasetYet();
  return { dataset: page.dataset, rows: page.rows };
}

/**
 * Streams every matching row (or `limit` rows) from PostgreSQL's COPY through a formatter into the response; pipe()
 * backpressure pauses the database connection when the client reads slowly, so memory stays flat whatever the size,
 * and a client that goes away ends the connection, which stops the query.
 */
async function streamExport(
  ctx: Context,
  deps: RouteDeps,
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number | undefined,
  type: string,
): Promise<void> {
  const client = await deps.db.connect();
  try {
    await client.query(`SET statement_timeout = ${EXPORT_STATEMENT_TIMEOUT_MS}`);
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  const rows = copyReadings(
    client,
    datasetId,
    filter,
    after,
    limit,
    EXPORT_STATEMENT_TIMEOUT_MS + deps.config.dbQueryTimeoutMs,
  );
  const format = exportStream(type === 'text/csv' ? 'csv' : 'ndjson', filter.pollutants);
  let settled = false;
  const settle = (error: Error | null | undefined) => {
    if (settled) return;
    settled = true;
    client.removeListener('error', lost);
    if (!error) {
      client.query('RESET statement_timeout').then(
        () => client.release(),
        (resetError: Error) => client.release(resetError),
      );
      return;
    }
    // A client that hung up is routine; a database error mid-stream can only be signalled by cutting the response
    // (no terminating chunk), which every HTTP client reports as a truncated body. Releasing with the error closes the
    // connection, which ends a COPY still running.
    client.release(error);
    if (error.name !== 'AbortError' && (error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      deps.log.error({ requestId: ctx.state.requestId, err: error }, 'export failed mid-stream');
      ctx.req.socket.destroy();
      rows.destroy();
    }
  };
  // A connection that drops mid-COPY may never end the stream: the connection's own error ends the export at once.
  const lost = (error: Error) => settle(error);
  client.on('error', lost);
  pipeline(rows, format, settle);
  ctx.body = format;
}
