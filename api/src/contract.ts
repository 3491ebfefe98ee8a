/**
 * The API's contract, written once: every query parameter, response body and problem as a zod schema. Query parsing
 * (params.ts), the TypeScript types of the bodies (shape.ts builds them) and the OpenAPI document (openapi.ts) are all
 * derived from these schemas.
 */
import { z } from 'zod';
import 'zod-openapi';
import {
  INTERVALS,
  ISO_INSTANT,
  MAX_STATION_LENGTH,
  ORDERS,
  POLLUTANTS,
  UNITS,
  parseInstant,
  stationIdProblem,
} from './domain.ts';
import { PROBLEM_TYPES, printable, problemType } from './problem.ts';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
export const MAX_STATIONS = 100;
/** What GET /air_quality can answer: a JSON page, or every matching reading as CSV or NDJSON. */
export const READING_TYPES = ['application/json', 'text/csv', 'application/x-ndjson'] as const;

const quoted = (input: unknown) => JSON.stringify(printable(String(input)));

// ---- Query parameters. Each schema parses the value(s) of one parameter; list parameters (arrays) receive every
// value given, split at commas, so `station=a&station=b` and `station=a,b` are the same query.

const stationIdError = (issue: { input?: unknown }) =>
  `${quoted(issue.input)}: ${stationIdProblem(String(issue.input)) ?? 'not a station id'}`;
const stationId = z
  .string()
  .min(1, { error: stationIdError })
  .max(MAX_STATION_LENGTH, { error: stationIdError })
  .refine((id) => stationIdProblem(id) === null, { error: stationIdError });

const stationParam = z
  .array(stationId)
  .transform((ids) => [...new Set(ids)].sort())
  .pipe(
    z.array(z.string()).max(MAX_STATIONS, {
      error: (issue) => `${(issue.input as unknown[]).length} stations given; at most ${MAX_STATIONS} per request`,
    }),
  )
  .optional()
  .meta({
    description: `Station ids (at most ${MAX_STATIONS} distinct); repeat the parameter or separate ids with commas.`,
    examples: [['aq_salvia']],
  });

const instantError = (issue: { input?: unknown }) =>
  `${quoted(issue.input)} is not an ISO 8601 date or date-time (e.g. 2016-10-01 or 2016-10-01T00:15:00Z)`;
const instant = (description: string) =>
  z
    .string()
    .regex(ISO_INSTANT, { error: instantError })
    .transform((text, ctx) => {
      const parsed = parseInstant(text);
      if (parsed) return parsed;
      ctx.issues.push({ code: 'custom', input: text, message: instantError({ input: text }) });
      return z.NEVER;
    })
    .optional()
    .meta({ description, examples: ['2016-10-01', '2016-10-01T00:15:00Z', '2016-10-01T02:15:00+02:00'] });

const pollutants = z
  .array(z.enum(POLLUTANTS, { error: (issue) => `${quoted(issue.input)} not among ${POLLUTANTS.join(', ')}` }))
  .transform((wanted) => POLLUTANTS.filter((p) => wanted.includes(p)))
  .default([...POLLUTANTS])
  .meta({ description: 'Pollutants to return (default all); repeat the parameter or separate them with commas.' });

const order = z
  .enum(ORDERS, { error: (issue) => `${quoted(issue.input)} is not asc or desc` })
  .default('desc')
  .meta({ description: 'Newest first (`desc`) or oldest first (`asc`).' });

const limitError = (issue: { input?: unknown }) => `${quoted(issue.input)} is not an integer from 1 to ${MAX_LIMIT}`;
const limit = (description: string) =>
  z
    .string()
    .regex(/^\d{1,7}$/, { error: limitError })
    .transform(Number)
    .pipe(z.int().min(1, { error: limitError }).max(MAX_LIMIT, { error: limitError }))
    .optional()
    .meta({
      description,
      // On the wire a query value is text; what it must hold is an integer.
      override: ({ jsonSchema }) => {
        delete jsonSchema.pattern;
        Object.assign(jsonSchema, { type: 'integer', minimum: 1, maximum: MAX_LIMIT });
      },
    });

const cursor = z
  .string()
  .optional()
  .meta({ description: "Opaque position from the previous page's `next` link; bound to the same filters and order." });

const interval = z
  .enum(INTERVALS, {
    error: (issue) =>
      issue.input === undefined ? 'required: hour or day' : `${quoted(issue.input)} is not hour or day`,
  })
  .meta({ description: 'Bucket size.' });

const filters = {
  station: stationParam,
  from: instant('Inclusive lower bound: an ISO 8601 date or date-time; no zone means UTC. Must be before `to`.'),
  to: instant('Exclusive upper bound: an ISO 8601 date or date-time; no zone means UTC.'),
  pollutants,
  order,
};

export const readingsQuery = z.object({
  ...filters,
  limit: limit(
    `Readings per page (default ${DEFAULT_LIMIT}). For CSV and NDJSON exports, omit it to stream every matching row.`,
  ),
  cursor,
});
export const aggregatesQuery = z.object({
  interval,
  ...filters,
  limit: limit(`Buckets per page (default ${DEFAULT_LIMIT}).`),
  cursor,
});
/** Routes that take no query parameters still refuse unknown ones. */
export const noQuery = z.object({});

export const stationPath = z.object({
  id: z
    .string()
    .min(1)
    .max(MAX_STATION_LENGTH)
    .meta({ description: 'Station id.', examples: ['aq_salvia'] }),
});

