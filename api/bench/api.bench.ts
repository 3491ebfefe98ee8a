/**
 * npm run bench:api [-- --rows N --duration S]
 * (a) GET /air_quality?limit=100 through the app vs a raw node:http + pg handler running the same SQL on the same data;
 * (b) NDJSON export of every row vs `psql -c "COPY (same SELECT) TO STDOUT"`, and the API's peak RSS.
 * Prints figures and ratios; asserts nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { POLLUTANTS } from '../src/params.ts';
import { readingsQuery } from '../src/sql/measurements.ts';
import { createTestDatabase, stopTestServer } from '../../test/support/postgres.ts';
import { createFixtureDataset } from '../test/support/fixtures.ts';
import getPort from 'get-port';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '16' }, rounds: { type: 'string', default: '2' } },
});
const rows = Number(args.rows);
const stations = 100;

async function startServer(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const port = await getPort();
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/air_quality?limit=1`).then((r) => r.ok, () => false);
    if (ok) return { child, port };
    await sleep(100);
  }
  throw new Error(`${script} did not start on port ${port}`);
}

/** VmHWM (peak resident set) or VmRSS (now) of a child, in MB. */
function rssMb(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
}

async function load(port: number): Promise<autocannon.Result> {
  const url = `http://127.0.0.1:${port}/air_quality?limit=100`;
  await autocannon({ url, connections: Number(args.connections), duration: 2 }); // warm-up
  return autocannon({ url, connections: Number(args.connections), duration: Number(args.duration) });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const database = await createTestDatabase();
try {
  const started = Date.now();
  const dataset = await createFixtureDataset(database.url, {
    stations: Array.from({ length: stations }, (_, i) => `st_${String(i).padStart(3, '0')}`),
    perStation: Math.ceil(rows / stations),
  });
  console.log(`dataset: ${dataset.rows} rows, ${stations} stations (${((Date.now() - started) / 1000).toFixed(1)} s to create)`);

  // (a) paged JSON
  const app = await startServer('api/src/server.ts', { DATABASE_URL: database.url, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', SHUTDOWN_DRAIN_MS: '0' });
  const startRss = rssMb(app.child.pid!, 'VmRSS');
  const raw = await startServer('api/bench/raw-server.ts', { DATABASE_URL: database.url });
  // Alternate the two so that neither always runs first on a machine whose load drifts.
  const runs: { app: autocannon.Result[]; raw: autocannon.Result[] } = { app: [], raw: [] };
  for (let round = 0; round < Number(args.rounds); round++) {
    runs.app.push(await load(app.port));
    runs.raw.push(await load(raw.port));
  }
  await stop(raw.child);
  const line = (name: string, r: autocannon.Result) =>
    `${name.padEnd(22)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   errors ${r.errors + r.non2xx}`;
  console.log('\n(a) GET /air_quality?limit=100, autocannon', `${args.connections} connections, ${args.duration} s, ${args.rounds} alternating rounds`);
  for (let round = 0; round < runs.app.length; round++) {
    console.log(line(`app (Koa) round ${round + 1}`, runs.app[round]!));
    console.log(line(`raw http+pg round ${round + 1}`, runs.raw[round]!));
  }
  const mean = (results: autocannon.Result[]) => results.reduce((sum, r) => sum + r.requests.average, 0) / results.length;
  console.log(`ratio app/raw (mean req/s): ${(mean(runs.app) / mean(runs.raw)).toFixed(2)} (target >= 0.85)`);

  // (b) NDJSON export of every row vs COPY TO STDOUT of the same SELECT
  const before = rssMb(app.child.pid!);
  let bytes = 0;
  let lines = 0;
  const exportStarted = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: app.port, path: '/air_quality', headers: { Accept: 'application/x-ndjson' } }, (res) => {
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        });
        res.on('end', resolve);
        res.on('error', reject);
      })
      .on('error', reject);
  });
  const exportSeconds = Number(process.hrtime.bigint() - exportStarted) / 1e9;
  const peak = rssMb(app.child.pid!);
  await stop(app.child);

  const { text, values } = readingsQuery(
    dataset.id,
    { stations: undefined, from: undefined, to: undefined, pollutants: [...POLLUTANTS], order: 'desc' },
    undefined,
    undefined,
  );
  const sql = text.replace('$1', String(Number(values[0])));
  const copyStarted = process.hrtime.bigint();
  const copy = spawnSync('psql', [database.url, '-v', 'ON_ERROR_STOP=1', '-c', `COPY (${sql}) TO STDOUT`], {
    maxBuffer: 1024 * 1024 * 1024,
    encoding: 'buffer',
  });
  const copySeconds = Number(process.hrtime.bigint() - copyStarted) / 1e9;
  if (copy.status !== 0) throw new Error(`psql failed: ${copy.stderr.toString()}`);
  let copyLines = 0;
  for (let i = copy.stdout.indexOf(10); i !== -1; i = copy.stdout.indexOf(10, i + 1)) copyLines++;

  console.log(`\n(b) export of ${lines} rows`);
  console.log(`API NDJSON     ${(lines / exportSeconds).toFixed(0).padStart(8)} rows/s  ${(bytes / exportSeconds / 1e6).toFixed(1)} MB/s  ${exportSeconds.toFixed(2)} s`);
  console.log(`psql COPY      ${(copyLines / copySeconds).toFixed(0).padStart(8)} rows/s  ${(copy.stdout.length / copySeconds / 1e6).toFixed(1)} MB/s  ${copySeconds.toFixed(2)} s`);
  console.log(`throughput ratio API/COPY (rows/s): ${(lines / exportSeconds / (copyLines / copySeconds)).toFixed(2)}`);
  console.log(`API peak RSS: ${peak.toFixed(0)} MB (target < 150 MB); at start ${startRss.toFixed(0)} MB, peak before the export ${before.toFixed(0)} MB`);
  console.log('(the API runs under tsx here, whose loader thread and esbuild add to RSS; the image runs Node 24 type stripping)');
} finally {
  await database.drop();
  await stopTestServer();
}
