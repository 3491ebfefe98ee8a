import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  CSV_COLUMNS,
  HEADER_LINE,
  VALUE_COLUMNS,
  copyText,
  readHeader,
  stationIdProblem,
  timestampProblem,
  valueProblem,
  type ColumnPositions,
} from './measurement-format.ts';

/** Bad input: every problem found, each naming file, line, column and value. */
export class InvalidInputError extends Error {
  readonly problems: string[];
  constructor(problems: string[], summary?: string) {
    super(summary ?? problems.join('\n'));
    this.name = 'InvalidInputError';
    this.problems = problems;
  }
}

/** The COPY column list matching what `CsvToCopy` writes. */
export const COPY_COLUMNS = ['station_id', 'measured_at', ...VALUE_COLUMNS];

const CHUNK_CHARS = 64 * 1024;

/**
 * The longest physical line accepted. A reading is about 60 characters; without a bound, one huge line would be kept
 * whole in memory and rescanned for every chunk appended to it (quadratic time).
 */
export const MAX_LINE_CHARS = 64 * 1024;

/** A value from the file, for a message: cut short, and every control character (C0, DEL, C1) escaped, never raw. */
function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function quotesIn(text: string): number {
  let count = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) count++;
  return count;
}

/**
 * Bytes of CSV in, rows of COPY text out, validating every row on the way.
 *
 * Lines without a double quote — all of them in the source's files — are split on commas by hand, which is
 * several times faster than a general parser and allocates little. A record with quotes (possibly spanning lines)
 * is handed whole to csv-parse, which owns the quoting rules. A UTF-8 BOM, CRLF line ends, blank lines and a
 * missing final newline are accepted. Once a problem is found no more output is produced but checking goes on,
 * so one run reports up to `maxErrors` problems; then the stream fails with InvalidInputError.
 */
/** Names a UTF-16 file by its byte-order mark, or by the NUL bytes its ASCII header has every other byte. */
function utf16(start: Buffer): string | undefined {
  if (start[0] === 0xff && start[1] === 0xfe) return 'UTF-16 (little-endian)';
  if (start[0] === 0xfe && start[1] === 0xff) return 'UTF-16 (big-endian)';
  if (start.length >= 4 && start[1] === 0 && start[3] === 0 && start[0] !== 0)
    return 'UTF-16 (little-endian, no byte-order mark)';
  if (start.length >= 4 && start[0] === 0 && start[2] === 0 && start[1] !== 0)
    return 'UTF-16 (big-endian, no byte-order mark)';
  return undefined;
}

export class CsvToCopy extends Transform {
  readonly stations = new Set<string>();
  rows = 0;
  readonly problems: string[] = [];
  private readonly label: string;
  private readonly maxErrors: number;
  private readonly decoder = new StringDecoder('utf8');
  private columns: ColumnPositions | undefined;
  private started = false;
  private rest = '';
  private lineNumber = 0;
  /** A quoted record still open at the end of a line: its text so far and the line it started on. */
  private open: { text: string; line: number } | undefined;
  private pending = '';
  private fatal: InvalidInputError | undefined;
  /** Rows handed to COPY so far. */
  private copied = 0;
  /** Pairs (row, line) wherever `line - row` changes (header, blank lines, multi-line records): maps rows to lines. */
  private readonly lineShifts: number[] = [];
  private shift = Number.NaN;