// ---- Response bodies.

const time = z.iso.datetime().meta({ description: 'UTC, millisecond precision or finer.' });
const dataset = z
  .object({
    version: z
      .string()
      .regex(/^[0-9a-f]{12}$/)
      .meta({ description: 'First 12 hex characters of the dataset sha256.' }),
  })
  .meta({ id: 'DatasetRef' });
const unit = z
  .enum([...new Set(Object.values(UNITS))] as [string, ...string[]])
  .meta({ description: 'co in mg/m³, the others in µg/m³.' });
const next = z.string().nullable().meta({ description: 'Relative URL of the next page, null on the last.' });

export const measurement = z
  .object({ parameter: z.enum(POLLUTANTS), value: z.number().nullable(), unit })
  .meta({ id: 'Measurement' });

export const reading = z
  .object({ station: z.string(), measuredAt: time, measurements: z.array(measurement) })
  .meta({ id: 'Reading' });

export const readingsPage = z
  .object({ dataset, order: z.enum(ORDERS), count: z.int().min(0), data: z.array(reading), next })
  .meta({ id: 'ReadingsPage' });

const stationFields = {
  id: z.string(),
  firstMeasuredAt: time.nullable(),
  lastMeasuredAt: time.nullable(),
  readings: z.int().min(0),
  latest: z
    .object({ measuredAt: time, measurements: z.array(measurement) })
    .nullable()
    .meta({ description: 'The newest reading, null for a station without readings.' }),
};
export const station = z.object(stationFields).meta({ id: 'Station' });
export const stationList = z
  .object({ dataset, count: z.int().min(0), data: z.array(station) })
  .meta({ id: 'StationList' });
export const stationDetail = z.object({ dataset, ...stationFields }).meta({ id: 'StationDetail' });

const statistic = z.number().nullable();
export const aggregate = z
  .object({
    bucket: time.meta({ description: 'Start of the hour or day (UTC).' }),
    station: z.string(),
    readings: z.int().min(0),
    measurements: z.array(
      z.object({
        parameter: z.enum(POLLUTANTS),
        unit,
        avg: statistic,
        min: statistic,
        max: statistic,
        count: z.int().min(0).meta({ description: 'Readings with a value for this pollutant.' }),
      }),
    ),
  })
  .meta({ id: 'Aggregate' });
export const aggregatesPage = z
  .object({
    dataset,
    interval: z.enum(INTERVALS),
    order: z.enum(ORDERS),
    count: z.int().min(0),
    data: z.array(aggregate),
    next,
  })
  .meta({ id: 'AggregatesPage' });

const identity = {
  version: z.string().meta({ description: 'APP_VERSION.' }),
  instance: z.string().meta({ description: 'Replica id.' }),
};
export const live = z.object({ status: z.literal('live'), ...identity }).meta({ id: 'Live' });
export const ready = z
  .object({
    status: z.literal('ready'),
    ...identity,
    dataset: z.string().nullable().meta({ description: 'Active dataset version, null before the first seed.' }),
  })
  .meta({ id: 'Ready' });

export const INDEX_LINKS = {
  data: '/air_quality',
  aggregates: '/air_quality/aggregates',
  stations: '/air_quality/stations',
  docs: '/docs',
  openapi: '/openapi.json',
  health: '/health/ready',
} as const;
export const index = z
  .object({
    name: z.string(),
    version: z.string(),
    links: z.object(
      Object.fromEntries(Object.entries(INDEX_LINKS).map(([rel, href]) => [rel, z.literal(href)])) as {
        [K in keyof typeof INDEX_LINKS]: z.ZodLiteral<(typeof INDEX_LINKS)[K]>;
      },
    ),
  })
  .meta({ id: 'Index' });

export const paramError = z.object({ param: z.string(), detail: z.string() }).meta({ id: 'ParamError' });
export const problem = z
  .object({
    type: z
      .enum(PROBLEM_TYPES.map(problemType) as [string, ...string[]])
      .meta({ description: 'The kind of problem; see the list in the API description.' }),
    title: z.string().meta({ description: 'The HTTP status phrase.' }),
    status: z.int().min(400).max(599),
    detail: z.string().meta({ description: 'What went wrong with this request and how to fix it.' }),
    instance: z
      .string()
      .optional()
      .meta({ description: 'The request path; absent when the request could not be parsed.' }),
    requestId: z
      .string()
      .optional()
      .meta({ description: 'X-Request-Id of the request; absent when the request could not be parsed.' }),
    errors: z.array(paramError).optional().meta({ description: 'invalid-query only: each bad parameter and why.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

export type ReadingsQuery = z.output<typeof readingsQuery>;
export type AggregatesQuery = z.output<typeof aggregatesQuery>;
export type Reading = z.infer<typeof reading>;
export type Measurement = z.infer<typeof measurement>;
export type ReadingsPage = z.infer<typeof readingsPage>;
export type Station = z.infer<typeof station>;
export type StationList = z.infer<typeof stationList>;
export type StationDetail = z.infer<typeof stationDetail>;
export type AggregatesPage = z.infer<typeof aggregatesPage>;
export type Live = z.infer<typeof live>;
export type Ready = z.infer<typeof ready>;
export type Index = z.infer<typeof index>;
export type ProblemBody = z.infer<typeof problem>;
