import type { Db } from '../db.ts';

export interface ActiveDataset {
  id: string;
  /** First 12 hex characters of the file's sha256: the version the cache bans by. */
  version: string;
}

export interface DatabaseState {
  schemaVersion: number | null;
  dataset: ActiveDataset | null;
}

/** The dataset served now, or null before the first seed. */
export async function activeDataset(db: Db): Promise<ActiveDataset | null> {
  const { rows } = await db.query<{ id: string; version: string }>({
    // Named: asked before every data request, it is parsed and planned once per connection.
    name: 'airq_active_dataset',
    text: "SELECT id::text AS id, left(sha256, 12) AS version FROM datasets WHERE status = 'active'",
  });
  return rows[0] ?? null;
}

/** Applied schema version and active dataset in one round trip; schemaVersion is null before any migration. */
export async function databaseState(db: Db): Promise<DatabaseState> {
  const { rows } = await db.query<{ migrations: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AND to_regclass('datasets') IS NOT NULL AS migrations",
  );
  if (!rows[0]?.migrations) return { schemaVersion: null, dataset: null };
  const state = await db.query<{ schema_version: number | null; id: string | null; version: string | null }>(
    `SELECT (SELECT max(version) FROM schema_migrations) AS schema_version, d.id::text AS id, left(d.sha256, 12) AS version
       FROM (SELECT 1) one LEFT JOIN datasets d ON d.status = 'active'`,
  );
  const row = state.rows[0];
  return {
    schemaVersion: row?.schema_version ?? null,
    dataset: row?.id && row.version ? { id: row.id, version: row.version } : null,
  };
}
