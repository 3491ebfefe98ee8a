import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import { generateCsv } from '../src/generate.ts';
import { startOwnedPostgres, type OwnedPostgres } from '../../test/support/owned-postgres.ts';
import { finished, startCli } from './support/cli.ts';

/** Polls until a COPY into the owned database has processed rows (or the child ended). */
async function copyUnderway(url: string, child: { exitCode: number | null }): Promise<number> {
  const client = new pg.Client(url);
  client.on('error', () => {});
  await client.connect();
  try {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && child.exitCode === null;) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT coalesce(max(tuples_processed), 0)::int AS n FROM pg_stat_progress_copy WHERE datname = current_database()',
      );
      if (rows[0]!.n > 0) return rows[0]!.n;
      await sleep(10);
    }
    return 0;
  } finally {
    await client.end();
  }
}

describe('the seeder when its database fails or freezes', function () {
  this.timeout(180_000);
  let postgres: OwnedPostgres;
  let dir: string;
  // Two different files, so each case loads a dataset that is not already the active one.
  let file: string;
  let frozenFile: string;

  before(async () => {
    postgres = await startOwnedPostgres();
    dir = await mkdtemp(path.join(os.tmpdir(), 'airq-seed-outage-'));
    file = path.join(dir, 'large.csv');
    frozenFile = path.join(dir, 'large-frozen.csv');
    // 100 stations × 32 days × 96 readings = 307,200 rows, ~45 MB: long enough to be caught mid-COPY.
    await pipeline(generateCsv({ stations: 100, start: '2017-01-01', days: 32, seed: 7 }), createWriteStream(file));
    await pipeline(
      generateCsv({ stations: 100, start: '2017-01-01', days: 32, seed: 8 }),
      createWriteStream(frozenFile),
    );
  });
  after(async () => {
    postgres?.thaw();
    await postgres?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 3 (not 1, which means bad input) when the database stops mid-COPY, and the next seed loads', async () => {
    const child = startCli(['seed', '--file', file], { DATABASE_URL: postgres.url });
    const exited = finished(child);
    expect(await copyUnderway(postgres.url, child), 'the COPY should be seen in progress').to.be.greaterThan(0);
    await postgres.stop();
    const run = await exited;
    await postgres.start();
    expect(run.code, run.stderr).to.equal(3);
    expect(run.stderr).to.match(/^db seed failed: /m);
    expect(run.stderr).to.not.include('Unhandled');

    const retry = await finished(startCli(['seed', '--file', file], { DATABASE_URL: postgres.url }));
    expect(retry.code, retry.stderr).to.equal(0);
    expect(retry.stdout).to.match(/^loaded .*large\.csv: 307,200 rows, 100 stations, /);
  });

  it('gives up with exit 3 after SEED_DB_TIMEOUT_MS of silence when the database freezes mid-COPY, and the next seed loads', async () => {
    const child = startCli(['seed', '--file', frozenFile], { DATABASE_URL: postgres.url, SEED_DB_TIMEOUT_MS: '2000' });
    const exited = finished(child);
    expect(await copyUnderway(postgres.url, child), 'the COPY should be seen in progress').to.be.greaterThan(0);
    postgres.freeze();
    let run;
    try {
      // Without a client-side bound the seeder waits as long as the freeze lasts: this race turns that into a failure.
      run = await Promise.race([exited, sleep(60_000).then(() => undefined)]);
    } finally {
      postgres.thaw();
    }
    if (!run) child.kill('SIGKILL');
    expect(run, 'the seeder was still waiting after 60 s').to.not.equal(undefined);
    expect(run!.code, run!.stderr).to.equal(3);
    expect(run!.stderr).to.include('the database did not answer for 2 s');

    const retry = await finished(startCli(['seed', '--file', frozenFile], { DATABASE_URL: postgres.url }));
    expect(retry.code, retry.stderr).to.equal(0);
    expect(retry.stdout).to.match(/^loaded .*large-frozen\.csv: 307,200 rows, 100 stations, /);
  });
});
