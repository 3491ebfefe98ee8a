import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { databaseClient } from './connect.ts';
import { COPY_COLUMNS, CsvToCopy, InvalidInputError } from './csv-to-copy.ts';
import {
  abandonLoad,
  activateDataset,
  activeDataset,
  cleanAbandonedLoads,
  createLoadingDataset,
  datasetVersion,
  dropRetiredPartitions,
  partitionName,
} from './datasets.ts';
import { HashingPassThrough, sha256File } from './file-hash.ts';
import { destroyConnection, watchDatabase } from './heartbeat.ts';
import { notifyCache, type CacheNotification, type NotificationResult } from './notify-cache.ts';

import { REPO_ROOT } from './local-database.ts';

export { InvalidInputError } from './csv-to-copy.ts';

/** The project's own dataset, loaded by `seed` when no file is given. */
export const BUNDLED_DATASET = path.join(REPO_ROOT, 'db', 'data', 'environment_airq_measurand.csv');

/** A bad option value (time zone, error limit): the caller's usage, not the file, is wrong. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// Any fixed 64-bit key, distinct from the migrator's: every seeder serialises on it.
const SEED_LOCK = 7_320_260_002;

export interface SeedProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
  seconds: number;
}

export interface SeedOptions {
  databaseUrl: string;
  file: string;
  /** IANA zone the file's zoneless timestamps are in; default UTC. */
  timezone?: string;
  /** Problems to collect before giving up; default 20. */
  maxErrors?: number;
  /** Name recorded in `datasets.source`; default the file's base name. */
  source?: string;
  log?: (line: string) => void;
  /** Called about once a second while rows are loading. */
  progress?: (progress: SeedProgress) => void;
  notify?: CacheNotification;
  /** How long the database may stay silent (frozen, partitioned) before the seed gives up; default 30 s. */
  databaseTimeoutMs?: number;
}

export const DATABASE_TIMEOUT_MS = 30_000;

export interface SeedResult {
  status: 'loaded' | 'already-active';
  datasetId: string;
  sha256: string;
  version: string;
  rows: number;
  stations: number;
  firstAt: Date | null;
  lastAt: Date | null;
  seconds: number;
  /** Seconds spent in each phase, for benchmarks and debugging. */
  phases: Record<string, number>;
  notification?: NotificationResult;
}

/** Throws UsageError unless `zone` is an IANA time zone name this runtime knows. */
export function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new UsageError(
      `--timezone ${JSON.stringify(zone)}: unknown time zone; use an IANA name such as UTC or Europe/Madrid`,
    );
  }
}

/** Seconds since the seed started, and the seconds each phase took (SeedResult.phases). */
class PhaseClock {
  readonly started = performance.now();
  readonly phases: Record<string, number> = {};
  private mark = this.started;

  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** Ends the phase `name`, which began where the previous one ended. */
  phase(name: string): void {
    const now = performance.now();
    this.phases[name] = (now - this.mark) / 1000;
    this.mark = now;
  }
}

/** The options with their defaults, checked; throws UsageError naming the bad one. */
interface SeedJob extends SeedOptions {
  label: string;
  timezone: string;
  maxErrors: number;
  log: (line: string) => void;
  clock: PhaseClock;
  /** Registers a connection with the heartbeat, which cuts it off when the database falls silent. */
  track: (client: pg.Client) => pg.Client;
}

/** What is known of the file before the database is touched. */
interface SeedFile {
  sha256: string;
  version: string;
  totalBytes: number;
}

