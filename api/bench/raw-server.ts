/**
 * The baseline for `npm run bench:api`: a bare node:http handler on a pg pool running the same two statements as
 * GET /air_quality?limit=N (active dataset, then the page) and writing the same JSON body, with no framework,
 * validation, content negotiation, cursor, caching headers, metrics or logging — what the app's overhead is measured against.
 */
import http from 'node:http';
import { defaultConfig } from '../src/config.ts';
import { createPool } from '../src/db.ts';
import { POLLUTANTS } from '../src/domain.ts';
import { readingsPage } from '../src/shape.ts';
import { readingsSql, type ReadingRow } from '../src/sql/measurements.ts';

const config = defaultConfig();
const db = createPool(config, process.env.DATABASE_URL!);
const server = http.createServer(async (req, res) => {
  try {
    const limit = Number(new URL(req.url ?? '/', 'http://raw').searchParams.get('limit') ?? 100);
    const { rows } = await db.query<{ id: string; version: string }>(
      "SELECT id::text AS id, left(sha256, 12) AS version FROM datasets WHERE status = 'active'",
    );
    const { text, values } = readingsSql(
      rows[0]!.id,
      { stations: undefined, from: undefined, to: undefined, pollutants: [...POLLUTANTS], order: 'desc' },
      undefined,
      limit + 1,
    );
    const page = await db.query<ReadingRow>(text, values);
    const body = readingsPage({
      version: rows[0]!.version,
      order: 'desc',
      rows: page.rows.slice(0, limit),
      pollutants: POLLUTANTS,
      next: null,
    });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  } catch (error) {
    res.writeHead(500);
    res.end(String(error));
  }
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => {
  server.close();
  void db.end();
});
