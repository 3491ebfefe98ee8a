import { Transform, type TransformCallback } from 'node:stream';
import { parse, type Parser } from 'csv-parse';
import {
  CSV_COLUMNS,
  HEADER_LINE,
  VALUE_COLUMNS,
  copyText,
  readHeader,
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

/** The COPY column list matching what `CsvToCopy` writes, line number last. */
export const COPY_COLUMNS = ['station_id', 'measured_at', ...VALUE_COLUMNS, 'line'];

const CHUNK_CHARS = 64 * 1024;

function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/**
 * csv-parse configured for the challenge's files: BOM, CRLF and quoted fields are handled by the parser; each
 * record gets the number of the line it ends on appended, so messages can point at it.
 */
export function createCsvParser(): Parser {
  return parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    on_record: (record: string[], context) => {
      record.push(String(context.lines));
      return record;
    },
  });
}

/**
 * Validates parsed records and turns them into COPY text rows. Once a problem is found it stops producing
 * output but keeps checking, so one run reports up to `maxErrors` problems; then it fails the pipeline.
 */
export class CsvToCopy extends Transform {
  readonly stations = new Set<string>();
  rows = 0;
  readonly problems: string[] = [];
  private readonly label: string;
  private readonly maxErrors: number;
  private columns: ColumnPositions | undefined;
  private pending = '';

  constructor(label: string, maxErrors: number) {
    super({ writableObjectMode: true, writableHighWaterMark: 256, readableHighWaterMark: CHUNK_CHARS * 2 });
    this.label = label;
    this.maxErrors = maxErrors;
  }

  private problem(line: string, message: string): boolean {
    this.problems.push(`${this.label}:${line}: ${message}`);
    return this.problems.length >= this.maxErrors;
  }

  private tooMany(): InvalidInputError {
    return new InvalidInputError(
      this.problems,
      `${this.label}: stopped after ${this.problems.length} problems (--max-errors ${this.maxErrors}):\n${this.problems.join('\n')}`,
    );
  }

  override _transform(record: string[], _encoding: BufferEncoding, callback: TransformCallback): void {
    const line = record.pop()!;
    const columns = this.columns;
    if (!columns) {
      const header = readHeader(record);
      if (typeof header === 'string') {
        this.problem(line, header);
        callback(new InvalidInputError(this.problems));
        return;
      }
      this.columns = header;
      callback();
      return;
    }
    this.rows++;
    if (record.length !== CSV_COLUMNS.length) {
      if (this.problem(line, `expected ${CSV_COLUMNS.length} columns (${HEADER_LINE}), found ${record.length}`)) {
        callback(this.tooMany());
      } else callback();
      return;
    }
    const time = record[columns.time]!;
    const station = record[columns.station]!;
    const before = this.problems.length;
    const timeProblem = timestampProblem(time);
    if (timeProblem) this.problems.push(`${this.label}:${line}: column "TimeInstant": ${quote(time)} ${timeProblem}`);
    if (station === '') this.problems.push(`${this.label}:${line}: column "id_entity": the station id is empty`);
    let out = `${copyText(station)}\t${time}`;
    for (let i = 0; i < VALUE_COLUMNS.length; i++) {
      const value = record[columns.values[i]!]!;
      if (value === '') {
        out += '\t\\N';
        continue;
      }
      const valueError = valueProblem(value);
      if (valueError) this.problems.push(`${this.label}:${line}: column "${VALUE_COLUMNS[i]}": ${quote(value)} ${valueError}`);
      else out += `\t${value}`;
    }
    if (this.problems.length >= this.maxErrors) {
      this.problems.length = this.maxErrors;
      callback(this.tooMany());
      return;
    }
    if (this.problems.length === before) this.stations.add(station);
    if (this.problems.length === 0) {
      this.pending += `${out}\t${line}\n`;
      if (this.pending.length >= CHUNK_CHARS) {
        this.push(this.pending);
        this.pending = '';
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.columns) {
      callback(new InvalidInputError([`${this.label}: the file is empty; expected the header ${HEADER_LINE} and one reading per line`]));
      return;
    }
    if (this.problems.length) {
      callback(new InvalidInputError(this.problems));
      return;
    }
    if (this.rows === 0) {
      callback(new InvalidInputError([`${this.label}: the file has a header but no readings; expected one line per station and time`]));
      return;
    }
    if (this.pending) this.push(this.pending);
    this.pending = '';
    callback();
  }
}
