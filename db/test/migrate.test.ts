import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadMigrations, migrate } from '../src/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';

describe('migrate', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  it('applies every migration once and is a no-op when run again', async () => {
    const first = await migrate(db.url);
    expect(first.applied).to.include('001_initial.sql');
    const second = await migrate(db.url);
    expect(second.applied).to.deep.equal([]);
    expect(second.current).to.equal(first.current);
  });

  it('applies each migration exactly once when several migrators start together', async () => {
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => migrate(db.url)));
    const applied = results.flatMap((r) => r.applied);
    expect(applied.filter((name) => name === '001_initial.sql')).to.have.length(1);
    const client = new pg.Client(db.url);
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
    await client.end();
    expect(rows[0].n).to.equal((await loadMigrations()).length);
  });

  it('rolls back a failing migration and names it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'airq-migrations-'));
    await writeFile(path.join(dir, '001_ok.sql'), 'CREATE TABLE ok (id int);');
    await writeFile(path.join(dir, '002_broken.sql'), 'CREATE TABLE half (id int); SELECT no_such_function();');
    let message = '';
    try {
      await migrate(db.url, dir);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/^migration 002_broken\.sql failed: .*no_such_function/);
    const client = new pg.Client(db.url);
    await client.connect();
    const tables = (await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map(
      (r) => r.tablename,
    );
    await client.end();
    expect(tables).to.include('ok');
    expect(tables).not.to.include('half');
  });

  it('refuses a migration file whose name does not follow NNN_name.sql', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'airq-migrations-'));
    await writeFile(path.join(dir, 'initial.sql'), 'SELECT 1;');
    let message = '';
    try {
      await loadMigrations(dir);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.equal(`${path.join(dir, 'initial.sql')}: migration files are named NNN_snake_case.sql`);
  });
});
