/**
 * Readings written straight from PostgreSQL's text into the public JSON, NDJSON and CSV. The bodies are the same bytes
 * `JSON.stringify(readingsPage(…))` makes from parsed rows (a test holds them to it), without parsing every number
 * into a double and printing it back, or building an object per measurement: at 1,000 readings a page that generic path
 * was most of a response's CPU.
 *
 * The text is built as a *byte string*: one character per UTF-8 byte (what `buffer.toString('latin1')` gives), turned
 * into bytes with `Buffer.from(text, 'latin1')`, a plain copy. The units (µ, ³) and non-ASCII station ids would
 * otherwise make every body go through UTF-8 encoding (and every COPY chunk through decoding) character by character.
 */
import { UNITS, type Pollutant } from './domain.ts';
import { isoTime } from './shape.ts';

/**
 * A reading as PostgreSQL prints it: the station, and one text `timestamp,value,value,…` (the filter's pollutants, empty
 * for NULL) made by `concat()`, so that pg decodes two fields a row rather than one per column. Trailing columns (the
 * page query's dataset) are ignored.
 */
export type RawRow = (string | null)[];

/** The keyset position of a raw row: its exact timestamp text and station. */
export function rawPosition(row: RawRow): { at: string; station: string } {
  const line = row[1] as string;
  const comma = line.indexOf(',');
  return { at: comma === -1 ? line : line.slice(0, comma), station: row[0] as string };
}

/** The values of a line from the comma at `at` to `end` into `values` (null for an empty field). */
function splitValues(text: string, at: number, end: number, values: (string | null)[]): void {
  for (let i = 0; i < values.length; i++) {
    const next = i === values.length - 1 ? end : text.indexOf(',', at + 1);
    values[i] = next === at + 1 ? null : text.slice(at + 1, next);
    at = next;
  }
}

/**
 * A float8 as PostgreSQL prints it, as JSON prints the same double: PostgreSQL's shortest round-trip digits are
 * JavaScript's, except in exponent form (`1e-05`, `1e+15`), for `-0`, and NaN/±Infinity, which JSON has no number for.
 */
export function jsonNumber(text: string | null | undefined): string {
  if (text == null || text === '') return 'null';
  const first = text.charCodeAt(0);
  if (first >= 48 && first <= 57 && !text.includes('e')) return text;
  const n = Number(text);
  return Number.isFinite(n) ? String(n) : 'null';
}

/** The constant parts of a reading's JSON for one list of pollutants, built once per list. */
interface Template {
  pollutants: readonly Pollutant[];
  /** `{"parameter":"so2","value":` (with the separating comma after the first). */
  before: string[];
  /** `,"unit":"µg/m³"}`. */
  after: string[];
}

const templates = new Map<string, Template>();

/** A string as a byte string: its UTF-8 bytes, one character each. */
export const byteString = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

function template(pollutants: readonly Pollutant[]): Template {
  const key = pollutants.join(',');
  let t = templates.get(key);
  if (!t) {
    t = {
      pollutants,
      before: pollutants.map((p, i) => `${i ? ',' : ''}{"parameter":${JSON.stringify(p)},"value":`),
      after: pollutants.map((p) => byteString(`,"unit":${JSON.stringify(UNITS[p])}}`)),
    };
    templates.set(key, t);
  }
  return t;
}

/**
 * `{"station":"<id>","measuredAt":"` as a byte string, per station id (a string from pg, or already a byte string from
 * COPY: JSON.stringify escapes only ASCII characters, so it leaves a byte string's UTF-8 bytes as they are). A dataset
 * has a few hundred stations, each printed on many rows.
 */
const stationStarts = { text: new Map<string, string>(), bytes: new Map<string, string>() };

