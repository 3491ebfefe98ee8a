// The chart's pre-upgrade backup hook (helm/airq/templates/backup-before-upgrade-job.yaml), its two containers' scripts
// run here as the pod runs them, against a real PostgreSQL and the real pg_dump: a dump when the new image brings a
// migration the database lacks, none otherwise.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { one, renderChart } from '../../helm/test/support/chart.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';

function major(text: string): number {
  return Number(/(\d+)(?:\.\d+)?/.exec(text)?.[1] ?? 0);
}

describe('the pre-upgrade backup hook dumps the database exactly when the upgrade changes the schema', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let scratch: string;
  let work: string;
  let backups: string;
  let init: string[];
  let dump: string;

  before(async function () {
    const pgDump = spawnSync('pg_dump', ['--version'], { encoding: 'utf8' });
    if (pgDump.error) {
      if (process.env.CI === 'true') throw new Error('pg_dump is not installed (apt-get install postgresql-client)');
      console.warn('      SKIPPED: pg_dump is not installed (apt-get install postgresql-client)');
      this.skip();
    }
    database = await createTestDatabase();
    const client = new pg.Client(database.url);
    await client.connect();
    const server = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await client.end();
    if (major(pgDump.stdout) < major(server)) {
      // pg_dump refuses newer servers. .ci/run runs db/test a second time with TEST_DATABASE_URL on a server pg_dump can dump.
      console.warn(
        `      SKIPPED: ${pgDump.stdout.trim()} cannot dump PostgreSQL ${server}; set TEST_DATABASE_URL to a server of version ${major(pgDump.stdout)} or older`,
      );
      await database.drop();
      this.skip();
    }
    scratch = mkdtempSync(path.join(tmpdir(), 'airq-backup-hook-'));
    work = path.join(scratch, 'work');
    backups = path.join(scratch, 'backups');
    for (const dir of [work, backups]) execFileSync('mkdir', ['-p', dir]);
    const objects = await renderChart({ environment: 'production', namespace: 'airq-production' });
    const pod = one(objects, 'Job', 'airq-backup-before-upgrade').spec.template.spec;
    // The pod's mount points, moved into this test's directory.
    const relocate = (text: string) => text.replaceAll('/work/', `${work}/`).replaceAll('/backups/', `${backups}/`);
    init = (pod.initContainers[0].command as string[]).map(relocate);
    dump = relocate((pod.containers[0].command as string[])[2]!);
  });

  after(async function () {
    await database?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function runDump(): { status: number | null; output: string } {
    const url = new URL(database.url);
    const result = spawnSync('sh', ['-ec', dump], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PGHOST: url.hostname,
        PGPORT: url.port || '5432',
        PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
        PGUSER: decodeURIComponent(url.username) || 'postgres',
        PGPASSWORD: decodeURIComponent(url.password),
      },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it("reads the new image's newest migration in the init container", function () {
    const [command, ...args] = init;
    execFileSync(command!, args, { cwd: REPO_ROOT });
    const newest = readdirSync(path.join(REPO_ROOT, 'db/migrations'))
      .filter((f) => /^\d+_.*\.sql$/.test(f))
      .sort()
      .at(-1)!;
    expect(readFileSync(path.join(work, 'latest'), 'utf8')).to.equal(String(parseInt(newest, 10)));
  });

  it('dumps nothing when the database already has every migration of the new image', function () {
    const result = runDump();
    expect(result.status, result.output).to.equal(0);
    expect(result.output).to.match(/schema at migration \d+, the new release needs \d+: no schema change, no backup/);
    expect(readdirSync(backups)).to.deep.equal([]);
  });

  it('dumps the database, restorable with pg_restore, when the new image brings a migration it has not applied', function () {
    const latest = Number(readFileSync(path.join(work, 'latest'), 'utf8'));
    writeFileSync(path.join(work, 'latest'), String(latest + 1));
    const result = runDump();
    expect(result.status, result.output).to.equal(0);
    const files = readdirSync(backups);
    expect(files).to.have.length(1);
    expect(files[0]).to.match(new RegExp(`^airq-before-migration-${latest + 1}-\\d{8}T\\d{6}Z\\.dump$`));
    expect(result.output).to.include(`schema at migration ${latest}, the new release migrates to ${latest + 1}: wrote`);
    const listing = execFileSync('pg_restore', ['--list', path.join(backups, files[0]!)], { encoding: 'utf8' });
    expect(listing)
      .to.match(/TABLE public datasets/)
      .and.match(/TABLE public schema_migrations/);
    expect(existsSync(path.join(backups, `${files[0]}.partial`))).to.equal(false);
  });
});
