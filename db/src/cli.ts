import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { GENERATE_DEFAULTS, generateCsv } from './generate.ts';
import { openDatabase } from './local-database.ts';
import { migrate } from './migrate.ts';
import {
  BUNDLED_DATASET,
  DATABASE_TIMEOUT_MS,
  InvalidInputError,
  UsageError,
  seed,
  type SeedProgress,
  type SeedResult,
} from './seed.ts';

// Exit codes: 0 done (or already loaded), 1 invalid input, 2 usage, 3 anything else (database unreachable...).
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;
const EXIT_FAILURE = 3;

const USAGE = `usage: db/src/cli.ts <command> [options]

commands:
  migrate                                  apply pending migrations
  seed [--file F] [--max-errors N] [--timezone Z] [--source NAME]
                                           load a CSV (default: the bundled db/data/environment_airq_measurand.csv)
                                           as the new active dataset
  generate [--stations N] [--start YYYY-MM-DD] [--days N] [--seed S] [--out F]
                                           write a deterministic synthetic dataset (default: stdout)

environment: DATABASE_URL (unset: embedded PostgreSQL under .data/postgres), SEED_TIMEZONE,
             SEED_DB_TIMEOUT_MS (default 30000), CACHE_BAN_URL, CACHE_BAN_TOKEN`;

const err = (line: string) => process.stderr.write(`${line}\n`);

function formatNumber(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** The one-line summary a seed prints. */
function summaryLine(file: string, result: SeedResult): string {
  if (result.status === 'already-active') {
    return `${file} is already the active dataset ${result.version} (${formatNumber(result.rows)} rows, ${result.stations} stations); nothing to do`;
  }
  const range =
    result.firstAt && result.lastAt
      ? `${result.firstAt.toISOString()} .. ${result.lastAt.toISOString()}`
      : 'no time range';
  const seconds = result.seconds.toFixed(2);
  const rate = formatNumber(result.rows / Math.max(result.seconds, 1e-3));
  return `loaded ${file}: ${formatNumber(result.rows)} rows, ${result.stations} stations, ${range}, ${seconds} s, ${rate} rows/s; dataset ${result.version} is active`;
}

function progressPrinter(): ((progress: SeedProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return ({ bytes, totalBytes, rows, seconds }) => {
    if (totalBytes < 8 * 1024 * 1024) return;
    const percent = ((bytes / totalBytes) * 100).toFixed(0).padStart(3);
    process.stderr.write(`\r  ${percent}%  ${formatNumber(rows)} rows  ${formatNumber(rows / seconds)} rows/s   `);
  };
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} ${JSON.stringify(value)}: expected a whole number`);
  return Number(value);
}

function environmentInteger(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^[1-9]\d*$/.test(value))
    throw new UsageError(
      `environment variable ${name}=${JSON.stringify(value)}: expected a whole number of milliseconds`,
    );
  return Number(value);
}

async function withDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const database = await openDatabase(process.env, (line) => {
    if (process.env.LOG_LEVEL === 'debug') err(line);
  });
  try {
    await migrate(database.url);
    return await run(database.url);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'migrate') {
    parseArgs({ args: rest, options: {}, strict: true });
    const database = await openDatabase(process.env);
    try {
      const result = await migrate(database.url);
      console.log(
        result.applied.length
          ? `applied ${result.applied.join(', ')}`
          : `schema is up to date (version ${result.current})`,
      );
    } finally {
      await database.close();
    }
    return 0;
  }
  if (command === 'seed') {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        file: { type: 'string' },
        'max-errors': { type: 'string' },
        timezone: { type: 'string' },
        source: { type: 'string' },
      },
    });
    const file = values.file ?? path.relative(process.cwd(), BUNDLED_DATASET);
    const progress = progressPrinter();
    const result = await withDatabase((databaseUrl) =>
      seed({
        databaseUrl,
        file,
        timezone: values.timezone ?? process.env.SEED_TIMEZONE ?? 'UTC',
        maxErrors: integer('max-errors', values['max-errors'], 20),
        source: values.source,
        log: err,
        progress,
        databaseTimeoutMs: environmentInteger('SEED_DB_TIMEOUT_MS', DATABASE_TIMEOUT_MS),
        notify: process.env.CACHE_BAN_URL
          ? { url: process.env.CACHE_BAN_URL, token: process.env.CACHE_BAN_TOKEN }
          : undefined,
      }),
    );
    if (progress) process.stderr.write('\r\x1b[K');
    console.log(summaryLine(file, result));
    if (process.env.LOG_LEVEL === 'debug') {
      err(
        `phases: ${Object.entries(result.phases)
          .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
          .join(', ')}`,
      );
    }
    if (result.notification) err(result.notification.message);
    return 0;
  }
  if (command === 'generate') {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        stations: { type: 'string' },
        start: { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
      },
    });
    const csv = generateCsv({
      stations: integer('stations', values.stations, GENERATE_DEFAULTS.stations),
      start: values.start ?? GENERATE_DEFAULTS.start,
      days: integer('days', values.days, GENERATE_DEFAULTS.days),
      seed: integer('seed', values.seed, GENERATE_DEFAULTS.seed),
    });
    await pipeline(csv, values.out ? createWriteStream(values.out) : process.stdout);
    if (values.out) err(`wrote ${values.out}`);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help') {
    (command ? console.log : err)(USAGE);
    return command ? 0 : EXIT_USAGE;
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}; expected migrate, seed or generate`);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof InvalidInputError) {
    err(error.message);
    err('seed failed: nothing changed; the previously active dataset is still served');
    return EXIT_INVALID;
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (error instanceof RangeError) {
    err(`${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  err(`db ${process.argv[2] ?? ''} failed: ${(error as Error).message ?? error}`);
  return EXIT_FAILURE;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = exitCodeFor(error);
  },
);
