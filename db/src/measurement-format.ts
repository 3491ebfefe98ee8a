/** The source CSV's columns (those of the bundled public file), in the order its header names them. */
export const CSV_COLUMNS = ['TimeInstant', 'id_entity', 'so2', 'no2', 'co', 'o3', 'pm10', 'pm2_5'] as const;
export const HEADER_LINE = CSV_COLUMNS.join(',');
export const VALUE_COLUMNS = ['so2', 'no2', 'co', 'o3', 'pm10', 'pm2_5'] as const;

/** Longest station id: the seeder refuses longer ones, so the API can refuse them too without losing any. */
export const MAX_STATION_LENGTH = 200;

/**
 * Why a station id is not acceptable (null when it is): the one rule the seeder loads by and the API queries by, so
 * every loaded station can be asked for.
 */
export function stationIdProblem(id: string): string | null {
  if (id === '') return 'a station id cannot be empty';
  if (id.length > MAX_STATION_LENGTH) return `longer than ${MAX_STATION_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(id)) return 'contains control characters or invalid UTF-8';
  return null;
}

/** Where each CSV column sits in a record; the header may list them in any order. */
export interface ColumnPositions {
  time: number;
  station: number;
  values: number[];
}

/** Names from the file, quoted, each cut to 40 characters and at most 10 of them: a message stays short. */
function echoNames(names: string[]): string {
  const shown = names.slice(0, 10).map((n) => JSON.stringify(n.length > 40 ? `${n.slice(0, 37)}...` : n));
  return shown.join(', ') + (names.length > 10 ? ` and ${names.length - 10} more` : '');
}

/** Checks the header and maps names to positions, or returns one message naming what is missing or extra. */
export function readHeader(fields: string[]): ColumnPositions | string {
  const names = fields.map((f) => f.trim());
  const missing = CSV_COLUMNS.filter((c) => !names.includes(c));
  const unexpected = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (missing.length || unexpected.length || repeated.length) {
    const parts = [
      missing.length ? `missing ${missing.map((c) => `"${c}"`).join(', ')}` : '',
      unexpected.length ? `unexpected ${echoNames(unexpected)}` : '',
      repeated.length ? `repeated ${echoNames(repeated)}` : '',
    ].filter(Boolean);
    return `header must name the columns ${HEADER_LINE}: ${parts.join('; ')}`;
  }
  return {
    time: names.indexOf('TimeInstant'),
    station: names.indexOf('id_entity'),
    values: VALUE_COLUMNS.map((c) => names.indexOf(c)),
  };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

/**
 * Checks a zoneless timestamp `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with a `T`) by hand: this runs for every row.
 * Returns undefined when valid, else the reason.
 */
export function timestampProblem(text: string): string | undefined {
  const length = text.length;
  const shapeOk =
    (length === 19 || (length >= 21 && length <= 26 && text.charCodeAt(19) === 46)) &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    (text.charCodeAt(10) === 32 || text.charCodeAt(10) === 84) &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58;
  const year = shapeOk ? digits(text, 0, 4) : -1;
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const fraction = length > 20 ? digits(text, 20, length - 20) : 0;
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || fraction < 0) {
    return 'is not a timestamp like 2016-10-01 00:15:00.012';
  }
  if (year < 1 || month < 1 || month > 12) return 'is not a real date: the month must be 01 to 12';
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0);
  if (day < 1 || day > monthDays) {
    return `is not a real date: ${MONTHS[month - 1]} ${text.slice(0, 4)} has ${monthDays} days`;
  }
  if (hour > 23 || minute > 59 || second > 59) return 'is not a real time of day: expected 00:00:00 to 23:59:59';
  return undefined;
}

// A plain non-negative decimal as PostgreSQL's float8 reads it; no sign, spaces or hex.
const NUMBER = /^\+?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/** Checks one measurement value (non-empty); returns undefined when valid, else the reason. */
export function valueProblem(text: string): string | undefined {
  if (NUMBER.test(text)) {
    // Only exponents and very long mantissas can leave float8's range; spare the conversion otherwise.
    if (text.length > 20 || text.includes('e') || text.includes('E')) {
      const value = Number(text);
      if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(text.split(/[eE]/)[0]!))) {
        return 'is out of range for a double precision number';
      }
    }
    return undefined;
  }
  if (NON_FINITE.test(text)) return 'is not a finite number';
  if (text.startsWith('-') && NUMBER.test(text.slice(1))) {
    return Number(text) === 0 ? undefined : 'is negative; concentrations cannot be below zero';
  }
  return 'is not a number';
}

// COPY text format: backslash, tab, newline and carriage return must be escaped.
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : value;
}
