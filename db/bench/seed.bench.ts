/**
 * Seeder throughput and memory against `psql \copy`: generates N rows, seeds them into a fresh database with the
 * CLI as a child process (peak RSS read from /proc/<pid>/status VmHWM), then loads the same file with psql into
 * an empty table shaped like a measurements partition. Prints figures and ratios; asserts nothing.
 *
 *   npm run bench:seed [-- --rows 5000000]
 * Server: BENCH_DATABASE_URL or TEST_DATABASE_URL (admin URL of a server), else an embedded PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateCsv } from '../src/generate.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { createTestDatabase, stopTestServer } from '../../test/support/postgres.ts';
import { bundleForBench } from './bundle.ts';

const { values } = parseArgs({ options: { rows: { type: 'string' }, keep: { type: 'boolean' } } });
const wantedRows = Number(values.rows ?? 1_000_000);
if (!Number.isInteger(wantedRows) || wantedRows < 960) {
  console.error(`--rows ${values.rows}: expected a whole number of at least 960`);
  process.exit(2);
}
if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;

const STATIONS = 100;
const days = Math.ceil(wantedRows / (STATIONS * 96));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Run {
  seconds: number;
  peakRssKb?: number;
  output: string;
}

/** Runs a command, timing it and (for the seeder) sampling its peak resident set size. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, sampleRss = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    let peakRssKb = 0;
    const sampler = sampleRss
      ? setInterval(async () => {
          const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
          const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
          if (hwm) peakRssKb = Math.max(peakRssKb, Number(hwm[1]));
        }, 20)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (sampler) clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`));
      else resolve({ seconds, peakRssKb: sampleRss ? peakRssKb : undefined, output });
    });
  });
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

// The image runs the seeder with Node 24's own type stripping; Node 20 here would need tsx, whose compiler
// would add ~40 MB to the RSS measured. So the seeder runs as plain JavaScript: the CLI bundled without its
// dependencies, its import.meta.url pinned to db/src/ so the migrations and bundled data resolve the same.
const cli = await bundleForBench('db/src/cli.ts', 'seed-cli');

const dir = await mkdtemp(path.join(os.tmpdir(), 'airq-bench-'));
const file = path.join(dir, 'bench.csv');
try {
  let started = performance.now();
  await pipeline(generateCsv({ stations: STATIONS, start: '2016-10-01', days, seed: 42 }), createWriteStream(file));
  const rows = STATIONS * days * 96;
  const bytes = (await stat(file)).size;
  console.log(
    `generated ${fmt(rows)} rows (${(bytes / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const db = await createTestDatabase();
  try {
    const env = { ...process.env, DATABASE_URL: db.url, PGTZ: 'UTC', LOG_LEVEL: 'debug' };
    // The seeder end to end: hash, lock, validate, COPY, build both indexes, ANALYZE, switch.
    const seeder = await run(process.execPath, [cli, 'seed', '--file', file], env, true);
    const reported = Number(/, ([\d.]+) s, /.exec(seeder.output)?.[1]);

    // psql \copy into an empty table identical to a measurements partition (same constraints and indexes).
    await sql(
      db.url,
      `CREATE TABLE bench_copy (LIKE measurements INCLUDING ALL); ALTER TABLE bench_copy ALTER COLUMN dataset_id SET DEFAULT 0`,
    );
    const psqlCopy = (table: string) =>
      run(
        'psql',
        [
          db.url,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy ${table} (measured_at, station_id, so2, no2, co, o3, pm10, pm2_5) FROM '${file}' WITH (FORMAT csv, HEADER true)`,
        ],
        env,
      );
    started = performance.now();
    await psqlCopy('bench_copy');
    const psqlIndexed = (performance.now() - started) / 1000;

    // Same end state the other way round: \copy into a bare table, then build the two indexes.
    await sql(
      db.url,
      `CREATE TABLE bench_bare (LIKE measurements INCLUDING DEFAULTS INCLUDING CONSTRAINTS); ALTER TABLE bench_bare ALTER COLUMN dataset_id SET DEFAULT 0`,
    );
    started = performance.now();
    await psqlCopy('bench_bare');
    await sql(
      db.url,
      `SET maintenance_work_mem = '256MB'; CREATE UNIQUE INDEX ON bench_bare (dataset_id, measured_at, station_id); CREATE INDEX ON bench_bare (dataset_id, station_id, measured_at)`,
    );
    const psqlBare = (performance.now() - started) / 1000;

    const seederRate = rows / reported;
    console.log(
      `seeder (db/src/cli.ts seed)        ${fmt(seederRate)} rows/s  (${reported.toFixed(2)} s as reported; ${seeder.seconds.toFixed(2)} s with process start-up)`,
    );
    console.log(`  ${/phases: .*/.exec(seeder.output)?.[0] ?? ''}`);
    console.log(`psql \\copy, identical table        ${fmt(rows / psqlIndexed)} rows/s  (${psqlIndexed.toFixed(2)} s)`);
    console.log(`psql \\copy, bare table + indexes   ${fmt(rows / psqlBare)} rows/s  (${psqlBare.toFixed(2)} s)`);
    console.log(
      `ratio seeder / psql (identical table)          ${(psqlIndexed / reported).toFixed(2)}  (target >= 0.8)`,
    );
    console.log(`ratio seeder / psql (bare table, then indexes) ${(psqlBare / reported).toFixed(2)}`);
    console.log(`ratio incl. the seeder's process start-up      ${(psqlIndexed / seeder.seconds).toFixed(2)}`);
    console.log(
      `seeder peak RSS (VmHWM)            ${((seeder.peakRssKb ?? 0) / 1024).toFixed(0)} MB  (target < 200 MB)`,
    );
  } finally {
    await db.drop();
  }
} finally {
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  await stopTestServer();
}
