import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { Problem } from '../problem.ts';

const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006']);
/**
 * Socket and name-resolution failures on the way to the database. ENOTFOUND/EAI_AGAIN: in Kubernetes a database name
 * can stop resolving while its pod restarts (a headless Service has no address then); that is an outage, not a bug.
 */
const NETWORK_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Maps anything thrown below to a Problem; only 500s are logged with their internals, never sent. */
function toProblem(error: unknown, log: Logger, requestId: string): Problem {
  if (error instanceof Problem) return error;
  const e = error as { status?: number; expose?: boolean; message?: string; code?: string };
  if (e.code === '57014') {
    return new Problem(503, 'the query took longer than the configured statement timeout; narrow the filters or retry', {
      headers: { 'Retry-After': '5' },
    });
  }
  if (
    (e.code && PG_UNAVAILABLE.has(e.code)) ||
    (e.code && NETWORK_UNAVAILABLE.has(e.code)) ||
    /timeout exceeded when trying to connect|Connection terminated|Query read timeout/.test(e.message ?? '')
  ) {
    log.warn({ requestId, err: error }, 'database unavailable');
    return new Problem(503, 'the database is unavailable; retry shortly', { headers: { 'Retry-After': '5' } });
  }
  // Koa / http-errors client errors (e.g. a malformed header) carry their own 4xx status and safe message.
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new Problem(e.status, e.message ?? 'bad request');
  }
  log.error({ requestId, err: error }, 'unhandled error');
  return new Problem(500, `an internal error occurred; quote request id ${requestId} when reporting it`);
}

/**
 * The one place error bodies are made: RFC 9457 application/problem+json, for thrown problems and for the router's
 * unmatched paths (404) and methods (405 with Allow).
 */
export function problems(log: Logger): Middleware {
  return async (ctx, next) => {
    let problem: Problem | undefined;
    try {
      await next();
      if (ctx.body == null && ctx.status === 404) {
        problem = new Problem(404, `no resource at ${ctx.path.slice(0, 200)}; see /openapi.json for the routes`);
      } else if (ctx.body == null && (ctx.status === 405 || ctx.status === 501)) {
        // The router answers 501 for a method it has never heard of (TRACE, PROPFIND); to a client that is the same
        // refusal as 405, and a 5xx would count against the error-rate alert.
        const allow = ctx.response.get('Allow');
        problem = allow
          ? new Problem(405, `${ctx.method} is not supported here; use ${allow}`, { headers: { Allow: allow } })
          : new Problem(404, `no resource at ${ctx.path.slice(0, 200)}; see /openapi.json for the routes`);
      }
    } catch (error) {
      problem = toProblem(error, log, String(ctx.state.requestId));
    }
    if (!problem) return;
    for (const header of ['Cache-Control', 'ETag', 'X-Dataset-Version', 'Content-Disposition', 'Link']) ctx.remove(header);
    ctx.set('Cache-Control', 'no-store');
    for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
    ctx.status = problem.status;
    ctx.type = 'application/problem+json';
    ctx.body = JSON.stringify({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: ctx.path.slice(0, 200),
      requestId: ctx.state.requestId,
      ...(problem.errors ? { errors: problem.errors } : {}),
    });
  };
}