/**
 * Loads a CSV file as the new active dataset: streamed through validation into COPY, into a table of its own,
 * then switched to in one transaction. Under an advisory lock, so concurrent seeders load a file once.
 */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const clock = new PhaseClock();
  const timezone = options.timezone ?? 'UTC';
  const maxErrors = options.maxErrors ?? 20;
  checkTimeZone(timezone);
  if (!Number.isInteger(maxErrors) || maxErrors < 1) {
    throw new UsageError(`--max-errors ${maxErrors}: expected a whole number of at least 1`);
  }
  const label = options.file;
  const totalBytes = await fileSize(options.file, label);
  const sha256 = await sha256File(options.file);
  const file: SeedFile = { sha256, version: datasetVersion(sha256), totalBytes };
  clock.phase('hash');

  // Every connection of this seed, so that a silent database can be cut off at once (see watchDatabase).
  const connections = new Set<pg.Client>();
  let silence: Error | undefined;
  const heartbeat = watchDatabase(options.databaseUrl, options.databaseTimeoutMs ?? DATABASE_TIMEOUT_MS, (error) => {
    silence = error;
    for (const client of connections) destroyConnection(client);
  });
  const track = (client: pg.Client) => {
    connections.add(client);
    return client;
  };
  try {
    return await seedUnderLock(
      { ...options, label, timezone, maxErrors, log: options.log ?? (() => {}), clock, track },
      file,
    );
  } catch (error) {
    throw silence ?? error;
  } finally {
    await heartbeat.stop();
  }
}

/** The file's size; an InvalidInputError when it is not a readable regular file. */
async function fileSize(file: string, label: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile())
      throw new InvalidInputError([`${label}: not a regular file; pass --file with the path of a CSV file`]);
    return info.size;
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError([
      `${label}: cannot read it (${(error as NodeJS.ErrnoException).code}); pass --file with the path of a CSV file`,
    ]);
  }
}

/** Takes the seed lock, tidies up after earlier seeds, and loads the file unless it is the active dataset already. */
async function seedUnderLock(job: SeedJob, file: SeedFile): Promise<SeedResult> {
  const control = job.track(databaseClient(job.databaseUrl, 'airq-seed'));
  await control.connect();
  try {
    const { rows: locked } = await control.query('SELECT pg_try_advisory_lock($1) AS ok', [SEED_LOCK]);
    if (!locked[0].ok) {
      job.log('another seeder is running; waiting for it to finish');
      await control.query('SELECT pg_advisory_lock($1)', [SEED_LOCK]);
    }
    job.clock.phase('lock');
    const cleaned = await cleanAbandonedLoads(control);
    if (cleaned.length) job.log(`cleaned up after an interrupted seed: ${cleaned.join(', ')}`);
    const leftover = await dropRetiredPartitions(control);
    if (leftover.dropped.length) job.log(`dropped the tables of retired datasets: ${leftover.dropped.join(', ')}`);

    const active = await activeDataset(control);
    if (active?.sha256 === file.sha256) {
      return {
        status: 'already-active',
        datasetId: active.id,
        sha256: file.sha256,
        version: file.version,
        rows: active.rowCount,
        stations: active.stationCount,
        firstAt: null,
        lastAt: null,
        seconds: job.clock.elapsed(),
        phases: job.clock.phases,
      };
    }
    return await loadAndSwitch(control, job, file);
  } finally {
    await control.query('SELECT pg_advisory_unlock($1)', [SEED_LOCK]).catch(() => {});
    await control.end().catch(() => {});
  }
}