function stationStart(station: string, given: 'text' | 'bytes'): string {
  const cache = stationStarts[given];
  let start = cache.get(station);
  if (start === undefined) {
    if (cache.size >= 10_000) cache.clear();
    start = `{"station":${JSON.stringify(station)},"measuredAt":"`;
    if (given === 'text') start = byteString(start);
    cache.set(station, start);
  }
  return start;
}

/** One reading's JSON object, a byte string: station, timestamp, then from `first` the template's values. */
function readingObject(
  station: string,
  given: 'text' | 'bytes',
  measuredAt: string,
  values: (string | null)[],
  first: number,
  t: Template,
): string {
  let json = `${stationStart(station, given)}${isoTime(measuredAt)}","measurements":[`;
  for (let i = 0; i < t.before.length; i++) json += t.before[i] + jsonNumber(values[first + i]) + t.after[i];
  return `${json}]}`;
}

/** The body of a page of readings: byte for byte `JSON.stringify(readingsPage(args))` with the rows parsed. */
export function readingsPageBody(args: {
  version: string;
  order: 'asc' | 'desc';
  rows: RawRow[];
  pollutants: readonly Pollutant[];
  next: string | null;
}): Buffer {
  const t = template(args.pollutants);
  let body = byteString(
    `{"dataset":{"version":${JSON.stringify(args.version)}},"order":"${args.order}","count":${args.rows.length},"data":[`,
  );
  const values: (string | null)[] = new Array<string | null>(args.pollutants.length);
  for (let i = 0; i < args.rows.length; i++) {
    const row = args.rows[i] as RawRow;
    const line = row[1] as string;
    let timeEnd = line.indexOf(',');
    if (timeEnd === -1) timeEnd = line.length;
    splitValues(line, timeEnd, line.length, values);
    if (i) body += ',';
    body += readingObject(row[0] as string, 'text', line.slice(0, timeEnd), values, 0, t);
  }
  return Buffer.from(`${body}],"next":${byteString(JSON.stringify(args.next))}}`, 'latin1');
}

/** The source file's column names, so an export can be fed back to the seeder. */
export function csvHeader(pollutants: readonly Pollutant[]): string {
  return `TimeInstant,id_entity${pollutants.map((p) => `,${p}`).join('')}\n`;
}

/**
 * Rewrites lines of `COPY (SELECT measured_at, station_id, ...pollutants) TO STDOUT (FORMAT csv)` into the export:
 * CSV keeps PostgreSQL's line (its quoting rules are the export's) with the timestamp made ISO; NDJSON makes each line
 * the JSON of a reading in a page. `text` is a byte string of whole lines; returns a byte string.
 */
export function copyLinesTo(format: 'csv' | 'ndjson', text: string, pollutants: readonly Pollutant[]): string {
  const t = template(pollutants);
  const values: (string | null)[] = new Array<string | null>(pollutants.length);
  let out = '';
  let start = 0;
  for (let end = text.indexOf('\n', start); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    // The timestamp is never quoted; the station is quoted only when it holds a comma, a quote or a line break.
    const timeEnd = text.indexOf(',', start);
    if (format === 'csv') {
      out += isoTime(text.slice(start, timeEnd)) + text.slice(timeEnd, end + 1);
      continue;
    }
    let station: string;
    let at: number;
    if (text.charCodeAt(timeEnd + 1) === 34) {
      // Quoted: runs to the quote that is not doubled.
      let close = timeEnd + 2;
      for (;;) {
        close = text.indexOf('"', close);
        if (text.charCodeAt(close + 1) !== 34) break;
        close += 2;
      }
      station = text.slice(timeEnd + 2, close).replaceAll('""', '"');
      at = close + 1;
    } else {
      at = text.indexOf(',', timeEnd + 1);
      if (at === -1 || at > end) at = end;
      station = text.slice(timeEnd + 1, at);
    }
    splitValues(text, at, end, values);
    out += `${readingObject(station, 'bytes', text.slice(start, timeEnd), values, 0, t)}\n`;
  }
  return out;
}
