import { MAX_LIMIT, DEFAULT_LIMIT, POLLUTANTS } from './params.ts';

/** Every route the app serves, as [OpenAPI path, method]; the OpenAPI test checks each one is described. */
export const ROUTES = [
  ['/air_quality', 'get'],
  ['/air_quality/stations', 'get'],
  ['/air_quality/stations/{id}', 'get'],
  ['/air_quality/aggregates', 'get'],
  ['/health/live', 'get'],
  ['/health/ready', 'get'],
  ['/metrics', 'get'],
  ['/openapi.json', 'get'],
] as const;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = (description: string, headers: Record<string, unknown> = {}) => ({
  description,
  headers: { ...commonHeaders, ...headers },
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema });

const commonHeaders = {
  'X-Instance-Id': header('Random id of the replica that answered, generated at its start-up.'),
  'X-Request-Id': header('The request id sent by the client (when well-formed) or a generated UUID.'),
};
const dataHeaders = {
  ...commonHeaders,
  'Cache-Control': header('`public, max-age=N, stale-while-revalidate=M` (from CACHE_MAX_AGE_SECONDS and CACHE_STALE_WHILE_REVALIDATE_SECONDS).'),
  ETag: header('Derived from the dataset version and the normalised request (parameter order is irrelevant).'),
  'X-Dataset-Version': header('Version of the dataset served: first 12 hex characters of its sha256. Caches ban by it.'),
  Vary: header('`Accept`'),
};
const noStoreHeaders = { ...commonHeaders, 'Cache-Control': header('`no-store`') };

const errors = {
  '400': problem('A parameter is unknown, repeated or invalid; `errors` names each one and why.'),
  '404': problem('No such route or resource.'),
  '405': problem('Method not allowed; the `Allow` header lists the allowed ones.', { Allow: header('Allowed methods.') }),
  '406': problem('None of the media types in `Accept` can be produced.'),
  '500': problem('Unexpected failure; the body carries only the request id, the details are logged.'),
  '503': problem('No dataset loaded yet, the database is unavailable, or a query exceeded its time limit.', {
    'Retry-After': header('Seconds to wait.', { type: 'integer' }),
  }),
};
const cursorGone = {
  '410': problem('The `cursor` walks a dataset that a seed has replaced since; start again without `cursor`.'),
};
const notModified = { description: 'The copy named by `If-None-Match` is current.', headers: dataHeaders };

const q = (name: string, description: string, schema: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name,
  in: 'query',
  description,
  schema,
  ...extra,
});
const filterParams = [
  q('station', 'Station id; repeat it or separate ids with commas for several.', { type: 'string', maxLength: 200 }, { style: 'form', explode: true }),
  q('from', 'Inclusive lower bound, ISO 8601 date or date-time (no zone means UTC). Must be before `to`.', { type: 'string', format: 'date-time' }),
  q('to', 'Exclusive upper bound, ISO 8601 date or date-time (no zone means UTC).', { type: 'string', format: 'date-time' }),
  q('pollutants', `Comma-separated subset of ${POLLUTANTS.join(', ')}; default all.`, { type: 'string', example: 'no2,pm10' }),
  q('order', 'Newest first (`desc`, default) or oldest first (`asc`).', { type: 'string', enum: ['asc', 'desc'], default: 'desc' }),
  q('limit', `Items per page (default ${DEFAULT_LIMIT}). For CSV and NDJSON exports, omit it to stream every matching row.`, {
    type: 'integer',
    minimum: 1,
    maximum: MAX_LIMIT,
  }),
  q('cursor', 'Opaque position from the previous page\'s `next` link; bound to the same filters and order.', { type: 'string' }),
];
const ifNoneMatch = { name: 'If-None-Match', in: 'header', description: 'ETag of a cached copy; answered 304 when current.', schema: { type: 'string' } };
const requestId = { name: 'X-Request-Id', in: 'header', description: 'Echoed back; generated when absent or malformed.', schema: { type: 'string' } };

