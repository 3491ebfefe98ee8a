/**
 * npm run bench:api [-- --rows N --duration S --connections C --rounds R --export-rounds E]
 *
 * (a) GET /air_quality?limit=100 and ?limit=1000 through the app vs a raw node:http + pg handler (raw-server.ts) that
 *     runs the same SELECT (after the active-dataset lookup) on the same data and writes the same body with
 *     JSON.stringify: req/s and CPU per response of each server process and of PostgreSQL, in alternating rounds.
 * (b) The CSV and NDJSON exports of every row vs `psql -c "COPY (same SELECT) TO STDOUT"`, in alternating rounds, and
 *     the API's resident memory while it exports.
 * Both servers run as plain JavaScript bundled by esbuild (the image runs Node's type stripping, not tsx), against the
 * server at BENCH_DATABASE_URL / TEST_DATABASE_URL or an embedded PostgreSQL. Prints figures and ratios; asserts nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { POLLUTANTS } from '../src/domain.ts';
import { readingsSql } from '../src/sql/measurements.ts';
import { createTestDatabase, stopTestServer } from '../../test/support/postgres.ts';
import { createFixtureDataset } from '../test/support/fixtures.ts';
import getPort from 'get-port';
import { bundleForBench } from '../../db/bench/bundle.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    'export-rounds': { type: 'string', default: '2' },
  },
});
const rows = Number(args.rows);
const stations = 100;
const CLOCK_TICKS = 100;
if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;

async function startServer(
  script: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await getPort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/air_quality?limit=1`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, port };
    await sleep(100);
  }
  throw new Error(`${script} did not start on port ${port}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** VmHWM (peak resident set) or VmRSS (now) of a process, in MB. */
function rssMb(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
}

/** utime, stime, cutime, cstime and ppid of a process (fields after the command name in /proc/<pid>/stat). */
function stat(pid: number): { cpu: number; children: number; ppid: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { cpu: (n(14) + n(15)) / CLOCK_TICKS, children: (n(16) + n(17)) / CLOCK_TICKS, ppid: n(4) };
}

/** CPU seconds used so far by a process. */
const processCpu = (pid: number) => stat(pid).cpu;

/** The postmaster listening on `port` (started by this run, so found by its -p argument), or undefined. */
function postmaster(port: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0] ?? '') === 'postgres' && argv.some((a, i) => a === '-p' && argv[i + 1] === port))
        return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** CPU seconds of the PostgreSQL server: postmaster, its exited children, and its live backends. */
function postgresCpu(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const own = stat(pid);
  let total = own.cpu + own.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = stat(Number(entry));
      if (s.ppid === pid) total += s.cpu;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

interface Load {
  reqs: number;
  responses: number;
  p99: number;
  errors: number;
  /** CPU milliseconds per response: the server process, and PostgreSQL. */
  serverMs: number;
  postgresMs: number;
}

async function load(
  server: { child: ChildProcess; port: number },
  limit: number,
  pg: number | undefined,
): Promise<Load> {
  const url = `http://127.0.0.1:${server.port}/air_quality?limit=${limit}`;
  const connections = Number(args.connections);
  await autocannon({ url, connections, duration: 1 }); // warm-up
  const cpu = processCpu(server.child.pid!);
  const pgCpu = postgresCpu(pg);
  const r = await autocannon({ url, connections, duration: Number(args.duration) });
  const responses = r['2xx'];
  return {
    reqs: r.requests.average,
    responses,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
    serverMs: ((processCpu(server.child.pid!) - cpu) * 1000) / responses,
    postgresMs: ((postgresCpu(pg) - pgCpu) * 1000) / responses,
  };
}

/** Reads an export to its end, counting bytes and lines; samples the server's RSS meanwhile. */
async function exportFrom(
  port: number,
  pid: number,
  accept: string,
): Promise<{ seconds: number; lines: number; bytes: number; peakRss: number }> {
  let bytes = 0;
  let lines = 0;
  let peakRss = rssMb(pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 50);
  const started = process.hrtime.bigint();
  try {
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/air_quality', headers: { Accept: accept } }, (res) => {
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          });
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
  } finally {
    clearInterval(sampler);
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, lines, bytes, peakRss };
}

