import pino, { type Logger } from 'pino';
import { openDatabase, type DatabaseHandle } from '../../db/src/local-database.ts';
import { migrate } from '../../db/src/migrate.ts';
import { seedBundledWhenEmpty } from '../../db/src/seed.ts';
import { PROCESS_INSTANCE_ID, createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createPool } from './db.ts';
import { createHttpServer } from './http-server.ts';
import { createLifecycle } from './lifecycle.ts';
import { gracefulShutdown, trackConnections } from './shutdown.ts';

/** Hides the password of a postgres URL for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'airq-api', instance: PROCESS_INSTANCE_ID },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        'databaseUrl',
        'config.databaseUrl',
        'cursorKey',
        'config.cursorKey',
        '*.password',
        'password',
        'err.client.connectionParameters.password',
      ],
      censor: '***',
    },
    // pg errors carry their client (connection parameters, sockets): log what explains the error, nothing else.
    serializers: {
      err: (error: Error & { code?: string }) => ({
        type: error.name,
        message: error.message,
        code: error.code,
        stack: error.stack,
      }),
    },
  };
  // Buffered asynchronous writes, flushed every second and on exit: one write(2) per access-log line cost about 10% of
  // a request's CPU in the benchmark.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  setInterval(() => destination.flush(), 1_000).unref();
  return pino(options, destination);
}

/**
 * With DATABASE_URL: that server, whose schema the deployment migrates (readiness reports it otherwise). Without: an
 * embedded PostgreSQL, migrated and seeded with the bundled dataset when empty, so a clean clone serves data.
 */
async function prepareDatabase(log: Logger): Promise<DatabaseHandle> {
  // The server drains on SIGTERM before it closes the database itself, so the package must not stop it first.
  const handle = await openDatabase(process.env, (line) => log.info(line), { handleSignals: false });
  if (handle.embedded) {
    const result = await migrate(handle.url);
    if (result.applied.length) log.info({ applied: result.applied }, 'migrated the embedded database');
    await seedBundledWhenEmpty(handle.url, (line) => log.info(line));
  }
  log.info({ database: redactUrl(handle.url), embedded: handle.embedded }, 'database selected');
  return handle;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`airq-api: ${error.message}\n`);
    process.exit(1);
  }
  const log = createLogger(config);
  const database = await prepareDatabase(log);
  const db = createPool(config, database.url, log);
  const lifecycle = createLifecycle();
  const app = createApp({ db, config, log, lifecycle });
  const server = createHttpServer(app);
  // Longer than a typical proxy's idle timeout, so the cache never reuses a socket the server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const stats = trackConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  log.info({ port: config.port, version: config.appVersion }, 'listening');
  if (config.cursorKeyGenerated) {
    log.warn(
      'CURSOR_KEY is not set: page cursors are sealed with a random key of this process, so other replicas and a restart reject them',
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutdown requested');
    gracefulShutdown({
      server,
      lifecycle,
      log,
      drainMs: config.shutdownDrainMs,
      finishMs: config.shutdownFinishMs,
      stats,
      close: async () => {
        await db.end();
        await database.close();
      },
    }).then(
      // A cut request is a failed shutdown: exit 1 says so to the orchestrator and to whoever reads the pod's status.
      ({ cut }) => process.exit(cut ? 1 : 0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`airq-api: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
