import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Lifecycle } from '../lifecycle.ts';
import type { Metrics } from '../metrics.ts';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Outermost middleware: names the replica and the request on every response (even errors), records the duration
 * histogram and one access log line.
 */
export function requestContext(deps: {
  instanceId: string;
  log: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  clock: () => number;
}): Middleware {
  return async (ctx, next) => {
    const started = deps.clock();
    const given = ctx.get('X-Request-Id');
    // An id from a client or the cache is echoed only when it cannot smuggle anything into headers or logs.
    const requestId = SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Instance-Id', deps.instanceId);
    ctx.set('X-Request-Id', requestId);
    // While draining, each response closes its connection so clients reconnect to a replica that stays.
    if (deps.lifecycle.shuttingDown) ctx.set('Connection', 'close');
    try {
      await next();
    } finally {
      const seconds = (deps.clock() - started) / 1000;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      deps.metrics.requestDuration.observe(
        { method: ctx.method, route: String(route), status: String(ctx.status) },
        seconds,
      );
      deps.log.info(
        {
          requestId,
          method: ctx.method,
          url: ctx.originalUrl.slice(0, 2048),
          status: ctx.status,
          ms: Math.round(seconds * 1000),
        },
        'request',
      );
    }
  };
}