/** Loads the file as a new dataset, makes it the active one, drops what retired, and tells the cache. */
async function loadAndSwitch(control: pg.Client, job: SeedJob, file: SeedFile): Promise<SeedResult> {
  const id = await createLoadingDataset(control, file.sha256, job.source ?? path.basename(job.file));
  let loaded: LoadedDataset;
  try {
    job.clock.phase('prepare');
    loaded = await load({ ...job, id, sha256: file.sha256, totalBytes: file.totalBytes });
    await activateDataset(control, { id, ...loaded });
  } catch (error) {
    // A failed load or switch leaves nothing behind. If even the clean-up fails (database gone), the next seed's
    // cleanAbandonedLoads finishes it.
    await abandonLoad(control, id).catch((cleanup: Error) =>
      job.log(`could not clean up dataset ${id} now (${cleanup.message}); the next seed will`),
    );
    throw error;
  }
  job.clock.phase('switch');
  const { left } = await dropRetiredPartitions(control);
  if (left.length) job.log(`still being read, dropped by the next seed: ${left.join(', ')}`);
  job.clock.phase('drop');
  const result: SeedResult = {
    status: 'loaded',
    datasetId: id,
    sha256: file.sha256,
    version: file.version,
    rows: loaded.rows,
    stations: loaded.stations.length,
    firstAt: loaded.firstAt,
    lastAt: loaded.lastAt,
    seconds: job.clock.elapsed(),
    phases: job.clock.phases,
  };
  if (job.notify?.url) {
    result.notification = await notifyCache(job.notify, file.version);
    job.clock.phase('notify');
  }
  return result;
}

interface LoadJob extends SeedJob {
  id: string;
  sha256: string;
  totalBytes: number;
}

interface LoadedDataset {
  rows: number;
  stations: string[];
  firstAt: Date;
  lastAt: Date;
}