function psqlCopy(url: string, sql: string): { seconds: number; lines: number; bytes: number } {
  const started = process.hrtime.bigint();
  const copy = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', `COPY (${sql}) TO STDOUT`], {
    maxBuffer: 1024 * 1024 * 1024,
    encoding: 'buffer',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (copy.status !== 0) throw new Error(`psql failed: ${copy.stderr.toString()}`);
  let lines = 0;
  for (let i = copy.stdout.indexOf(10); i !== -1; i = copy.stdout.indexOf(10, i + 1)) lines++;
  return { seconds, lines, bytes: copy.stdout.length };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)} ms` : 'n/a');

const [appScript, rawScript] = await Promise.all([
  bundleForBench('api/src/server.ts', 'api-server'),
  bundleForBench('api/bench/raw-server.ts', 'raw-server'),
]);
const database = await createTestDatabase();
try {
  const started = Date.now();
  const dataset = await createFixtureDataset(database.url, {
    stations: Array.from({ length: stations }, (_, i) => `st_${String(i).padStart(3, '0')}`),
    perStation: Math.ceil(rows / stations),
  });
  console.log(
    `dataset: ${dataset.rows} rows, ${stations} stations (${((Date.now() - started) / 1000).toFixed(1)} s to create)`,
  );
  const pg = postmaster(new URL(database.url).port);
  if (pg === undefined) console.log('(PostgreSQL runs elsewhere: its CPU is not measured)');

  const appEnv = {
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    SHUTDOWN_DRAIN_MS: '0',
  };
  let app = await startServer(appScript, appEnv);
  const raw = await startServer(rawScript, { DATABASE_URL: database.url });
  console.log(
    '\nNeither server caches anything between requests. The raw handler runs two statements per request (active ' +
      'dataset, then the page), unnamed, as hand-written pg code does; the app reads both in one prepared statement ' +
      '(one round trip) and writes the body from PostgreSQL text. The app also validates, negotiates, signs the cursor, ' +
      'hashes the ETag, logs each request and records metrics.',
  );
  for (const limit of [100, 1000]) {
    // Alternate the two so that neither always runs first on a machine whose load drifts.
    const runs: { app: Load[]; raw: Load[] } = { app: [], raw: [] };
    for (let round = 0; round < Number(args.rounds); round++) {
      runs.app.push(await load(app, limit, pg));
      runs.raw.push(await load(raw, limit, pg));
    }
    console.log(
      `\n(a) GET /air_quality?limit=${limit}, autocannon ${args.connections} connections, ${args.duration} s, ${args.rounds} alternating rounds`,
    );
    console.log(
      `${''.padEnd(22)} ${'req/s'.padStart(7)}   ${'p99'.padStart(7)}   ${'server CPU/resp'.padStart(15)}   ${'PostgreSQL CPU/resp'.padStart(19)}   errors`,
    );
    const line = (name: string, r: Load) =>
      `${name.padEnd(22)} ${r.reqs.toFixed(0).padStart(7)}   ${`${r.p99} ms`.padStart(7)}   ${ms(r.serverMs).padStart(15)}   ${ms(r.postgresMs).padStart(19)}   ${r.errors}`;
    for (let round = 0; round < runs.app.length; round++) {
      console.log(line(`app round ${round + 1}`, runs.app[round]!));
      console.log(line(`raw http+pg round ${round + 1}`, runs.raw[round]!));
    }
    const appReqs = mean(runs.app.map((r) => r.reqs));
    const rawReqs = mean(runs.raw.map((r) => r.reqs));
    console.log(
      `limit=${limit}: app ${appReqs.toFixed(0)} req/s, raw ${rawReqs.toFixed(0)} req/s, ratio app/raw ${(appReqs / rawReqs).toFixed(2)}`,
    );
    console.log(
      `limit=${limit}: CPU per response app ${ms(mean(runs.app.map((r) => r.serverMs)))} vs raw ${ms(mean(runs.raw.map((r) => r.serverMs)))}` +
        ` (ratio ${(mean(runs.app.map((r) => r.serverMs)) / mean(runs.raw.map((r) => r.serverMs))).toFixed(2)});` +
        ` PostgreSQL per response app ${ms(mean(runs.app.map((r) => r.postgresMs)))} vs raw ${ms(mean(runs.raw.map((r) => r.postgresMs)))}`,
    );
  }
  await stop(raw.child);
  // A fresh app for the exports, so that its memory is the export's and not the heap the page loads grew.
  await stop(app.child);
  app = await startServer(appScript, appEnv);

  // (b) exports vs COPY TO STDOUT of the same SELECT (raw columns in COPY's text format: the least work PostgreSQL can do)
  const { text, values } = readingsSql(
    dataset.id,
    { stations: undefined, from: undefined, to: undefined, pollutants: [...POLLUTANTS], order: 'desc' },
    undefined,
    undefined,
  );
  const sql = text.replace(/\$1\b/, String(Number(values[0])));
  const before = rssMb(app.child.pid!);
  const exports: { ndjson: number[]; csv: number[]; copy: number[]; peak: number } = {
    ndjson: [],
    csv: [],
    copy: [],
    peak: 0,
  };
  console.log(`\n(b) export of every row, ${args['export-rounds']} alternating rounds`);
  const exportLine = (name: string, r: { seconds: number; lines: number; bytes: number }) =>
    console.log(
      `${name.padEnd(22)} ${(r.lines / r.seconds).toFixed(0).padStart(8)} rows/s  ${(r.bytes / r.seconds / 1e6).toFixed(1).padStart(6)} MB/s  ${r.seconds.toFixed(2)} s  ${r.lines} lines`,
    );
  for (let round = 0; round < Number(args['export-rounds']); round++) {
    for (const [kind, accept] of [
      ['ndjson', 'application/x-ndjson'],
      ['csv', 'text/csv'],
    ] as const) {
      const r = await exportFrom(app.port, app.child.pid!, accept);
      exports[kind].push(r.lines / r.seconds);
      exports.peak = Math.max(exports.peak, r.peakRss);
      exportLine(`API ${kind} round ${round + 1}`, r);
    }
    const c = psqlCopy(database.url, sql);
    exports.copy.push(c.lines / c.seconds);
    exportLine(`psql COPY round ${round + 1}`, c);
  }
  const hwm = rssMb(app.child.pid!, 'VmHWM');
  await stop(app.child);
  console.log(
    `ratio API/COPY (mean rows/s): NDJSON ${(mean(exports.ndjson) / mean(exports.copy)).toFixed(2)}, CSV ${(mean(exports.csv) / mean(exports.copy)).toFixed(2)}`,
  );
  console.log(
    `API RSS (a fresh process): ${before.toFixed(0)} MB before the exports, at most ${exports.peak.toFixed(0)} MB while exporting (sampled every 50 ms); peak (VmHWM) ${hwm.toFixed(0)} MB (target < 150 MB)`,
  );
} finally {
  await database.drop();
  await stopTestServer();
}