  constructor(label: string, maxErrors: number) {
    super({ readableHighWaterMark: CHUNK_CHARS * 2 });
    this.label = label;
    this.maxErrors = maxErrors;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let text = this.rest + this.decoder.write(chunk);
    if (!this.started && text.length) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const encoding = utf16(chunk);
      if (encoding) {
        this.problems.push(
          `${this.label}: the file is ${encoding}; save it as UTF-8 (the header starts TimeInstant,id_entity,...)`,
        );
        this.fatal = new InvalidInputError(this.problems);
        return callback(this.fatal);
      }
    }
    let from = 0;
    for (let end = text.indexOf('\n'); end !== -1 && !this.fatal; end = text.indexOf('\n', from)) {
      if (end - from > MAX_LINE_CHARS) {
        this.tooLong(this.lineNumber + 1);
        break;
      }
      this.line(text.slice(from, end));
      from = end + 1;
    }
    if (this.fatal) return callback(this.fatal);
    this.rest = from === 0 ? text : text.slice(from);
    if (!this.fatal && this.rest.length > MAX_LINE_CHARS) this.tooLong(this.lineNumber + 1);
    this.afterLines(callback);
  }

  override _flush(callback: TransformCallback): void {
    let text = this.rest + this.decoder.end();
    if (!this.started && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.rest = '';
    if (text.length) this.line(text);
    if (this.open && !this.fatal) {
      const { text: record, line } = this.open;
      this.open = undefined;
      this.record(record, line);
    }
    if (this.fatal) return callback(this.fatal);
    if (!this.columns) {
      return callback(
        new InvalidInputError([
          `${this.label}: the file is empty; expected the header ${HEADER_LINE} and one reading per line`,
        ]),
      );
    }
    if (this.problems.length) return callback(new InvalidInputError(this.problems));
    if (this.rows === 0) {
      return callback(
        new InvalidInputError([
          `${this.label}: the file has a header but no readings; expected one line per station and time`,
        ]),
      );
    }
    if (this.pending) this.push(this.pending);
    this.pending = '';
    callback();
  }

  private tooLong(line: number): void {
    this.rest = '';
    this.problems.push(
      `${this.label}:${line}: the line is longer than ${MAX_LINE_CHARS.toLocaleString('en-US')} characters; ` +
        'a reading is one short line (is this the right file?)',
    );
    this.fatal = new InvalidInputError(this.problems);
  }

  private afterLines(callback: TransformCallback): void {
    if (this.fatal) return callback(this.fatal);
    if (this.pending.length >= CHUNK_CHARS) {
      const out = this.pending;
      this.pending = '';
      this.push(out);
    }
    callback();
  }

  /** One physical line (without its `\n`). */
  private line(raw: string): void {
    const number = ++this.lineNumber;
    if (this.open) {
      this.open.text += `\n${raw}`;
      // An odd quote closes the field; a runaway quote stops at 64 KiB so csv-parse can name it.
      if (quotesIn(raw) % 2 === 1 || this.open.text.length > 65_536) {
        const { text, line } = this.open;
        this.open = undefined;
        this.record(text, line);
      }
      return;
    }
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (text.length === 0) return;
    if (text.indexOf('"') === -1) {
      this.fields(text.split(','), number);
    } else if (quotesIn(text) % 2 === 1) {
      this.open = { text: raw, line: number };
    } else {
      this.record(raw, number);
    }
  }

  /** A record containing quotes: csv-parse decides what its fields are. */
  private record(text: string, line: number): void {
    let fields: string[];
    try {
      const records = parseCsv(text, { relax_column_count: true, relax_quotes: false }) as string[][];
      fields = records[0] ?? [''];
      if (records.length > 1) fields = records.flat();
    } catch (error) {
      this.problem(line, `malformed CSV: ${(error as Error).message.replace(/ at line \d+/, '')}`);
      return;
    }
    this.fields(fields, line);
  }

  private problem(line: number, message: string): void {
    this.problems.push(`${this.label}:${line}: ${message}`);
    if (this.problems.length >= this.maxErrors && !this.fatal) {
      this.problems.length = this.maxErrors;
      this.fatal = new InvalidInputError(
        this.problems,
        `${this.label}: stopped after ${this.maxErrors} problems (--max-errors ${this.maxErrors}):\n${this.problems.join('\n')}`,
      );
    }
  }

  private fields(record: string[], line: number): void {
    const columns = this.columns;
    if (!columns) {
      const header = readHeader(record);
      if (typeof header === 'string') {
        this.problem(line, header);
        this.fatal ??= new InvalidInputError(this.problems);
      } else this.columns = header;
      return;
    }
    this.rows++;
    if (record.length !== CSV_COLUMNS.length) {
      this.problem(line, `expected ${CSV_COLUMNS.length} columns (${HEADER_LINE}), found ${record.length}`);
      return;
    }
    const time = record[columns.time]!;
    const station = record[columns.station]!;
    const before = this.problems.length;
    const timeProblem = timestampProblem(time);
    if (timeProblem) this.problem(line, `column "TimeInstant": ${quote(time)} ${timeProblem}`);
    if (station === '') this.problem(line, 'column "id_entity": the station id is empty');
    else {
      const stationError = stationIdProblem(station);
      if (stationError) this.problem(line, `column "id_entity": ${quote(station)}: ${stationError}`);
    }
    let out = `${copyText(station)}\t${time}`;
    for (let i = 0; i < VALUE_COLUMNS.length; i++) {
      const value = record[columns.values[i]!]!;
      if (value === '') {
        out += '\t\\N';
        continue;
      }
      const valueError = valueProblem(value);
      if (valueError) this.problem(line, `column "${VALUE_COLUMNS[i]}": ${quote(value)} ${valueError}`);
      else out += `\t${value}`;
    }
    if (this.problems.length !== before) return;
    this.stations.add(station);
    if (this.problems.length === 0) {
      this.pending += `${out}\n`;
      const row = ++this.copied;
      if (line - row !== this.shift) {
        this.shift = line - row;
        this.lineShifts.push(row, line);
      }
    }
  }

  /** The file line of the `row`-th row sent to COPY (1-based), as PostgreSQL counts them. */
  lineOfRow(row: number): number {
    const shifts = this.lineShifts;
    let low = 0;
    let high = shifts.length / 2 - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (shifts[middle * 2]! <= row) low = middle;
      else high = middle - 1;
    }
    return shifts[low * 2 + 1]! + (row - shifts[low * 2]!);
  }
}