/** Streams the file into the dataset's table on a connection of its own and indexes it; throws on bad input. */
async function load(job: LoadJob): Promise<LoadedDataset> {
  const table = pg.escapeIdentifier(partitionName(job.id));
  const client = job.track(databaseClient(job.databaseUrl, 'airq-seed-copy'));
  await client.connect();
  try {
    try {
      // Zoneless timestamps are read by PostgreSQL in the session's zone, which handles DST as the zone does.
      await client.query(`SET TimeZone = ${pg.escapeLiteral(job.timezone)}`);
    } catch {
      throw new UsageError(
        `--timezone ${JSON.stringify(job.timezone)}: PostgreSQL does not know this time zone; use an IANA name such as UTC`,
      );
    }
    await client.query(`SET maintenance_work_mem = '256MB'`);
    const validator = await copyFile(client, table, job);
    job.clock.phase('copy');
    await buildIndexes(client, table, job, validator);
    job.clock.phase('indexes');
    await client.query(`ANALYZE ${table}`);
    const { rows } = await client.query(`SELECT min(measured_at) AS first, max(measured_at) AS last FROM ${table}`);
    job.clock.phase('analyze');
    return {
      rows: validator.rows,
      stations: [...validator.stations].sort(),
      firstAt: rows[0].first,
      lastAt: rows[0].last,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** read → hash → validate → COPY into `table`, reporting progress; returns the validator, which knows rows and stations. */
async function copyFile(client: pg.Client, table: string, job: LoadJob): Promise<CsvToCopy> {
  // 64 KiB chunks keep every string made from them below V8's large-object size, so they die young and cheaply
  // instead of piling up in old space until a full GC (which showed as RSS growing with the file size).
  const source = createReadStream(job.file, { highWaterMark: 64 * 1024 });
  const hashing = new HashingPassThrough();
  const validator = new CsvToCopy(job.label, job.maxErrors);
  const copy = client.query(copyFrom(`COPY ${table} (${COPY_COLUMNS.join(', ')}) FROM STDIN`));
  const progress = job.progress;
  const timer = progress
    ? setInterval(() => {
        progress({
          bytes: hashing.bytes,
          totalBytes: job.totalBytes,
          rows: validator.rows,
          seconds: job.clock.elapsed(),
        });
      }, 1000)
    : undefined;
  try {
    await pipeline(source, hashing, validator, copy);
  } catch (error) {
    throw asInputError(error, job.label, validator);
  } finally {
    if (timer) clearInterval(timer);
  }
  if (hashing.digest() !== job.sha256) {
    throw new InvalidInputError([
      `${job.label}: the file changed while it was being loaded; seed it again once it is complete`,
    ]);
  }
  return validator;
}

/** The two indexes, side by side on two connections (CREATE INDEX locks allow it); a repeated reading fails the unique one. */
async function buildIndexes(client: pg.Client, table: string, job: LoadJob, validator: CsvToCopy): Promise<void> {
  const second = job.track(databaseClient(job.databaseUrl, 'airq-seed-index'));
  await second.connect();
  const [unique, station] = await Promise.allSettled([
    client.query(
      `CREATE UNIQUE INDEX ${pg.escapeIdentifier(`${partitionName(job.id)}_time_station`)} ON ${table} (dataset_id, measured_at, station_id)`,
    ),
    second
      .query(`SET maintenance_work_mem = '256MB'`)
      .then(() =>
        second.query(
          `CREATE INDEX ${pg.escapeIdentifier(`${partitionName(job.id)}_station_time`)} ON ${table} (dataset_id, station_id, measured_at)`,
        ),
      ),
  ]).finally(() => second.end().catch(() => {}));
  if (unique.status === 'rejected') {
    if ((unique.reason as { code?: string }).code !== '23505') throw unique.reason;
    throw new InvalidInputError(await duplicates(client, table, job, validator));
  }
  if (station.status === 'rejected') throw station.reason;
}

/** Turns a COPY refusal of a row the validator let through into an input problem naming the file's line. */
function asInputError(error: unknown, label: string, validator: CsvToCopy): unknown {
  if (error instanceof InvalidInputError) return error;
  const pgError = error as { code?: string; where?: string; message: string };
  if (pgError.code && /^2[2-3]/.test(pgError.code)) {
    const row = /line (\d+)/.exec(pgError.where ?? '')?.[1];
    const where = row ? `:${validator.lineOfRow(Number(row))}` : '';
    return new InvalidInputError([`${label}${where}: PostgreSQL refused the row: ${pgError.message}`]);
  }
  return error;
}

/**
 * Names both lines of every repeated (station, time) pair, up to the error limit. Runs only after the unique index
 * failed. A table filled by one COPY right after its creation holds its rows in COPY order, so their rank by ctid
 * is the COPY row number, which the validator maps back to a file line.
 */
async function duplicates(client: pg.Client, table: string, job: LoadJob, validator: CsvToCopy): Promise<string[]> {
  const { rows } = await client.query<{ station_id: string; at: string; rows: string[] }>(
    `WITH numbered AS (SELECT station_id, measured_at, row_number() OVER (ORDER BY ctid) AS row FROM ${table})
     SELECT station_id, to_char(measured_at, 'YYYY-MM-DD HH24:MI:SS.MS') AS at, array_agg(row ORDER BY row) AS rows
       FROM numbered GROUP BY station_id, measured_at HAVING count(*) > 1
      ORDER BY min(row) LIMIT $1`,
    [job.maxErrors],
  );
  const problems: string[] = [];
  for (const duplicate of rows) {
    const [first, ...repeats] = duplicate.rows.map((row) => validator.lineOfRow(Number(row)));
    for (const line of repeats) {
      problems.push(
        `${job.label}:${line}: station ${JSON.stringify(duplicate.station_id)} at ${duplicate.at} (${job.timezone}) repeats line ${first}; keep one reading per station and time`,
      );
    }
  }
  return problems.slice(0, job.maxErrors);
}

/**
 * For the embedded default (`npm start` with no DATABASE_URL): loads the bundled dataset when no dataset is
 * active yet, and leaves any active dataset alone. Returns undefined when there was nothing to do.
 */
export async function seedBundledWhenEmpty(
  databaseUrl: string,
  log: (line: string) => void = () => {},
): Promise<SeedResult | undefined> {
  const client = databaseClient(databaseUrl, 'airq-seed');
  await client.connect();
  try {
    if (await activeDataset(client)) return undefined;
  } finally {
    await client.end();
  }
  const result = await seed({ databaseUrl, file: BUNDLED_DATASET, source: 'bundled', log });
  log(`seeded the bundled dataset ${result.version} (${result.rows} rows, ${result.stations} stations)`);
  return result;
}
