import type { Context } from 'koa';
import { notAcceptable } from './problem.ts';

/** Routes that answer JSON only refuse an Accept header that excludes it. */
export function acceptJson(ctx: Context): void {
  if (!ctx.accepts('application/json')) throw notAcceptable(['application/json']);
}
