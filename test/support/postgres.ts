import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../db/src/embedded-postgres.ts';
import { migrate } from '../../db/src/migrate.ts';

/** A throw-away database on the test server; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

let embedded: Promise<EmbeddedServer> | undefined;

/** The server tests run against: TEST_DATABASE_URL, or one embedded PostgreSQL per test process. */
export async function testServerAdminUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  embedded ??= startEmbeddedPostgres({
    dataDir: path.join(os.tmpdir(), `airq-test-pg-${process.pid}-${randomBytes(3).toString('hex')}`),
    persistent: false,
  });
  return (await embedded).adminUrl;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Creates an empty database (migrated unless `migrated: false`) for one suite. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = await testServerAdminUrl();
  const name = `airq_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  if (options.migrated ?? true) await migrate(url);
  return {
    url,
    name,
    async drop() {
      const client = new pg.Client(adminUrl);
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Stops the embedded server, if this process started one. */
export async function stopTestServer(): Promise<void> {
  if (!embedded) return;
  const server = await embedded;
  embedded = undefined;
  await server.stop();
}
