import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { one, renderChart } from './support/chart.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

// Node 20 here cannot strip types as the image's Node 24 does; tsx stands in for it, nothing else changes.
const TSX = createRequire(import.meta.url).resolve('tsx');

describe("the API pods' migrate init container", function () {
  let database: TestDatabase | undefined;
  after(async function () {
    await database?.drop();
  });

  it('migrates once when all five production replicas start at the same time', async function () {
    const objects = await renderChart({ environment: 'production' });
    const deployment = one(objects, 'Deployment', 'airq-api');
    const replicas = deployment.spec.replicas as number;
    expect(replicas).to.equal(5);
    const init = deployment.spec.template.spec.initContainers[0];
    const [node, ...args] = init.command as string[];
    expect(node).to.equal('node');
    expect(init.workingDir).to.equal('/app');

    database = await createTestDatabase({ migrated: false });
    // REPO_ROOT stands for the image's /app (the Dockerfile keeps the repository layout there).
    const runs = await Promise.all(
      Array.from({ length: replicas }, () =>
        promisify(execFile)(process.execPath, ['--import', TSX, ...args], {
          cwd: REPO_ROOT,
          env: { ...process.env, DATABASE_URL: database!.url },
          timeout: 60_000,
        }),
      ),
    );
    const lines = runs.map((r) => r.stdout.trim());
    expect(
      lines.filter((l) => l.startsWith('applied ')),
      lines.join('\n'),
    ).to.have.length(1);
    expect(
      lines.filter((l) => l.startsWith('schema is up to date')),
      lines.join('\n'),
    ).to.have.length(replicas - 1);

    const client = new pg.Client(database.url);
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      expect(rows.length).to.be.greaterThan(0);
      for (const row of rows) expect(Number(row.n), `migration ${row.version}`).to.equal(1);
      expect((await client.query("SELECT to_regclass('datasets') IS NOT NULL AS ok")).rows[0].ok).to.equal(true);
    } finally {
      await client.end();
    }
  });
});
