import pg from 'pg';

/** The contract's dataset version: the first 12 hex characters of the file's sha256. */
export function datasetVersion(sha256: string): string {
  return sha256.slice(0, 12);
}

/** The table holding one dataset's rows: loaded standalone, then attached as a partition of `measurements`. */
export function partitionName(datasetId: string): string {
  return `measurements_${datasetId}`;
}

export interface ActiveDataset {
  id: string;
  sha256: string;
  source: string;
  rowCount: number;
  stationCount: number;
  activatedAt: Date;
}

type Queryable = Pick<pg.Client, 'query'>;

export async function activeDataset(db: Queryable): Promise<ActiveDataset | undefined> {
  const { rows } = await db.query(
    `SELECT id::text, sha256, source, row_count, station_count, activated_at FROM datasets WHERE status = 'active'`,
  );
  const row = rows[0];
  return row
    ? {
        id: row.id,
        sha256: row.sha256,
        source: row.source,
        rowCount: Number(row.row_count),
        stationCount: Number(row.station_count),
        activatedAt: row.activated_at,
      }
    : undefined;
}

/**
 * Removes what a crashed or killed seeder left behind: datasets still `loading` become `failed`, and tables of
 * datasets that are not partitions of `measurements` are dropped. Call only while holding the seed lock.
 */
export async function cleanAbandonedLoads(db: Queryable): Promise<string[]> {
  const { rows: abandoned } = await db.query<{ id: string }>(
    `UPDATE datasets SET status = 'failed' WHERE status = 'loading' RETURNING id::text`,
  );
  const { rows: tables } = await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition
        AND c.relname ~ '^measurements_[0-9]+$'`,
  );
  for (const { relname } of tables) await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(relname)}`);
  return [...abandoned.map((r) => `dataset ${r.id}`), ...tables.map((t) => `table ${t.relname}`)];
}

/** Records a new dataset as `loading` and creates its empty standalone table, shaped to be attached later. */
export async function createLoadingDataset(db: Queryable, sha256: string, source: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO datasets (sha256, source, status) VALUES ($1, $2, 'loading') RETURNING id::text`,
    [sha256, source],
  );
  const id = rows[0]!.id;
  const table = pg.escapeIdentifier(partitionName(id));
  // Same columns, defaults and CHECKs as the parent (ATTACH requires them); the dataset_id CHECK lets ATTACH skip
  // scanning the rows.
  await db.query(`CREATE TABLE ${table} (
    LIKE measurements INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    CONSTRAINT ${pg.escapeIdentifier(`${partitionName(id)}_dataset`)} CHECK (dataset_id = ${id})
  )`);
  await db.query(`ALTER TABLE ${table} ALTER COLUMN dataset_id SET DEFAULT ${id}`);
  return id;
}

/** Marks a load failed and drops its table; the active dataset is untouched. */
export async function abandonLoad(db: Queryable, id: string): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(partitionName(id))}`);
  await db.query(`UPDATE datasets SET status = 'failed' WHERE id = $1 AND status = 'loading'`, [id]);
}

export interface Activation {
  id: string;
  rows: number;
  stations: string[];
  firstAt: Date;
  lastAt: Date;
}

/**
 * The switch, in one transaction: attach the loaded table, record its stations, make it the active dataset and retire
 * the previous one (its row stays as history). Readers see the old dataset until COMMIT and the new one after.
 *
 * ATTACH PARTITION takes only a SHARE UPDATE EXCLUSIVE lock on `measurements`, which readers' ACCESS SHARE does not
 * conflict with: a long reader never blocks the switch and the switch never makes readers queue. The retired
 * partition is dropped afterwards by dropRetiredPartitions, outside this transaction. `lockTimeoutMs` bounds a wait
 * on another schema change (a concurrent migration); the transaction is then retried.
 */
export async function activateDataset(db: Queryable, activation: Activation, lockTimeoutMs = 3_000): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await switchOnce(db, activation, lockTimeoutMs);
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03' || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function switchOnce(db: Queryable, activation: Activation, lockTimeoutMs: number): Promise<string[]> {
  const { id } = activation;
  await db.query('BEGIN');
  try {
    await db.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await db.query(
      `ALTER TABLE measurements ATTACH PARTITION ${pg.escapeIdentifier(partitionName(id))} FOR VALUES IN (${id})`,
    );
    await db.query(`INSERT INTO stations (dataset_id, id) SELECT $1, unnest($2::text[])`, [id, activation.stations]);
    const { rows: retired } = await db.query<{ id: string }>(
      `UPDATE datasets SET status = 'retired' WHERE status = 'active' RETURNING id::text`,
    );
    await db.query(
      `UPDATE datasets SET status = 'active', row_count = $2, station_count = $3, first_at = $4, last_at = $5,
              loaded_at = now(), activated_at = now()
        WHERE id = $1`,
      [id, activation.rows, activation.stations.length, activation.firstAt, activation.lastAt],
    );
    await db.query('COMMIT');
    return retired.map((r) => r.id);
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Partitions of `measurements` whose dataset is not the active one, with the dataset id their bound names. */
async function retiredPartitions(db: Queryable): Promise<{ relname: string; pending: boolean }[]> {
  const { rows } = await db.query<{ relname: string; pending: boolean }>(
    `SELECT c.relname, i.inhdetachpending AS pending
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'measurements'::regclass
        AND substring(pg_get_expr(c.relpartbound, c.oid) from '[0-9]+')::bigint
            NOT IN (SELECT id FROM datasets WHERE status = 'active')`,
  );
  return rows;
}

/**
 * Detaches and drops the partitions of retired datasets. DETACH ... CONCURRENTLY never blocks readers; it waits for
 * those still reading a retired partition (a slow export) at most `lockTimeoutMs`, and a partition still in use is
 * left, detach pending, for the next seed. Must run outside a transaction. Returns the tables dropped and those left.
 */
export async function dropRetiredPartitions(
  db: Queryable,
  lockTimeoutMs = 3_000,
): Promise<{ dropped: string[]; left: string[] }> {
  const dropped: string[] = [];
  const left: string[] = [];
  await db.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
  try {
    for (const { relname, pending } of await retiredPartitions(db)) {
      const table = pg.escapeIdentifier(relname);
      try {
        await db.query(`ALTER TABLE measurements DETACH PARTITION ${table} ${pending ? 'FINALIZE' : 'CONCURRENTLY'}`);
        await db.query(`DROP TABLE IF EXISTS ${table}`);
        dropped.push(relname);
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error;
        left.push(relname);
      }
    }
  } finally {
    await db.query('RESET lock_timeout');
  }
  return { dropped, left };
}
