/**
 * The OpenAPI 3.1 document, generated from the contract's zod schemas (contract.ts) by zod-openapi: parameters,
 * bodies and problems are not written a second time here, only which route answers what.
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import {
  aggregatesPage,
  aggregatesQuery,
  index,
  live,
  noQuery,
  problem,
  readingsPage,
  readingsQuery,
  ready,
  stationDetail,
  stationList,
  stationPath,
} from './contract.ts';
import { DOCS_ASSETS } from './docs-assets.ts';
import { POLLUTANTS } from './domain.ts';
import { PROBLEM_KINDS, PROBLEM_TYPES, problemType } from './problem.ts';

type Headers = Record<string, { description: string; schema: { type: 'string' | 'integer' } }>;
const header = (description: string, type: 'string' | 'integer' = 'string') => ({ description, schema: { type } });

const commonHeaders: Headers = {
  'X-Instance-Id': header('Random id of the replica that answered, generated at its start-up.'),
  'X-Request-Id': header('The request id sent by the client (when well-formed) or a generated UUID.'),
};
const corsHeaders: Headers = {
  'Access-Control-Allow-Origin': header(
    "`*`, or the request's Origin when it is among CORS_ORIGINS; absent otherwise.",
  ),
  'Access-Control-Expose-Headers': header('Response headers a browser script may read.'),
};
const dataHeaders: Headers = {
  ...commonHeaders,
  ...corsHeaders,
  'Cache-Control': header(
    '`public, max-age=N, stale-while-revalidate=M` (from CACHE_MAX_AGE_SECONDS and CACHE_STALE_WHILE_REVALIDATE_SECONDS).',
  ),
  ETag: header('Derived from the dataset version and the normalised request (parameter order is irrelevant).'),
  'X-Dataset-Version': header(
    'Version of the dataset served: first 12 hex characters of its sha256. Caches ban by it.',
  ),
  Vary: header('`Accept` (and `Origin` when CORS_ORIGINS lists origins).'),
};
const noStoreHeaders: Headers = { ...commonHeaders, 'Cache-Control': header('`no-store`') };
const retryAfter: Headers = { 'Retry-After': header('Seconds to wait before retrying.', 'integer') };

/** One error response: its description lists the problem types answered with this status. */
function problemResponse(status: number, headers: Headers = {}): ZodOpenApiResponseObject {
  const kinds = PROBLEM_TYPES.filter((kind) => PROBLEM_KINDS[kind].status === status);
  return {
    id: `Error${status}`,
    description: kinds.map((kind) => `\`${kind}\`: ${PROBLEM_KINDS[kind].description}`).join(' '),
    headers: { ...commonHeaders, 'Cache-Control': header('`no-store`'), ...headers },
    content: { 'application/problem+json': { schema: problem } },
  };
}
const errors = {
  '400': problemResponse(400),
  '404': problemResponse(404),
  '405': problemResponse(405, { Allow: header('The methods this route accepts.') }),
  '406': problemResponse(406),
  '410': problemResponse(410),
  '431': problemResponse(431),
  '500': problemResponse(500),
  '503': problemResponse(503, retryAfter),
};
const pick = <K extends keyof typeof errors>(...codes: K[]) =>
  Object.fromEntries(codes.map((c) => [c, errors[c]])) as Pick<typeof errors, K>;
const notModified = { description: 'The copy named by `If-None-Match` is current.', headers: dataHeaders };
const ifNoneMatch = {
  name: 'If-None-Match',
  in: 'header' as const,
  description: 'ETag of a cached copy; answered 304 when current.',
  schema: { type: 'string' as const },
};
const requestId = {
  name: 'X-Request-Id',
  in: 'header' as const,
  description: 'Echoed back; generated when absent or malformed.',
  schema: { type: 'string' as const },
};
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

