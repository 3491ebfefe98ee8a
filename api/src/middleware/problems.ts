import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { Problem, problemType } from '../problem.ts';

/**
 * SQLSTATE classes that mean the database cannot do the work now, not that the request is wrong: 08 connection
 * exception, 53 insufficient resources (too many connections, disk full, out of memory), 57P operator intervention
 * (admin or crash shutdown, cannot connect now, database dropped).
 */
const PG_UNAVAILABLE_CLASSES = ['08', '53', '57P'];
/** query_canceled: what statement_timeout raises. */
const PG_QUERY_CANCELED = '57014';
/**
 * Socket and name-resolution failures on the way to the database. ENOTFOUND/EAI_AGAIN: in Kubernetes a database name
 * can stop resolving while its pod restarts (a headless Service has no address then); that is an outage, not a bug.
 */
const NETWORK_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Which kind of database failure an error is, if any: a timed-out statement, or the database unable to work now. */
export function databaseFailure(error: {
  code?: unknown;
  message?: unknown;
}): 'query-timeout' | 'database-unavailable' | null {
  const code = typeof error.code === 'string' ? error.code : '';
  if (code === PG_QUERY_CANCELED) return 'query-timeout';
  if (/^[0-9A-Z]{5}$/.test(code) && PG_UNAVAILABLE_CLASSES.some((prefix) => code.startsWith(prefix)))
    return 'database-unavailable';
  if (NETWORK_UNAVAILABLE.has(code)) return 'database-unavailable';
  const message = typeof error.message === 'string' ? error.message : '';
  if (/timeout exceeded when trying to connect|Connection terminated|Query read timeout/.test(message))
    return 'database-unavailable';
  return null;
}

/** Maps anything thrown below to a Problem; only 500s are logged with their internals, never sent. */
function toProblem(error: unknown, log: Logger, requestId: string): Problem {
  if (error instanceof Problem) return error;
  const e = (error ?? {}) as { status?: number; expose?: boolean; message?: string; code?: string };
  const failure = databaseFailure(e);
  if (failure === 'query-timeout') {
    return new Problem(
      'query-timeout',
      'the query took longer than the configured statement timeout; narrow the filters or retry',
    );
  }
  if (failure === 'database-unavailable') {
    log.warn({ requestId, err: error }, 'database unavailable');
    return new Problem('database-unavailable', 'the database is unavailable; retry shortly');
  }
  // Koa / http-errors client errors (e.g. a malformed header) carry their own 4xx status and safe message.
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new Problem('bad-request', e.message ?? 'bad request', { status: e.status });
  }
  log.error({ requestId, err: error }, 'unhandled error');
  return new Problem('internal-error', `an internal error occurred; quote request id ${requestId} when reporting it`);
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
        problem = new Problem(
          'not-found',
          `no resource at ${ctx.path.slice(0, 200)}; see /openapi.json for the routes`,
        );
      } else if (ctx.body == null && (ctx.status === 405 || ctx.status === 501)) {
        // The router answers 501 for a method it has never heard of (TRACE, PROPFIND); to a client that is the same
        // refusal as 405, and a 5xx would count against the error-rate alert.
        const allow = ctx.response.get('Allow');
        problem = allow
          ? new Problem('method-not-allowed', `${ctx.method} is not supported here; use ${allow}`, {
              headers: { Allow: allow },
            })
          : new Problem('not-found', `no resource at ${ctx.path.slice(0, 200)}; see /openapi.json for the routes`);
      }
    } catch (error) {
      problem = toProblem(error, log, String(ctx.state.requestId));
    }
    if (!problem) return;
    for (const header of ['Cache-Control', 'ETag', 'X-Dataset-Version', 'Content-Disposition', 'Link'])
      ctx.remove(header);
    ctx.set('Cache-Control', 'no-store');
    for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
    ctx.status = problem.status;
    ctx.type = 'application/problem+json';
    ctx.body = JSON.stringify({
      type: problemType(problem.kind),
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: ctx.path.slice(0, 200),
      requestId: ctx.state.requestId,
      ...(problem.errors ? { errors: problem.errors } : {}),
    });
  };
}
