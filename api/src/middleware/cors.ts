import type { Middleware } from 'koa';
import type { Config } from '../config.ts';

/** The read-only public routes a browser page on another origin may call. */
export function isPublicPath(path: string): boolean {
  return path === '/' || path === '/openapi.json' || path === '/air_quality' || path.startsWith('/air_quality/');
}

const METHODS = ['GET', 'HEAD'];
const REQUEST_HEADERS = 'Accept, If-None-Match, X-Request-Id';
const EXPOSED_HEADERS = 'Content-Disposition, ETag, Link, Retry-After, X-Dataset-Version, X-Instance-Id, X-Request-Id';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * CORS for the public routes: GET and HEAD from the configured origins, never with credentials. Written here rather
 * than taken from @koa/cors because that package adds `Vary: Origin` to every response, which would make the cache in
 * front of the API store one copy per calling site even when every origin is allowed (`*`); here the answer varies by
 * Origin only when CORS_ORIGINS lists origins.
 */
export function cors(config: Pick<Config, 'corsOrigins'>): Middleware {
  const listed = config.corsOrigins === '*' ? null : new Set(config.corsOrigins);
  return async (ctx, next) => {
    if (!isPublicPath(ctx.path)) return next();
    const origin = ctx.get('Origin');
    let allowed: string | null = '*';
    if (listed) {
      ctx.vary('Origin');
      allowed = listed.has(origin) ? origin : null;
    }
    const requested = ctx.get('Access-Control-Request-Method');
    if (ctx.method === 'OPTIONS' && requested) {
      // A preflight the policy refuses goes on to the router, whose plain answer (no CORS headers) the browser refuses.
      if (!allowed || !METHODS.includes(requested.toUpperCase())) return next();
      ctx.set('Access-Control-Allow-Origin', allowed);
      ctx.set('Access-Control-Allow-Methods', METHODS.join(', '));
      ctx.set('Access-Control-Allow-Headers', REQUEST_HEADERS);
      ctx.set('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
      ctx.status = 204;
      return;
    }
    // With `*` every response carries the header, so a cached copy fetched without Origin serves browsers too.
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', allowed);
      ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    return next();
  };
}
