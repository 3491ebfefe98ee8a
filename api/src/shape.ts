/**
 * The public representation of the data: every response body of a data endpoint is shaped here and nowhere else, typed
 * by the contract's schemas (contract.ts) so a body that drifts from the OpenAPI document does not compile.
 */
import type {
  AggregatesPage,
  Measurement,
  Reading,
  ReadingsPage,
  Station,
  StationDetail,
  StationList,
} from './contract.ts';
import { POLLUTANTS, UNITS, type Order, type Pollutant } from './domain.ts';
import type { AggregateRow, ReadingRow } from './sql/measurements.ts';
import type { StationRow } from './sql/stations.ts';

export { UNITS };

/** `2016-10-01 00:15:00.012+00` (PostgreSQL, UTC) → `2016-10-01T00:15:00.012Z`; at least millisecond precision. */
export function isoTime(pg: string): string {
  const time = pg.slice(11, pg.length - 3);
  const dot = time.indexOf('.');
  const fraction = dot === -1 ? '.000' : time.slice(dot).padEnd(4, '0');
  return `${pg.slice(0, 10)}T${dot === -1 ? time : time.slice(0, dot)}${fraction}Z`;
}

function finite(value: number | string | null | undefined): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function measurements(row: Record<string, unknown>, pollutants: readonly Pollutant[], suffix = ''): Measurement[] {
  return pollutants.map((p) => ({ parameter: p, value: finite(row[p + suffix] as number | null), unit: UNITS[p] }));
}

export function reading(row: ReadingRow, pollutants: readonly Pollutant[]): Reading {
  return {
    station: row.station_id,
    measuredAt: isoTime(row.measured_at),
    measurements: measurements(row as unknown as Record<string, unknown>, pollutants),
  };
}

export function readingsPage(args: {
  version: string;
  order: Order;
  rows: ReadingRow[];
  pollutants: readonly Pollutant[];
  next: string | null;
}): ReadingsPage {
  return {
    dataset: { version: args.version },
    order: args.order,
    count: args.rows.length,
    data: args.rows.map((row) => reading(row, args.pollutants)),
    next: args.next,
  };
}

export function station(row: StationRow): Station {
  return {
    id: row.id,
    firstMeasuredAt: row.first_at && isoTime(row.first_at),
    lastMeasuredAt: row.last_at && isoTime(row.last_at),
    readings: row.readings,
    latest: row.latest_at
      ? {
          measuredAt: isoTime(row.latest_at),
          measurements: measurements(row as unknown as Record<string, unknown>, POLLUTANTS),
        }
      : null,
  };
}

export function stationsList(version: string, rows: StationRow[]): StationList {
  return { dataset: { version }, count: rows.length, data: rows.map(station) };
}

export function stationOne(version: string, row: StationRow): StationDetail {
  return { dataset: { version }, ...station(row) };
}

export function aggregatesPage(args: {
  version: string;
  interval: 'hour' | 'day';
  order: Order;
  rows: AggregateRow[];
  pollutants: readonly Pollutant[];
  next: string | null;
}): AggregatesPage {
  return {
    dataset: { version: args.version },
    interval: args.interval,
    order: args.order,
    count: args.rows.length,
    data: args.rows.map((row) => ({
      bucket: isoTime(row.bucket),
      station: row.station_id,
      readings: row.readings,
      measurements: args.pollutants.map((p) => ({
        parameter: p,
        unit: UNITS[p],
        avg: finite(row[`${p}_avg`]),
        min: finite(row[`${p}_min`]),
        max: finite(row[`${p}_max`]),
        count: Number(row[`${p}_count`]),
      })),
    })),
    next: args.next,
  };
}
