import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Config } from './config.ts';

/**
 * Headers of every data response: shared caches may keep it for max-age and serve it stale while revalidating; the
 * dataset version lets the cache ban everything from an older dataset; the ETag changes with the dataset and with the
 * normalised request (so parameter order is irrelevant). Returns true when the client's copy is current (answered 304).
 */
export function cacheable(
  ctx: Context,
  config: Pick<Config, 'cacheMaxAgeSeconds' | 'cacheStaleWhileRevalidateSeconds'>,
  version: string,
  normalisedRequest: string,
): boolean {
  const tag = `"${version}-${createHash('sha256').update(normalisedRequest).digest('base64url').slice(0, 20)}"`;
  ctx.set(
    'Cache-Control',
    `public, max-age=${config.cacheMaxAgeSeconds}, stale-while-revalidate=${config.cacheStaleWhileRevalidateSeconds}`,
  );
  ctx.set('ETag', tag);
  ctx.set('X-Dataset-Version', version);
  ctx.vary('Accept');
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch && matches(ifNoneMatch, tag)) {
    ctx.status = 304;
    return true;
  }
  return false;
}

function matches(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}

export function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
}
