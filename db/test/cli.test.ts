import { expect } from 'chai';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { generateCsv } from '../src/generate.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { finished, startCli } from './support/cli.ts';

describe('db CLI', () => {
  let db: TestDatabase;
  let dir: string;
  let client: pg.Client;
  const cli = (...args: string[]) => finished(startCli(args, { DATABASE_URL: db.url }));

  async function activeDataset(): Promise<{ id: string; sha256: string } | undefined> {
    return (await client.query(`SELECT id::text, sha256 FROM datasets WHERE status = 'active'`)).rows[0];
  }

  before(async () => {
    db = await createTestDatabase({ migrated: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'airq-cli-'));
    client = new pg.Client(db.url);
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('migrates, seeds the bundled dataset and prints a one-line summary', async () => {
    const run = await cli('seed');
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(
      /^loaded db\/data\/environment_airq_measurand\.csv: 960 rows, 10 stations, 2016-10-01T00:00:00\.004Z \.\. 2016-10-01T23:45:00\.031Z, \d+\.\d\d s, [\d,]+ rows\/s; dataset [0-9a-f]{12} is active\n$/,
    );
  });

  it('exits 0 and says so when the file is already the active dataset', async () => {
    const run = await cli('seed', '--file', 'db/data/environment_airq_measurand.csv');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(
      /^db\/data\/environment_airq_measurand\.csv is already the active dataset [0-9a-f]{12} \(960 rows, 10 stations\); nothing to do\n$/,
    );
  });

  it('exits 1 on invalid input, printing every problem and that nothing changed', async () => {
    const file = path.join(dir, 'bad.csv');
    await writeFile(file, 'TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5\n2016-10-01 00:00:00.000,a,1,abc,1,1,1,-1\n');
    const before = await activeDataset();
    const run = await cli('seed', '--file', file);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.equal(
      `${file}:2: column "no2": "abc" is not a number\n` +
        `${file}:2: column "pm2_5": "-1" is negative; concentrations cannot be below zero\n` +
        'seed failed: nothing changed; the previously active dataset is still served\n',
    );
    expect(await activeDataset()).to.deep.equal(before);
  });

  it('exits 2 on usage errors, naming the flag', async () => {
    const [unknownFlag, badNumber, badZone, unknownCommand] = await Promise.all([
      cli('seed', '--fil', 'x.csv'),
      cli('seed', '--max-errors', 'many'),
      cli('seed', '--timezone', 'Europe/Atlantis'),
      cli('load'),
    ]);
    expect(unknownFlag.code).to.equal(2);
    expect(unknownFlag.stderr).to.match(/^Unknown option '--fil'/);
    expect(badNumber.code).to.equal(2);
    expect(badNumber.stderr).to.match(/^--max-errors "many": expected a whole number\n/);
    expect(badZone.code).to.equal(2);
    expect(badZone.stderr).to.match(
      /^--timezone "Europe\/Atlantis": unknown time zone; use an IANA name such as UTC or Europe\/Madrid\n/,
    );
    expect(unknownCommand.code).to.equal(2);
    expect(unknownCommand.stderr).to.match(/^unknown command "load"; expected migrate, seed or generate\n\nusage:/);
  });

  it('leaves the old dataset active and no rows visible when killed with SIGKILL mid-COPY; the next seed cleans up and loads', async function () {
    this.timeout(180_000);
    const file = path.join(dir, 'large.csv');
    // 100 stations × 32 days × 96 readings = 307,200 rows, ~45 MB: long enough to be caught mid-COPY.
    await pipeline(generateCsv({ stations: 100, start: '2017-01-01', days: 32, seed: 7 }), createWriteStream(file));
    const before = await activeDataset();
    const rowsBefore = Number((await client.query('SELECT count(*) FROM measurements')).rows[0].count);
    expect(before).to.not.equal(undefined);

    const child = startCli(['seed', '--file', file], { DATABASE_URL: db.url });
    const exited = finished(child);
    let copied = 0;
    const deadline = Date.now() + 120_000;
    while (copied === 0 && Date.now() < deadline && child.exitCode === null) {
      const { rows } = await client.query(
        `SELECT coalesce(max(tuples_processed), 0)::int AS n FROM pg_stat_progress_copy WHERE datname = current_database()`,
      );
      copied = rows[0].n;
      if (copied === 0) await sleep(10);
    }
    expect(copied, 'the COPY should be seen in progress').to.be.greaterThan(0);
    child.kill('SIGKILL');
    const killed = await exited;
    expect(killed.signal).to.equal('SIGKILL');

    expect(await activeDataset()).to.deep.equal(before);
    expect(Number((await client.query('SELECT count(*) FROM measurements')).rows[0].count)).to.equal(rowsBefore);
    const { rows: loading } = await client.query(`SELECT id::text FROM datasets WHERE status = 'loading'`);
    expect(loading).to.have.length(1);

    const retry = await cli('seed', '--file', file);
    expect(retry.code, retry.stderr).to.equal(0);
    expect(retry.stderr).to.equal(
      `cleaned up after an interrupted seed: dataset ${loading[0].id}, table measurements_${loading[0].id}\n`,
    );
    expect(retry.stdout).to.match(/^loaded .*large\.csv: 307,200 rows, 100 stations, /);
    const { rows: statuses } = await client.query(`SELECT status FROM datasets WHERE id = $1`, [loading[0].id]);
    expect(statuses[0].status).to.equal('failed');
    expect(Number((await client.query('SELECT count(*) FROM measurements')).rows[0].count)).to.equal(307_200);
  });
});

describe('db CLI with the embedded PostgreSQL (no DATABASE_URL)', () => {
  let dataDir: string;
  before(() => {
    // Directly under the system temp dir: under root the cluster runs as the `postgres` user, which must reach it.
    dataDir = path.join(os.tmpdir(), `airq-cli-embedded-${process.pid}-${Date.now()}`);
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps its exit codes: 0 for a load, 1 for invalid input', async function () {
    this.timeout(120_000);
    const env = { DATABASE_URL: undefined, AIRQ_DATA_DIR: dataDir };
    const loaded = await finished(startCli(['seed'], env));
    expect(loaded.code, loaded.stderr).to.equal(0);
    expect(loaded.stdout).to.match(/: 960 rows, 10 stations, /);
    const file = path.join(dataDir, '..', `airq-cli-bad-${process.pid}.csv`);
    await writeFile(file, 'TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5\n2016-10-01 00:00:00.000,a,1,abc,1,1,1,1\n');
    try {
      const refused = await finished(startCli(['seed', '--file', file], env));
      expect(refused.stderr).to.include(`${file}:2: column "no2": "abc" is not a number`);
      expect(refused.code).to.equal(1);
    } finally {
      await rm(file, { force: true });
    }
  });
});
