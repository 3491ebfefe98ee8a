/**
 * The API's domain: pollutants and their units, the filter a reading query is made of, and instants. Every layer
 * (contract, routes, SQL, shaping) imports these from here, so the SQL layer never depends on HTTP parameter parsing.
 */
import { MAX_STATION_LENGTH, VALUE_COLUMNS, stationIdProblem } from '../../db/src/measurement-format.ts';

export { MAX_STATION_LENGTH, stationIdProblem };

/** The pollutants of the dataset, in the source file's column order. */
export const POLLUTANTS = VALUE_COLUMNS;
export type Pollutant = (typeof POLLUTANTS)[number];

export const UNITS: Record<Pollutant, 'µg/m³' | 'mg/m³'> = {
  so2: 'µg/m³',
  no2: 'µg/m³',
  co: 'mg/m³',
  o3: 'µg/m³',
  pm10: 'µg/m³',
  pm2_5: 'µg/m³',
};

export const ORDERS = ['asc', 'desc'] as const;
export type Order = (typeof ORDERS)[number];
export const INTERVALS = ['hour', 'day'] as const;
export type Interval = (typeof INTERVALS)[number];

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
  order: Order;
}

/** Where a keyset walk stands: the last row's timestamp (PostgreSQL's UTC text) and station. */
export interface Position {
  at: string;
  station: string;
}

/** ISO 8601 date or date-time, optional seconds, fraction (µs) and zone: what `from`, `to` and cursors accept. */
export const ISO_INSTANT =
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
