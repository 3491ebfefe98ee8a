import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { badParameters } from './problem.ts';

/**
 * Keyset cursors: the last row's (timestamp, station) plus a digest of the query they belong to, base64url-encoded and
 * sealed with an HMAC. The key is fixed, so any replica accepts any replica's cursor; the seal detects edited or
 * truncated cursors (answered with 400), while the position itself is harmless data bound as a SQL parameter.
 */
const KEY = 'airq-keyset-cursor-v1';
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/;

export interface Position {
  at: string;
  station: string;
}

export function queryDigest(canonical: string): string {
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function seal(payload: string): string {
  return createHmac('sha256', KEY).update(payload).digest('base64url').slice(0, 22);
}

export function encodeCursor(position: Position, digest: string): string {
  const payload = Buffer.from(JSON.stringify([position.at, position.station, digest])).toString('base64url');
  return `${payload}.${seal(payload)}`;
}

/** Opens a cursor made by encodeCursor for the same query; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string, digest: string): Position {
  const fail = (detail: string) => badParameters([{ param: 'cursor', detail }]);
  const [payload, mac, extra] = cursor.split('.');
  if (!payload || !mac || extra !== undefined || cursor.length > 1000) {
    throw fail('is not a cursor issued by this API; use the next link of the previous page');
  }
  const expected = Buffer.from(seal(payload));
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
    parsed.length !== 3 ||
    typeof parsed[0] !== 'string' ||
    !PG_TIMESTAMP.test(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    typeof parsed[2] !== 'string'
  ) {
    throw fail('is not a cursor issued by this API; use the next link of the previous page');
  }
  if (parsed[2] !== digest) {
    throw fail('belongs to a different query (filters, order or interval changed); start again without a cursor');
  }
  return { at: parsed[0], station: parsed[1] };
}
