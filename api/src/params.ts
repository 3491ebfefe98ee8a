import { stationIdProblem } from '../../db/src/measurement-format.ts';
import { badParameters, type ParamError } from './problem.ts';

export const POLLUTANTS = ['so2', 'no2', 'co', 'o3', 'pm10', 'pm2_5'] as const;
export type Pollutant = (typeof POLLUTANTS)[number];

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
const MAX_STATIONS = 100;

/** An instant given by a client, kept both as a canonical UTC string (for SQL and links) and as microseconds. */
export interface Instant {
  iso: string;
  micros: number;
}

export interface ReadingFilter {
  stations: string[] | undefined;
  from: Instant | undefined;
  to: Instant | undefined;
  pollutants: Pollutant[];
  order: 'asc' | 'desc';
}

type Raw = Map<string, string[]>;
type Validator<T> = (values: string[], errors: ParamError[], name: string) => T;

/** Splits a query string into name → values, keeping repeats; bad percent-encoding decodes to U+FFFD, never throws. */
export function rawQuery(querystring: string): Raw {
  const raw: Raw = new Map();
  for (const [name, value] of new URLSearchParams(querystring)) {
    const values = raw.get(name);
    if (values) values.push(value);
    else raw.set(name, [value]);
  }
  return raw;
}

/**
 * Validates a query against the parameters a route accepts. Collects every problem (unknown names included) and throws
 * one 400 naming each bad parameter.
 */
export function parseQuery<S extends Record<string, Validator<unknown>>>(
  querystring: string,
  spec: S,
): { [K in keyof S]: ReturnType<S[K]> } {
  const raw = rawQuery(querystring);
  const errors: ParamError[] = [];
  const accepted = Object.keys(spec);
  for (const name of raw.keys()) {
    if (!Object.hasOwn(spec, name)) {
      errors.push({
        param: printable(name),
        detail: `unknown parameter; this endpoint accepts ${accepted.length ? accepted.join(', ') : 'no parameters'}`,
      });
    }
  }
  const result: Record<string, unknown> = {};
  for (const [name, validate] of Object.entries(spec)) {
    result[name] = validate(raw.get(name) ?? [], errors, name);
  }
  if (errors.length) throw badParameters(errors);
  return result as { [K in keyof S]: ReturnType<S[K]> };
}

/** Parameter names and values echoed in errors are cut short and stripped of control characters. */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}

function single(values: string[], errors: ParamError[], name: string): string | undefined {
  if (values.length > 1) {
    errors.push({ param: name, detail: `given ${values.length} times; give it once` });
    return undefined;
  }
  return values[0];
}

function list(values: string[]): string[] {
  return values.flatMap((v) => v.split(','));
}

export const stationParam: Validator<string[] | undefined> = (values, errors, name) => {
  if (!values.length) return undefined;
  const ids = list(values);
  const bad = ids.find((id) => stationIdProblem(id));
  if (bad !== undefined) {
    errors.push({ param: name, detail: `${JSON.stringify(printable(bad))}: ${stationIdProblem(bad)}` });
    return undefined;
  }
  const unique = [...new Set(ids)].sort();
  if (unique.length > MAX_STATIONS) {
    errors.push({ param: name, detail: `${unique.length} stations given; at most ${MAX_STATIONS} per request` });
    return undefined;
  }
  return unique;
};

export { stationIdProblem };

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses an ISO 8601 date or date-time (no zone means UTC); null when malformed or impossible (2016-02-30). */
export function parseInstant(text: string): Instant | null {
  const m = ISO_INSTANT.exec(text);
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => Number(part ?? 0));
  const fraction = (m[7] ?? '').padEnd(6, '0');
  const zone = m[8];
  if (year === undefined || month === undefined || day === undefined) return null;
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(local);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  const wholeMs = local - offsetMinutes * 60_000;
  const fractionMicros = Number(fraction);
  const utc = new Date(wholeMs + Math.floor(fractionMicros / 1000));
  if (Number.isNaN(utc.getTime()) || utc.getUTCFullYear() > 9999 || utc.getUTCFullYear() < 1) return null;
  const subMillis = fractionMicros % 1000;
  const iso = subMillis ? utc.toISOString().replace('Z', `${String(subMillis).padStart(3, '0')}Z`) : utc.toISOString();
  const micros = wholeMs * 1000 + fractionMicros;
  return { iso, micros };
}

const instantParam: Validator<Instant | undefined> = (values, errors, name) => {
  const text = single(values, errors, name);
  if (text === undefined) return undefined;
  const instant = parseInstant(text);
  if (!instant) {
    errors.push({
      param: name,
      detail: `${JSON.stringify(printable(text))} is not an ISO 8601 date or date-time (e.g. 2016-10-01 or 2016-10-01T00:15:00Z)`,
    });
    return undefined;
  }
  return instant;
};
export const fromParam = instantParam;
export const toParam = instantParam;

export const pollutantsParam: Validator<Pollutant[]> = (values, errors, name) => {
  if (!values.length) return [...POLLUTANTS];
  const wanted = new Set(list(values));
  const unknown = [...wanted].filter((p) => !(POLLUTANTS as readonly string[]).includes(p));
  if (unknown.length) {
    errors.push({
      param: name,
      detail: `${unknown.map((p) => JSON.stringify(printable(p))).join(', ')} not among ${POLLUTANTS.join(', ')}`,
    });
    return [...POLLUTANTS];
  }
  return POLLUTANTS.filter((p) => wanted.has(p));
};

export const limitParam: Validator<number | undefined> = (values, errors, name) => {
  const text = single(values, errors, name);
  if (text === undefined) return undefined;
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) {
    errors.push({ param: name, detail: `${JSON.stringify(printable(text))} is not an integer from 1 to ${MAX_LIMIT}` });
    return undefined;
  }
  return n;
};

export const orderParam: Validator<'asc' | 'desc'> = (values, errors, name) => {
  const text = single(values, errors, name);
  if (text === undefined || text === 'desc') return 'desc';
  if (text === 'asc') return 'asc';
  errors.push({ param: name, detail: `${JSON.stringify(printable(text))} is not asc or desc` });
  return 'desc';
};

export const intervalParam: Validator<'hour' | 'day'> = (values, errors, name) => {
  const text = single(values, errors, name);
  if (text === 'hour' || text === 'day') return text;
  errors.push({
    param: name,
    detail: text === undefined ? 'required: hour or day' : `${JSON.stringify(printable(text))} is not hour or day`,
  });
  return 'hour';
};

export const cursorParam: Validator<string | undefined> = (values, errors, name) => single(values, errors, name);

/** Checks relations between parameters once each has been validated on its own. */
export function checkRange(filter: { from: Instant | undefined; to: Instant | undefined }): void {
  if (filter.from && filter.to && filter.from.micros >= filter.to.micros) {
    throw badParameters([{ param: 'from', detail: `must be before to (${filter.from.iso} is not before ${filter.to.iso})` }]);
  }
}

/** The same filter always serialises to the same string, whatever the order or spelling of the parameters. */
export function canonicalQuery(entries: Record<string, string | string[] | number | undefined>): string {
  const search = new URLSearchParams();
  for (const key of Object.keys(entries).sort()) {
    const value = entries[key];
    if (value === undefined) continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return search.toString();
}
