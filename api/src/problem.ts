import { STATUS_CODES } from 'node:http';

/** One bad query parameter and why, as listed in a 400 problem's `errors`. */
export interface ParamError {
  param: string;
  detail: string;
}

/**
 * An RFC 9457 problem. Handlers throw these; the problem middleware alone renders them, so no handler builds its own
 * error body.
 */
export class Problem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: ParamError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    detail: string,
    options: { errors?: ParamError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'Problem';
    this.status = status;
    this.title = STATUS_CODES[status] ?? 'Error';
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** Problems listed in one 400: enough to fix a query, too few for a long query to amplify into a large body. */
export const MAX_LISTED_ERRORS = 10;

export function badParameters(all: ParamError[]): Problem {
  const errors = all.slice(0, MAX_LISTED_ERRORS);
  if (all.length > MAX_LISTED_ERRORS) {
    errors.push({ param: '(more)', detail: `${all.length - MAX_LISTED_ERRORS} more problems not listed; fix the ones above first` });
  }
  const detail = errors.map((e) => `${e.param}: ${e.detail}`).join('; ');
  return new Problem(400, `invalid query: ${detail}`, { errors });
}

export function notFound(detail: string): Problem {
  return new Problem(404, detail);
}

export function notAcceptable(offered: readonly string[]): Problem {
  return new Problem(406, `none of the types in the Accept header is available here; ask for one of: ${offered.join(', ')}`);
}

export function unavailable(detail: string): Problem {
  return new Problem(503, detail, { headers: { 'Retry-After': '5' } });
}
