import { Transform, pipeline } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { cacheable } from '../caching.ts';
import { DEFAULT_LIMIT, READING_TYPES, readingsQuery } from '../contract.ts';
import { checkCursorDataset, decodeCursor, queryDigest } from '../cursor.ts';
import type { Position, ReadingFilter } from '../domain.ts';
import { filterKey, nextLink } from '../pagination.ts';
import { canonicalQuery, checkRange, parseQuery } from '../params.ts';
import { notAcceptable } from '../problem.ts';
import { csvHeader, csvLine, ndjsonLine, readingsPage, type RawRow } from '../shape.ts';
import { listReadings, streamReadings } from '../sql/measurements.ts';
import { readConsistently, servedDataset, type RouteDeps } from './deps.ts';

// An export may legitimately run for minutes; it gets its own bound instead of the per-query statement_timeout.
export const EXPORT_STATEMENT_TIMEOUT_MS = 15 * 60_000;
const FLUSH_BYTES = 64 * 1024;

export function readingsRoutes(router: Router, deps: RouteDeps): void {
  router.get('/air_quality', async (ctx) => {
    const q = parseQuery(ctx.querystring, readingsQuery);
    const filter: ReadingFilter = { stations: q.station, from: q.from, to: q.to, pollutants: q.pollutants, order: q.order };
    checkRange(filter);
    const key = filterKey(filter);
    const digest = queryDigest(key);
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, digest, deps.config.cursorKey);
    const after = cursor?.position;
    const type = ctx.accepts(...READING_TYPES);
    if (!type) throw notAcceptable(READING_TYPES);
    const dataset = await servedDataset(deps.db);
    checkCursorDataset(cursor, dataset.version);
    const normalised = `${ctx.path}?${canonicalQuery({ q: key, limit: q.limit, cursor: q.cursor })}|${type}`;
    if (cacheable(ctx, deps.config, dataset.version, normalised)) return;

    if (type !== 'application/json') {
      ctx.type = type === 'text/csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
      if (type === 'text/csv') ctx.set('Content-Disposition', `inline; filename="air_quality-${dataset.version}.csv"`);
      if (ctx.method === 'HEAD') {
        // Headers only: no cursor is opened for a body that would not be sent.
        ctx.status = 200;
        return;
      }
      await streamExport(ctx, deps, dataset.id, filter, after, q.limit, type);
      return;
    }

    const limit = q.limit ?? DEFAULT_LIMIT;
    const read = await readConsistently(deps.db, dataset, (d) => listReadings(deps.db, d.id, filter, after, limit + 1), (r) => !r.length);
    if (read.dataset !== dataset) checkCursorDataset(cursor, read.dataset.version);
    if (read.dataset !== dataset) cacheable(ctx, deps.config, read.dataset.version, normalised);
    const rows = read.result;
    const more = rows.length > limit;
    if (more) rows.pop();
    const last = rows.at(-1);
    const next = more && last ? nextLink(ctx.path, key, limit, { at: last.measured_at, station: last.station_id }, digest, read.dataset.version, deps.config.cursorKey) : null;
    if (next) ctx.set('Link', `<${next}>; rel="next"`);
    ctx.body = readingsPage({ version: read.dataset.version, order: filter.order, rows, pollutants: filter.pollutants, next });
  });
}

/**
 * Streams every matching row (or `limit` rows) from a server-side cursor through a formatter into the response;
 * pipe() backpressure keeps memory flat whatever the size, and a client that goes away stops the query.
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
  const rows = streamReadings(client, datasetId, filter, after, limit, EXPORT_STATEMENT_TIMEOUT_MS + deps.config.dbQueryTimeoutMs);
  const csv = type === 'text/csv';
  let pending = csv ? csvHeader(filter.pollutants) : '';
  const format = new Transform({
    writableObjectMode: true,
    transform(row: RawRow, _encoding, done) {
      pending += csv ? csvLine(row) : ndjsonLine(row, filter.pollutants);
      if (pending.length >= FLUSH_BYTES) {
        const chunk = pending;
        pending = '';
        done(null, chunk);
      } else done();
    },
    flush(done) {
      done(null, pending || undefined);
    },
  });
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
    // (no terminating chunk), which every HTTP client reports as a truncated body.
    client.release(error);
    if (error.name !== 'AbortError' && (error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      deps.log.error({ requestId: ctx.state.requestId, err: error }, 'export failed mid-stream');
      ctx.req.socket.destroy();
      rows.destroy();
    }
  };
  // A dropped connection fails the cursor only at its next fetch, and closing a cursor on a dead connection waits
  // forever for an answer: the connection's own error ends the export at once.
  const lost = (error: Error) => settle(error);
  client.on('error', lost);
  pipeline(rows, format, settle);
  ctx.body = format;
}
