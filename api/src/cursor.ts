import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parseInstant, stationIdProblem, type Position } from './domain.ts';
import { Problem, badParameters } from './problem.ts';

/**
 * Keyset cursors: the last row's (timestamp, station) plus a digest of the query they belong to, base64url-encoded and
 * sealed with an HMAC under CURSOR_KEY (shared by the replicas through the chart's Secret, so any replica accepts any
 * replica's cursor). The seal detects edited or truncated cursors; the decoded values are validated again all the same,
 * so that even a cursor sealed with a leaked key is a 400, never a database error.
 */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/;

export function queryDigest(canonical: string): string {
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function seal(payload: string, key: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url').slice(0, 22);
}

/** An opened cursor: where the walk stands, and in which dataset version (a walk never crosses datasets). */
export interface OpenedCursor {
  position: Position;
  version: string;
}

export function encodeCursor(position: Position, digest: string, version: string, key: string): string {
  const payload = Buffer.from(JSON.stringify([position.at, position.station, digest, version])).toString('base64url');
  return `${payload}.${seal(payload, key)}`;
}

/** PostgreSQL's UTC text form, and a real instant (no 2016-13-45 99:99:99). */
function validTimestamp(text: string): boolean {
  return PG_TIMESTAMP.test(text) && parseInstant(`${text.slice(0, -3)}Z`) !== null;
}

/** Opens a cursor made by encodeCursor for the same query; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string, digest: string, key: string): OpenedCursor {
  const fail = (detail: string) => badParameters([{ param: 'cursor', detail }]);
  const [payload, mac, extra] = cursor.split('.');
  if (!payload || !mac || extra !== undefined || cursor.length > 1000) {
    throw fail('is not a cursor issued by this API; use the next link of the previous page');
  }
  const expected = Buffer.from(seal(payload, key));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw fail('has been altered or truncated; use the next link of the previous page unchanged');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw fail('is not a cursor issued by this API; use the next link of the previous page');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    typeof parsed[0] !== 'string' ||
    !validTimestamp(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    stationIdProblem(parsed[1]) !== null ||
    typeof parsed[2] !== 'string' ||
    typeof parsed[3] !== 'string' ||
    !/^[0-9a-f]{12}$/.test(parsed[3])
  ) {
    throw fail('is not a cursor issued by this API; use the next link of the previous page');
  }
  if (parsed[2] !== digest) {
    throw fail('belongs to a different query (filters, order or interval changed); start again without a cursor');
  }
  return { position: { at: parsed[0], station: parsed[1] }, version: parsed[3] };
}

/** A cursor walks one dataset: once a seed has replaced it, the next pages would silently come from another. */
export function checkCursorDataset(cursor: OpenedCursor | undefined, servedVersion: string): void {
  if (cursor && cursor.version !== servedVersion) {
    throw new Problem(
      'cursor-expired',
      `the data changed since this cursor was issued: dataset ${cursor.version} was replaced by ${servedVersion}; ` +
        'start the walk again from the first page (the same query without cursor)',
    );
  }
}
