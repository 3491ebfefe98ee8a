import { STATUS_CODES } from 'node:http';

/** Where the problem types live: absolute and stable, whichever environment or host answered. */
export const PROBLEM_BASE = 'https://airq.example.com/problems/';

/**
 * Every kind of error the API answers, one RFC 9457 problem type each: its status and what it means to a client. The
 * OpenAPI document and docs/api.md list these; a client may switch on `type`.
 */
export const PROBLEM_KINDS = {
  'invalid-query': {
    status: 400,
    description: 'A query parameter is unknown, repeated or invalid; `errors` names each one and why.',
  },
  'bad-request': {
    status: 400,
    description:
      'The request is not valid HTTP (answered before routing, so without `instance` and `requestId`), or Koa refused it with another 4xx.',
  },
  'not-found': { status: 404, description: 'No route at this path; /openapi.json lists them.' },
  'unknown-station': {
    status: 404,
    description: 'No station with this id in the active dataset; /air_quality/stations lists them.',
  },
  'method-not-allowed': {
    status: 405,
    description: 'The route exists but not for this method; `Allow` lists the methods it accepts.',
  },
  'not-acceptable': {
    status: 406,
    description: 'None of the media types in `Accept` is produced here; `detail` lists those that are.',
  },
  'cursor-expired': {
    status: 410,
    description: 'The `cursor` walks a dataset a seed has replaced since; start again without `cursor`.',
  },
  'headers-too-large': {
    status: 431,
    description:
      'The request line and headers exceed 64 KiB (answered before routing, so without `instance` and `requestId`); shorten the query.',
  },
  'internal-error': {
    status: 500,
    description: 'An unexpected failure; the body carries only the request id, the details are logged.',
  },
  'no-dataset': {
    status: 503,
    description: 'No dataset has been loaded yet (`npm run db:seed`); retry after `Retry-After` seconds.',
  },
  'database-unavailable': {
    status: 503,
    description:
      'The database cannot be reached or refuses work (SQLSTATE class 08 connection, 53 insufficient resources, 57P operator intervention, or a network failure); retry after `Retry-After` seconds.',
  },
  'query-timeout': {
    status: 503,
    description: 'The query ran past the statement timeout; narrow the filters or retry.',
  },
  'schema-outdated': {
    status: 503,
    description: 'Readiness only: the database schema is older than this build needs; run the migrations.',
  },
  'shutting-down': { status: 503, description: 'Readiness only: this instance is draining before it stops.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;
export const PROBLEM_TYPES = Object.keys(PROBLEM_KINDS) as ProblemKind[];

/** The `type` URI of a kind of problem. */
export function problemType(kind: ProblemKind): string {
  return PROBLEM_BASE + kind;
}

/** One bad query parameter and why, as listed in a 400 problem's `errors`. */
export interface ParamError {
  param: string;
  detail: string;
}

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER = '5';

/**
 * An RFC 9457 problem. Handlers throw these; the problem middleware alone renders them, so no handler builds its own
 * error body.
 */
export class Problem extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: ParamError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    kind: ProblemKind,
    detail: string,
    options: {
      errors?: ParamError[];
      headers?: Record<string, string>;
      cause?: unknown;
      /** bad-request only: Koa's own 4xx. */ status?: number;
    } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'Problem';
    this.kind = kind;
    this.status = options.status ?? PROBLEM_KINDS[kind].status;
    this.title = STATUS_CODES[this.status] ?? 'Error';
    this.detail = detail;
    this.errors = options.errors;
    this.headers = { ...(this.status === 503 ? { 'Retry-After': RETRY_AFTER } : {}), ...options.headers };
  }
}

/** Problems listed in one 400: enough to fix a query, too few for a long query to amplify into a large body. */
export const MAX_LISTED_ERRORS = 10;

/** Parameter names and values echoed in errors are cut short and stripped of control characters. */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}

export function badParameters(all: ParamError[]): Problem {
  const errors = all.slice(0, MAX_LISTED_ERRORS);
  if (all.length > MAX_LISTED_ERRORS) {
    errors.push({
      param: '(more)',
      detail: `${all.length - MAX_LISTED_ERRORS} more problems not listed; fix the ones above first`,
    });
  }
  const detail = errors.map((e) => `${e.param}: ${e.detail}`).join('; ');
  return new Problem('invalid-query', `invalid query: ${detail}`, { errors });
}

export function notAcceptable(offered: readonly string[]): Problem {
  return new Problem(
    'not-acceptable',
    `none of the types in the Accept header is available here; ask for one of: ${offered.join(', ')}`,
  );
}
