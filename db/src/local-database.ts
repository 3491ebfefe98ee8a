import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, '.data', 'postgres');
const EMBEDDED_DATABASE = 'airq';

export interface DatabaseHandle {
  url: string;
  /** True when this process started the server and must stop it. */
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * `DATABASE_URL` when set; otherwise a persistent embedded PostgreSQL under `.data/postgres`
 * (or `AIRQ_DATA_DIR`), so `npm start` works on a machine with nothing installed.
 */
export async function openDatabase(
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = () => {},
  options: { handleSignals?: boolean } = {},
): Promise<DatabaseHandle> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, close: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: env.AIRQ_DATA_DIR ?? DEFAULT_DATA_DIR, log, ...options });
  await ensureDatabase(server.adminUrl, EMBEDDED_DATABASE);
  return { url: server.urlFor(EMBEDDED_DATABASE), embedded: true, close: () => server.stop() };
}

/** Creates `database` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } catch (error) {
    // Two processes may race to create it; the loser finds it there.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}
