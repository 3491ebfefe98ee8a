import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';

const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

// Timestamps stay as PostgreSQL prints them (microsecond precision, UTC): the keyset cursor must carry the exact value,
// which a JS Date (milliseconds) cannot. Counts fit in a double.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return (value: string) => value;
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * The API's connection pool: bounded size, sessions in UTC, every statement bounded by the server's
 * `statement_timeout` and, for a server that does not answer at all (frozen, partitioned), by client-side timeouts on
 * connecting and on each query.
 */
export function createPool(
  config: Pick<Config, 'dbPoolMax' | 'dbStatementTimeoutMs' | 'dbConnectTimeoutMs' | 'dbQueryTimeoutMs'>,
  databaseUrl: string,
  log?: Logger,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: config.dbPoolMax,
    connectionTimeoutMillis: config.dbConnectTimeoutMs,
    // A query that times out here has its connection discarded (the pool releases it with the error).
    query_timeout: config.dbQueryTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'airq-api',
    options: `-c TimeZone=UTC -c statement_timeout=${config.dbStatementTimeoutMs}`,
    types,
  });
  // The pool listens for errors only on idle clients. A client checked out with connect() (an export) has no listener
  // between two fetches, and a connection dropping then would be an unhandled 'error' event that kills the process.
  // The error still reaches the query or stream using the client, which fails the request; this only keeps the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  // An idle client (or one being discarded) that loses its connection is reported on the pool: never unhandled.
  pool.on('error', (error) => log?.warn({ err: error }, 'idle database connection failed'));
  return pool;
}

/** What the API needs from a pool; a `pg.Pool` fits. */
export type Db = pg.Pool;
