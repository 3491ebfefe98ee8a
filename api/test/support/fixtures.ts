import { createHash } from 'node:crypto';
import pg from 'pg';

export interface FixtureDataset {
  id: string;
  /** First 12 hex characters of the sha256, as the API reports it. */
  version: string;
  sha256: string;
  stations: string[];
  rows: number;
}

export interface FixtureOptions {
  /** Station ids; default 10 stations aq_00..aq_09. */
  stations?: string[];
  /** Readings per station, every `stepMinutes` from `start`. */
  perStation?: number;
  start?: string;
  stepMinutes?: number;
  /** Identifies the dataset; different labels give different versions. */
  label?: string;
  /** Leave the dataset 'retired' instead of making it the active one. */
  activate?: boolean;
}

/**
 * Creates a dataset directly in SQL (independent of the seeder): a `datasets` row, its `measurements` partition filled
 * by generate_series with deterministic values (every 7th so2 NULL, co in mg/m³ range, a few milliseconds of jitter
 * like the source data) and its `stations`. Activates it in one transaction, retiring any previous active dataset.
 */
export async function createFixtureDataset(databaseUrl: string, options: FixtureOptions = {}): Promise<FixtureDataset> {
  const stations = options.stations ?? Array.from({ length: 10 }, (_, i) => `aq_${String(i).padStart(2, '0')}`);
  const perStation = options.perStation ?? 96;
  const start = options.start ?? '2016-10-01T00:00:00Z';
  const step = options.stepMinutes ?? 15;
  const sha256 = createHash('sha256')
    .update(JSON.stringify([options.label ?? 'fixture', stations, perStation, start, step]))
    .digest('hex');
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO datasets (sha256, source, status, row_count, station_count)
       VALUES ($1, $2, 'loading', $3, $4) RETURNING id::text AS id`,
      [sha256, `fixture:${options.label ?? 'fixture'}`, perStation * stations.length, stations.length],
    );
    const id = rows[0]!.id;
    await client.query(`CREATE TABLE measurements_fixture_${id} PARTITION OF measurements FOR VALUES IN (${id})`);
    await client.query(
      `INSERT INTO measurements (dataset_id, station_id, measured_at, so2, no2, co, o3, pm10, pm2_5)
       SELECT $1::bigint, s.id,
              $2::timestamptz + (n * $4::int) * interval '1 minute' + (s.ord * 3 + n % 5) * interval '1 millisecond',
              CASE WHEN (n + s.ord) % 7 = 0 THEN NULL ELSE round((5 + s.ord + (n % 24) * 0.25)::numeric, 3)::float8 END,
              40 + s.ord + (n % 48) * 0.5,
              0.5 + (n % 10) * 0.01,
              45 + (n % 96) * 0.125,
              15 + s.ord * 0.5,
              8 + (n % 12) * 0.25
         FROM generate_series(0, $3::int - 1) AS n
        CROSS JOIN unnest($5::text[]) WITH ORDINALITY AS s(id, ord)`,
      [id, start, perStation, step, stations],
    );
    await client.query('INSERT INTO stations (dataset_id, id) SELECT $1::bigint, unnest($2::text[])', [id, stations]);
    if (options.activate ?? true) {
      await client.query("UPDATE datasets SET status = 'retired' WHERE status = 'active'");
      await client.query(
        "UPDATE datasets SET status = 'active', loaded_at = now(), activated_at = now() WHERE id = $1",
        [id],
      );
    } else {
      await client.query("UPDATE datasets SET status = 'retired' WHERE id = $1", [id]);
    }
    await client.query('COMMIT');
    return { id, version: sha256.slice(0, 12), sha256, stations, rows: perStation * stations.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