const operations: Record<string, Record<'get', ZodOpenApiOperationObject>> = {
  '/': {
    get: {
      operationId: 'index',
      summary: 'Links to the data, the stations, this reference and the health check.',
      tags: ['about'],
      requestParams: { query: noQuery },
      parameters: [requestId],
      responses: {
        '200': { description: 'The index.', headers: { ...commonHeaders, ...corsHeaders }, content: json(index) },
        ...pick('400', '405', '431', '406', '500'),
      },
    },
  },
  '/air_quality': {
    get: {
      operationId: 'listReadings',
      summary: 'Readings, newest or oldest first, with keyset pagination; also exported as CSV or NDJSON.',
      tags: ['data'],
      requestParams: { query: readingsQuery },
      parameters: [ifNoneMatch, requestId],
      responses: {
        '200': {
          description: 'A page of readings (JSON) or a stream of every matching reading (CSV, NDJSON).',
          headers: {
            ...dataHeaders,
            Link: header('`<next page>; rel="next"` when there is one (JSON only).'),
            'Content-Disposition': header('CSV only: `inline; filename="air_quality-<dataset version>.csv"`.'),
          },
          content: {
            'application/json': { schema: readingsPage },
            'text/csv': {
              schema: z.string().meta({
                description: `Header \`TimeInstant,id_entity,<pollutants>\` (of ${POLLUTANTS.join(', ')}), then one line per reading, ISO UTC times.`,
              }),
            },
            'application/x-ndjson': {
              schema: z.string().meta({ description: 'One `Reading` object (the `x-item-schema`) per line.' }),
              'x-item-schema': { $ref: '#/components/schemas/Reading' },
            },
          },
        },
        '304': notModified,
        ...pick('400', '404', '405', '431', '406', '410', '500', '503'),
      },
    },
  },
  '/air_quality/stations': {
    get: {
      operationId: 'listStations',
      summary: 'Every station with its first and last reading, reading count and latest values.',
      tags: ['data'],
      requestParams: { query: noQuery },
      parameters: [ifNoneMatch, requestId],
      responses: {
        '200': { description: 'The stations.', headers: dataHeaders, content: json(stationList) },
        '304': notModified,
        ...pick('400', '404', '405', '431', '406', '500', '503'),
      },
    },
  },
  '/air_quality/stations/{id}': {
    get: {
      operationId: 'getStation',
      summary: 'One station.',
      tags: ['data'],
      requestParams: { path: stationPath, query: noQuery },
      parameters: [ifNoneMatch, requestId],
      responses: {
        '200': { description: 'The station.', headers: dataHeaders, content: json(stationDetail) },
        '304': notModified,
        ...pick('400', '404', '405', '431', '406', '500', '503'),
      },
    },
  },
  '/air_quality/aggregates': {
    get: {
      operationId: 'listAggregates',
      summary: 'Average, minimum, maximum and count per time bucket and station.',
      tags: ['data'],
      requestParams: { query: aggregatesQuery },
      parameters: [ifNoneMatch, requestId],
      responses: {
        '200': {
          description: 'A page of buckets.',
          headers: { ...dataHeaders, Link: header('`<next page>; rel="next"` when there is one.') },
          content: json(aggregatesPage),
        },
        '304': notModified,
        ...pick('400', '404', '405', '431', '406', '410', '500', '503'),
      },
    },
  },
  '/health/live': {
    get: {
      operationId: 'live',
      summary: 'Liveness: the process answers.',
      tags: ['operations'],
      requestParams: { query: noQuery },
      parameters: [requestId],
      responses: {
        '200': { description: 'Alive.', headers: noStoreHeaders, content: json(live) },
        ...pick('400', '405', '431', '500'),
      },
    },
  },
  '/health/ready': {
    get: {
      operationId: 'ready',
      summary:
        'Readiness: database reachable and migrated (an active dataset is not required). 503 once shutdown starts.',
      tags: ['operations'],
      requestParams: { query: noQuery },
      parameters: [requestId],
      responses: {
        '200': { description: 'Ready.', headers: noStoreHeaders, content: json(ready) },
        ...pick('400', '405', '431', '500', '503'),
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics: request duration by route and status, pool gauges, process defaults.',
      tags: ['operations'],
      requestParams: { query: noQuery },
      parameters: [requestId],
      responses: {
        '200': {
          description: 'Prometheus text format.',
          headers: noStoreHeaders,
          content: { 'text/plain': { schema: z.string() } },
        },
        ...pick('400', '405', '431', '500'),
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This document.',
      tags: ['about'],
      requestParams: { query: noQuery },
      parameters: [requestId],
      responses: {
        '200': {
          description: 'OpenAPI 3.1 document.',
          headers: { ...commonHeaders, ...corsHeaders },
          content: json(
            z.looseObject({
              openapi: z.literal('3.1.0'),
              info: z.looseObject({}),
              paths: z.record(z.string(), z.unknown()),
            }),
          ),
        },
        ...pick('400', '405', '431', '500'),
      },
    },
  },
  '/docs': {
    get: {
      operationId: 'docs',
      summary: 'This reference, interactive (Swagger UI), its assets served by the API itself.',
      tags: ['about'],
      requestParams: { query: noQuery },
      parameters: [requestId],
      responses: {
        '200': {
          description: 'An HTML page.',
          headers: {
            ...commonHeaders,
            'Content-Security-Policy': header('Scripts, styles and requests from this origin only.'),
          },
          content: { 'text/html': { schema: z.string() } },
        },
        ...pick('400', '405', '431', '500'),
      },
    },
  },
  '/docs/assets/{file}': {
    get: {
      operationId: 'docsAsset',
      summary: 'A script, style sheet or icon of the reference page (from the swagger-ui-dist package).',
      tags: ['about'],
      requestParams: {
        path: z.object({ file: z.enum(Object.keys(DOCS_ASSETS) as [string, ...string[]]) }),
        query: noQuery,
      },
      parameters: [requestId],
      responses: {
        '200': {
          description: 'The file.',
          headers: commonHeaders,
          content: Object.fromEntries(
            [...new Set(Object.values(DOCS_ASSETS).map((asset) => asset.type))].map((type) => [
              type,
              { schema: z.string() },
            ]),
          ),
        },
        ...pick('400', '404', '405', '431', '500'),
      },
    },
  },
};

const problemTable = PROBLEM_TYPES.map(
  (kind) => `| \`${problemType(kind)}\` | ${PROBLEM_KINDS[kind].status} | ${PROBLEM_KINDS[kind].description} |`,
);

/** Every route the app serves, as [OpenAPI path, method]. */
export const ROUTES = Object.entries(operations).flatMap(([path, ops]) =>
  Object.keys(ops).map((method) => [path, method] as const),
);

/** OpenAPI 3.1 description of the whole API, served at /openapi.json. */
export function openApiDocument(version: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'airq air-quality API',
      version,
      description: [
        'Air-quality readings (so2, no2, co, o3, pm10, pm2_5) per station, from the active dataset.',
        '',
        'Errors are RFC 9457 problem documents (`application/problem+json`) whose `type` is one of:',
        '',
        '| type | status | meaning |',
        '| --- | --- | --- |',
        ...problemTable,
        '',
        'The data routes and this document answer cross-origin requests (CORS, GET and HEAD) from the origins in CORS_ORIGINS (default any, without credentials).',
      ].join('\n'),
    },
    tags: [
      { name: 'data', description: 'Readings, stations and aggregates of the active dataset.' },
      { name: 'operations', description: 'Health and metrics, for the platform.' },
      { name: 'about', description: 'This description and its reference page.' },
    ],
    paths: operations,
  });
}

/** The document is the same for the life of the process; built once, on first use. */
let built: { version: string; doc: ReturnType<typeof openApiDocument> } | undefined;
export function cachedOpenApiDocument(version: string): ReturnType<typeof openApiDocument> {
  if (built?.version !== version) built = { version, doc: openApiDocument(version) };
  return built.doc;
}
