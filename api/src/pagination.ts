/** Keyset pagination shared by the paged routes: the canonical filter a cursor is bound to, and the next link. */
import { encodeCursor } from './cursor.ts';
import { POLLUTANTS, type Position, type ReadingFilter } from './domain.ts';
import { canonicalQuery } from './params.ts';

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
