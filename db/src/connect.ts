import pg from 'pg';

/** How long opening a connection may take before it counts as a database failure (a frozen or partitioned server). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A client for the db commands. A dropped connection is an error of the query in flight; between queries pg emits it
 * on the client, where without a listener it would kill the process with exit code 1, which here means bad input.
 */
export function databaseClient(databaseUrl: string, applicationName: string): pg.Client {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => {});
  return client;
}
