/** Keyset pagination shared by the paged routes: the canonical filter a cursor is bound to, and the next link. */
import { decodeCursor, encodeCursor, queryDigest, type OpenedCursor } from './cursor.ts';
import { POLLUTANTS, type Position, type ReadingFilter } from './domain.ts';
import { canonicalQuery, checkRange } from './params.ts';

/** The parsed query fields every paged route shares. */
interface PagedQuery {
  station?: string[] | undefined;
  from?: ReadingFilter['from'];
  to?: ReadingFilter['to'];
  pollutants: ReadingFilter['pollutants'];
  order: ReadingFilter['order'];
  cursor?: string | undefined;
}

/** A paged query opened: its filter (time range checked), the canonical key and digest a cursor is bound to, and the
 * cursor it continues from. `extra` holds route-specific filter fields that belong in the key. */
export interface OpenedQuery {
  filter: ReadingFilter;
  key: string;
  digest: string;
  cursor: OpenedCursor | undefined;
}

export function openQuery(q: PagedQuery, cursorKey: string, extra: Record<string, string> = {}): OpenedQuery {
  const filter: ReadingFilter = {
    stations: q.station,
    from: q.from,
    to: q.to,
    pollutants: q.pollutants,
    order: q.order,
  };
  checkRange(filter);
  const key = filterKey(filter, extra);
  const digest = queryDigest(key);
  const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, digest, cursorKey);
  return { filter, key, digest, cursor };
}

/** The filter part of a query in canonical form: what a cursor is bound to. */
export function filterKey(filter: ReadingFilter, extra: Record<string, string> = {}): string {
  return canonicalQuery({
    station: filter.stations,
    from: filter.from?.iso,
    to: filter.to?.iso,
    // All pollutants is the default; leaving it out keeps next links short.
    pollutants: filter.pollutants.length === POLLUTANTS.length ? undefined : filter.pollutants,
    order: filter.order,
    ...extra,
  });
}

export function nextLink(
  path: string,
  key: string,
  limit: number,
  position: Position,
  digest: string,
  version: string,
  cursorKey: string,
): string {
  const params = new URLSearchParams(key);
  params.set('limit', String(limit));
  params.set('cursor', encodeCursor(position, digest, version, cursorKey));
  params.sort();
  return `${path}?${params.toString()}`;
}
