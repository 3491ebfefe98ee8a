import { createHash } from 'node:crypto';
import pg from 'pg';
import { to as copyTo, type CopyToStreamQuery } from 'pg-copy-streams';
import type { Db } from '../db.ts';
import type { Pollutant, Position, ReadingFilter } from '../domain.ts';
import type { RawRow } from '../raw-readings.ts';
import type { ActiveDataset } from './datasets.ts';

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

/** How a value enters a statement: as a `$n` parameter, or (for COPY, which takes none) as a quoted literal. */
type Bind = (value: string | string[]) => string;

function parameters(values: unknown[]): Bind {
  return (value) => {
    values.push(value);
    return `$${values.length}`;
  };
}

const literal: Bind = (value) =>
  Array.isArray(value) ? `ARRAY[${value.map((v) => pg.escapeLiteral(v)).join(',')}]` : pg.escapeLiteral(value);

/**
 * WHERE clause shared by every query over readings; pollutant names come from a fixed list, values are bound.
 * `dataset` is the SQL of the dataset id: a bound value, or a subquery.
 */
function where(dataset: string, filter: ReadingFilter, bind: Bind): string {
  const clauses = [`dataset_id = ${dataset}`];
  if (filter.stations) clauses.push(`station_id = ANY(${bind(filter.stations)}::text[])`);
  if (filter.from) clauses.push(`measured_at >= ${bind(filter.from.iso)}::timestamptz`);
  if (filter.to) clauses.push(`measured_at < ${bind(filter.to.iso)}::timestamptz`);
  return clauses.join(' AND ');
}

/** FROM … ORDER BY … LIMIT of a page or an export of readings, in keyset order. */
function readingsFrom(
  dataset: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number | undefined,
  bind: Bind,
): string {
  let sql = `FROM measurements WHERE ${where(dataset, filter, bind)}`;
  const dir = filter.order === 'asc' ? 'ASC' : 'DESC';
  if (after) {
    sql += ` AND (measured_at, station_id) ${filter.order === 'asc' ? '>' : '<'} (${bind(after.at)}::timestamptz, ${bind(after.station)}::text)`;
  }
  sql += ` ORDER BY measured_at ${dir}, station_id ${dir}`;
  if (limit !== undefined) sql += ` LIMIT ${bind(String(limit))}::int`;
  return sql;
}

/** The SELECT behind a page or an export of readings, in keyset order. */
export function readingsSql(
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number | undefined,
): Built {
  const values: unknown[] = [];
  const bind = parameters(values);
  const from = readingsFrom(`${bind(datasetId)}::bigint`, filter, after, limit, bind);
  return { text: `SELECT station_id, measured_at${filter.pollutants.map((p) => `, ${p}`).join('')} ${from}`, values };
}

const ACTIVE = "SELECT id, left(sha256, 12) AS version FROM datasets WHERE status = 'active'";

/** station_id, then `timestamp,value,…` in one text (see RawRow): pg decodes two fields a row instead of 2 + pollutants. */
function rawColumns(filter: ReadingFilter): string {
  return `station_id, concat(measured_at${filter.pollutants.map((p) => `, ',', ${p}`).join('')})`;
}

/**
 * The active dataset and a page of its readings in one statement: one round trip, one snapshot. The first row is the
 * dataset (its reading columns NULL), the readings follow in keyset order (Append runs its branches in turn); no row
 * at all when no dataset is active.
 */
export function pageQuery(filter: ReadingFilter, after: Position | undefined, limit: number): Built {
  const values: unknown[] = [];
  const from = readingsFrom(`(SELECT id FROM (${ACTIVE}) a)`, filter, after, limit, parameters(values));
  const text = `(SELECT NULL::text, NULL::text, id::text, version FROM (${ACTIVE}) a)
    UNION ALL
    (SELECT ${rawColumns(filter)}, NULL, NULL ${from})`;
  return { text, values };
}

const rawText = { getTypeParser: () => (value: string) => value };
const statementNames = new Map<string, string>();

/**
 * A name for a statement's text, so each pooled connection parses and plans it once and then only binds and executes
 * (the texts are few: one per combination of filters present, order and pollutants).
 */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `airq_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A page of readings as raw PostgreSQL text (see RawRow), shaped by raw-readings.ts. */
export async function listReadings(
  db: Db,
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number,
): Promise<RawRow[]> {
  const values: unknown[] = [];
  const bind = parameters(values);
  const text = `SELECT ${rawColumns(filter)} ${readingsFrom(`${bind(datasetId)}::bigint`, filter, after, limit, bind)}`;
  const result = await db.query<RawRow>({ name: statementName(text), text, values, rowMode: 'array', types: rawText });
  return result.rows;
}

/** See pageQuery; `rows` are raw PostgreSQL text (see RawRow), shaped by raw-readings.ts. */
export async function readPage(
  db: Db,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number,
): Promise<{ dataset: ActiveDataset | null; rows: RawRow[] }> {
  const { text, values } = pageQuery(filter, after, limit);
  const { rows } = await db.query<RawRow>({
    name: statementName(text),
    text,
    values,
    rowMode: 'array',
    types: rawText,
  });
  const first = rows[0];
  if (!first) return { dataset: null, rows };
  rows.shift();
  return { dataset: { id: first[2] as string, version: first[3] as string }, rows };
}

/**
 * Every matching reading (or `limit` of them) as `COPY … TO STDOUT (FORMAT csv)` lines: measured_at, station_id, then
 * the filter's pollutants, NaN and ±Infinity as empty (NULL) like a missing value. COPY streams with no cursor round
 * trips, and pipe() backpressure pauses the connection, so memory stays flat whatever the size. COPY takes no
 * parameters: the values are quoted literals.
 */
export function copyReadings(
  client: pg.PoolClient,
  datasetId: string,
  filter: ReadingFilter,
  after: Position | undefined,
  limit: number | undefined,
  timeoutMs: number,
): CopyToStreamQuery {
  // float8 comparisons sort NaN above Infinity; the CHECK (x >= 0) constraints keep -Infinity out.
  const values = filter.pollutants.map((p) => `, CASE WHEN ${p} < 'Infinity' THEN ${p} END`).join('');
  const select = `SELECT measured_at, station_id${values} ${readingsFrom(`${literal(datasetId)}::bigint`, filter, after, limit, literal)}`;
  const stream = copyTo(`COPY (${select}) TO STDOUT (FORMAT csv)`);
  // pg reads the client-side timeout from the query itself before the pool's, which is meant for short queries.
  Object.assign(stream, { query_timeout: timeoutMs });
  return client.query(stream);
}

const BUCKET = { hour: 'hour', day: 'day' } as const;

export function aggregatesSql(
  datasetId: string,
  filter: ReadingFilter,
  interval: 'hour' | 'day',
  after: Position | undefined,
  limit: number,
): Built {
  const values: unknown[] = [];
  const bind = parameters(values);
  const trunc = `date_trunc('${BUCKET[interval]}', measured_at)`;
  const stats = filter.pollutants
    .map(
      (p: Pollutant) =>
        `, avg(${p}) AS ${p}_avg, min(${p}) AS ${p}_min, max(${p}) AS ${p}_max, count(${p}) AS ${p}_count`,
    )
    .join('');
  let sql = `SELECT ${trunc} AS bucket, station_id, count(*) AS readings${stats}
    FROM measurements WHERE ${where(`${bind(datasetId)}::bigint`, filter, bind)}`;
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
  const { text, values } = aggregatesSql(datasetId, filter, interval, after, limit);
  return (await db.query<AggregateRow>(text, values)).rows;
}
