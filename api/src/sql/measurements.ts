import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import type { Db } from '../db.ts';
import type { Pollutant, Position, ReadingFilter } from '../domain.ts';

/** One row of `measurements`, timestamps as PostgreSQL prints them in UTC. */
export interface ReadingRow {
  station_id: string;
  measured_at: string;
  so2?: number | null;
  no2?: number | null;
  co?: number | null;
  o3?: number | null;
  pm10?: number | null;
  pm2_5?: number | null;
}

export interface AggregateRow {
  bucket: string;
  station_id: string;
  readings: number;
  [stat: string]: string | number | null;
}

interface Built {
  text: string;
  values: unknown[];
}

/** WHERE clause shared by every query over readings; pollutant names come from a fixed list, values are parameters. */
function where(datasetId: string, filter: ReadingFilter, values: unknown[]): string {
  values.push(datasetId);
  const clauses = [`dataset_id = $${values.length}`];
  if (filter.stations) {
    values.push(filter.stations);
    clauses.push(`station_id = ANY($${values.length}::text[])`);
  }
  if (filter.from) {
    values.push(filter.from.iso);
    clauses.push(`measured_at >= $${values.length}::timestamptz`);
  }
  if (filter.to) {
    values.push(filter.to.iso);
    clauses.push(`measured_at < $${values.length}::timestamptz`);
  }
  return clauses.join(' AND ');
}

/** The SELECT behind a page or an export of readings, in keyset order. */
export function readingsQuery(
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number | undefined,
): Built {
  const values: unknown[] = [];
  let sql = `SELECT station_id, measured_at${filter.pollutants.map((p) => `, ${p}`).join('')}
    FROM measurements WHERE ${where(datasetId, filter, values)}`;
  const dir = filter.order === 'asc' ? 'ASC' : 'DESC';
  if (after) {
    values.push(after.at, after.station);
    sql += ` AND (measured_at, station_id) ${filter.order === 'asc' ? '>' : '<'} ($${values.length - 1}::timestamptz, $${values.length})`;
  }
  sql += ` ORDER BY measured_at ${dir}, station_id ${dir}`;
  if (limit !== undefined) {
    values.push(limit);
    sql += ` LIMIT $${values.length}`;
  }
  return { text: sql, values };
}

export async function listReadings(
  db: Db,
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number,
): Promise<ReadingRow[]> {
  const { text, values } = readingsQuery(datasetId, filter, after, limit);
  return (await db.query<ReadingRow>(text, values)).rows;
}

const rawText = { getTypeParser: () => (value: string) => value };

/**
 * Streams readings as arrays of raw PostgreSQL text (station, timestamp, then the filter's pollutants), fetched in
 * batches through a server-side cursor so memory stays flat. The stream owns `client` and releases it when it ends.
 */
export function streamReadings(
  client: pg.PoolClient,
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number | undefined,
  timeoutMs: number,
): QueryStream {
  const { text, values } = readingsQuery(datasetId, filter, after, limit);
  const stream = new QueryStream(text, values, { batchSize: 2000, highWaterMark: 4000, rowMode: 'array', types: rawText });
  // pg reads the client-side timeout from the query itself before the pool's, which is meant for short queries.
  Object.assign(stream, { query_timeout: timeoutMs });
  return client.query(stream);
}

const BUCKET = { hour: 'hour', day: 'day' } as const;

export function aggregatesQuery(
  datasetId: string,
  filter: ReadingFilter,
  interval: 'hour' | 'day',
  after: Position | undefined,
  limit: number,
): Built {
  const values: unknown[] = [];
  const trunc = `date_trunc('${BUCKET[interval]}', measured_at)`;
  const stats = filter.pollutants
    .map((p: Pollutant) => `, avg(${p}) AS ${p}_avg, min(${p}) AS ${p}_min, max(${p}) AS ${p}_max, count(${p}) AS ${p}_count`)
    .join('');
  let sql = `SELECT ${trunc} AS bucket, station_id, count(*) AS readings${stats}
    FROM measurements WHERE ${where(datasetId, filter, values)}`;
  const asc = filter.order === 'asc';
  if (after) {
    values.push(after.at);
    // Prune raw rows before grouping; the HAVING below then picks the exact position inside the boundary bucket.
    sql += asc
      ? ` AND measured_at >= $${values.length}::timestamptz`
      : ` AND measured_at < $${values.length}::timestamptz + interval '1 ${BUCKET[interval]}'`;
  }
  sql += ' GROUP BY 1, 2';
  if (after) {
    values.push(after.station);
    sql += ` HAVING (${trunc}, station_id) ${asc ? '>' : '<'} ($${values.length - 1}::timestamptz, $${values.length})`;
  }
  const dir = asc ? 'ASC' : 'DESC';
  values.push(limit);
  sql += ` ORDER BY 1 ${dir}, 2 ${dir} LIMIT $${values.length}`;
  return { text: sql, values };
}

export async function listAggregates(
  db: Db,
  datasetId: string,
  filter: ReadingFilter,
  interval: 'hour' | 'day',
  after: Position | undefined,
  limit: number,
): Promise<AggregateRow[]> {
  const { text, values } = aggregatesQuery(datasetId, filter, interval, after, limit);
  return (await db.query<AggregateRow>(text, values)).rows;
}