const measurement = {
  type: 'object',
  required: ['parameter', 'value', 'unit'],
  properties: {
    parameter: { type: 'string', enum: [...POLLUTANTS] },
    value: { type: ['number', 'null'] },
    unit: { type: 'string', enum: ['µg/m³', 'mg/m³'], description: 'co in mg/m³, the others in µg/m³.' },
  },
};
const datasetRef = { type: 'object', required: ['version'], properties: { version: { type: 'string', pattern: '^[0-9a-f]{12}$' } } };

/** OpenAPI 3.1 description of the whole API, served at /openapi.json. */
export function openApiDocument(version: string) {
  const json = (schema: unknown) => ({ 'application/json': { schema } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'airq air-quality API',
      version,
      description:
        'Air-quality readings (so2, no2, co, o3, pm10, pm2_5) per station, from the active dataset. Errors are RFC 9457 problem documents.',
    },
    paths: {
      '/air_quality': {
        get: {
          operationId: 'listReadings',
          summary: 'Readings, newest or oldest first, with keyset pagination; also exported as CSV or NDJSON.',
          parameters: [...filterParams, ifNoneMatch, requestId],
          responses: {
            '200': {
              description: 'A page of readings (JSON) or a stream of every matching reading (CSV, NDJSON).',
              headers: { ...dataHeaders, Link: header('`<next page>; rel="next"` when there is one (JSON only).') },
              content: {
                'application/json': { schema: ref('ReadingsPage') },
                'text/csv': {
                  schema: { type: 'string', description: 'Header `TimeInstant,id_entity,<pollutants>`, one line per reading, ISO UTC times.' },
                },
                'application/x-ndjson': { schema: { type: 'string', description: 'One Reading object per line.' } },
              },
            },
            '304': notModified,
            ...errors,
            ...cursorGone,
          },
        },
      },
      '/air_quality/stations': {
        get: {
          operationId: 'listStations',
          summary: 'Every station with its first and last reading, reading count and latest values.',
          parameters: [ifNoneMatch, requestId],
          responses: {
            '200': { description: 'The stations.', headers: dataHeaders, content: json(ref('StationList')) },
            '304': notModified,
            ...errors,
          },
        },
      },
      '/air_quality/stations/{id}': {
        get: {
          operationId: 'getStation',
          summary: 'One station.',
          parameters: [
            { name: 'id', in: 'path', required: true, description: 'Station id, e.g. aq_salvia.', schema: { type: 'string', maxLength: 200 } },
            ifNoneMatch,
            requestId,
          ],
          responses: {
            '200': { description: 'The station.', headers: dataHeaders, content: json(ref('StationDetail')) },
            '304': notModified,
            ...errors,
          },
        },
      },
      '/air_quality/aggregates': {
        get: {
          operationId: 'listAggregates',
          summary: 'Average, minimum, maximum and count per time bucket and station.',
          parameters: [
            q('interval', 'Bucket size.', { type: 'string', enum: ['hour', 'day'] }, { required: true }),
            ...filterParams.map((p) => (p.name === 'limit' ? { ...p, description: `Buckets per page (default ${DEFAULT_LIMIT}).` } : p)),
            ifNoneMatch,
            requestId,
          ],
          responses: {
            '200': {
              description: 'A page of buckets.',
              headers: { ...dataHeaders, Link: header('`<next page>; rel="next"` when there is one.') },
              content: json(ref('AggregatesPage')),
            },
            '304': notModified,
            ...errors,
            ...cursorGone,
          },
        },
      },
      '/health/live': {
        get: {
          operationId: 'live',
          summary: 'Liveness: the process answers.',
          parameters: [requestId],
          responses: {
            '200': { description: 'Alive.', headers: noStoreHeaders, content: json(ref('Health')) },
            '400': errors['400'],
            '405': errors['405'],
            '500': errors['500'],
          },
        },
      },
      '/health/ready': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: database reachable and migrated (an active dataset is not required). 503 once shutdown starts.',
          parameters: [requestId],
          responses: {
            '200': { description: 'Ready.', headers: noStoreHeaders, content: json(ref('Health')) },
            '400': errors['400'],
            '405': errors['405'],
            '500': errors['500'],
            '503': errors['503'],
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics: request duration by route and status, pool gauges, process defaults.',
          parameters: [requestId],
          responses: {
            '200': { description: 'Prometheus text format.', headers: noStoreHeaders, content: { 'text/plain': { schema: { type: 'string' } } } },
            '400': errors['400'],
            '405': errors['405'],
            '500': errors['500'],
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          parameters: [requestId],
          responses: {
            '200': { description: 'OpenAPI 3.1 document.', headers: commonHeaders, content: json({ type: 'object' }) },
            '400': errors['400'],
            '405': errors['405'],
            '500': errors['500'],
          },
        },
      },
    },
    components: {
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            requestId: { type: 'string' },
            errors: {
              type: 'array',
              items: { type: 'object', required: ['param', 'detail'], properties: { param: { type: 'string' }, detail: { type: 'string' } } },
            },
          },
        },
        Measurement: measurement,
        Reading: {
          type: 'object',
          required: ['station', 'measuredAt', 'measurements'],
          properties: {
            station: { type: 'string' },
            measuredAt: { type: 'string', format: 'date-time' },
            measurements: { type: 'array', items: ref('Measurement') },
          },
        },
        ReadingsPage: {
          type: 'object',
          required: ['dataset', 'order', 'count', 'data', 'next'],
          properties: {
            dataset: datasetRef,
            order: { type: 'string', enum: ['asc', 'desc'] },
            count: { type: 'integer' },
            data: { type: 'array', items: ref('Reading') },
            next: { type: ['string', 'null'], description: 'Relative URL of the next page, null on the last.' },
          },
        },
        Station: {
          type: 'object',
          required: ['id', 'firstMeasuredAt', 'lastMeasuredAt', 'readings', 'latest'],
          properties: {
            id: { type: 'string' },
            firstMeasuredAt: { type: ['string', 'null'], format: 'date-time' },
            lastMeasuredAt: { type: ['string', 'null'], format: 'date-time' },
            readings: { type: 'integer' },
            latest: {
              type: ['object', 'null'],
              properties: { measuredAt: { type: 'string', format: 'date-time' }, measurements: { type: 'array', items: ref('Measurement') } },
            },
          },
        },
        StationList: {
          type: 'object',
          required: ['dataset', 'count', 'data'],
          properties: { dataset: datasetRef, count: { type: 'integer' }, data: { type: 'array', items: ref('Station') } },
        },
        StationDetail: { allOf: [ref('Station'), { type: 'object', required: ['dataset'], properties: { dataset: datasetRef } }] },
        Aggregate: {
          type: 'object',
          required: ['bucket', 'station', 'readings', 'measurements'],
          properties: {
            bucket: { type: 'string', format: 'date-time', description: 'Start of the hour or day (UTC).' },
            station: { type: 'string' },
            readings: { type: 'integer' },
            measurements: {
              type: 'array',
              items: {
                type: 'object',
                required: ['parameter', 'unit', 'avg', 'min', 'max', 'count'],
                properties: {
                  parameter: { type: 'string', enum: [...POLLUTANTS] },
                  unit: { type: 'string' },
                  avg: { type: ['number', 'null'] },
                  min: { type: ['number', 'null'] },
                  max: { type: ['number', 'null'] },
                  count: { type: 'integer', description: 'Readings with a value for this pollutant.' },
                },
              },
            },
          },
        },
        AggregatesPage: {
          type: 'object',
          required: ['dataset', 'interval', 'order', 'count', 'data', 'next'],
          properties: {
            dataset: datasetRef,
            interval: { type: 'string', enum: ['hour', 'day'] },
            order: { type: 'string', enum: ['asc', 'desc'] },
            count: { type: 'integer' },
            data: { type: 'array', items: ref('Aggregate') },
            next: { type: ['string', 'null'] },
          },
        },
        Health: {
          type: 'object',
          required: ['status', 'version', 'instance'],
          properties: {
            status: { type: 'string', enum: ['live', 'ready'] },
            version: { type: 'string', description: 'APP_VERSION.' },
            instance: { type: 'string' },
            dataset: { type: ['string', 'null'], description: 'Active dataset version, null before the first seed (ready only).' },
          },
        },
      },
    },
  };
}
