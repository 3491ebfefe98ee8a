import * as core from '@actions/core';

/** Where raw input text comes from: the runner's INPUT_* variables by default, a plain record in unit tests. */
export type InputSource = (name: string) => string;

const fromRunner: InputSource = (name) => core.getInput(name);

/** Raised for an input that is missing or malformed; the message names the input and what it should look like. */
export class InputError extends Error {
  override name = 'InputError';
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `300s`, `5m`, `1h30m`, `250ms` into milliseconds; undefined when the text is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(trimmed); match; match = DURATION_PART.exec(trimmed)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = DURATION_PART.lastIndex;
  }
  return consumed === trimmed.length && Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Formats milliseconds as helm and kubectl accept them (`300s`, `1500ms`). */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Typed readers over one input source; each error names the input. */
export class Inputs {
  private readonly source: InputSource;

  constructor(source: InputSource = fromRunner) {
    this.source = source;
  }

  /** Builds a source from a record (unit tests): keys are input names. */
  static fromRecord(values: Record<string, string | undefined>): Inputs {
    return new Inputs((name) => values[name] ?? '');
  }

  private raw(name: string): string {
    return this.source(name).trim();
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === '') throw new InputError(`input "${name}" is required but was empty; set it in the step's \`with:\``);
    return value;
  }

  optional(name: string, fallback = ''): string {
    return this.raw(name) || fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name).toLowerCase();
    if (value === '') return fallback;
    if (['true', 'yes', 'on', '1'].includes(value)) return true;
    if (['false', 'no', 'off', '0'].includes(value)) return false;
    throw new InputError(`input "${name}": "${this.raw(name)}" is not a boolean; use true or false`);
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === '') return fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InputError(`input "${name}": "${value}" is not one of ${choices.map((c) => `"${c}"`).join(', ')}`);
  }

  integer(
    name: string,
    fallback: number,
    { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = {},
  ): number {
    const value = this.raw(name);
    if (value === '') return fallback;
    if (!/^-?\d+$/.test(value)) throw new InputError(`input "${name}": "${value}" is not a whole number`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      throw new InputError(`input "${name}": ${parsed} is out of range; use a number from ${min} to ${max}`);
    }
    return parsed;
  }

  /** A duration in milliseconds. */
  duration(name: string, fallback: string): number {
    const value = this.raw(name) || fallback;
    const ms = parseDuration(value);
    if (ms === undefined) throw new InputError(`input "${name}": "${value}" is not a duration like 5m or 300s`);
    return ms;
  }

  /** A list given one item per line or separated by commas; blank items dropped. */
  list(name: string): string[] {
    return this.raw(name)
      .split(/[\n,]/)
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** A list given one item per line (for items that may contain commas, like check names); blank lines dropped. */
  lines(name: string): string[] {
    return this.raw(name)
      .split('\n')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
}
