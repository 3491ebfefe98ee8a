/** Query strings in, typed values out: the parsing half of the contract (contract.ts holds the schemas). */
import type { z } from 'zod';
import type { Instant } from './domain.ts';
import { badParameters, printable, type ParamError } from './problem.ts';

type Raw = Map<string, string[]>;

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

/** Whether a parameter's schema takes a list (every value given, split at commas) rather than one value. */
function takesList(schema: z.ZodType): boolean {
  let def = schema._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
  for (;;) {
    if (def.type === 'array') return true;
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) return false;
    def = inner._zod.def as typeof def;
  }
}

/**
 * Validates a query against the schema of the parameters a route accepts. Collects every problem (unknown and repeated
 * names included) and throws one 400 naming each bad parameter.
 */
export function parseQuery<S extends z.ZodObject>(querystring: string, schema: S): z.output<S> {
  const raw = rawQuery(querystring);
  const errors: ParamError[] = [];
  const accepted = Object.keys(schema.shape);
  const input: Record<string, string | string[]> = {};
  for (const [name, values] of raw) {
    const param = Object.hasOwn(schema.shape, name) ? (schema.shape[name] as z.ZodType) : undefined;
    if (!param) {
      errors.push({
        param: printable(name),
        detail: `unknown parameter; this endpoint accepts ${accepted.length ? accepted.join(', ') : 'no parameters'}`,
      });
    } else if (takesList(param)) {
      input[name] = values.flatMap((v) => v.split(','));
    } else if (values.length > 1) {
      errors.push({ param: name, detail: `given ${values.length} times; give it once` });
    } else {
      input[name] = values[0] as string;
    }
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    // One line per parameter, its first problem: enough to fix it, and a long list cannot amplify the body.
    const seen = new Set(errors.map((e) => e.param));
    for (const issue of parsed.error.issues) {
      const param = String(issue.path[0]);
      if (seen.has(param)) continue;
      seen.add(param);
      errors.push({ param, detail: issue.message });
    }
  }
  if (errors.length || !parsed.success) throw badParameters(errors);
  return parsed.data;
}

/** Checks relations between parameters once each has been validated on its own. */
export function checkRange(filter: { from: Instant | undefined; to: Instant | undefined }): void {
  if (filter.from && filter.to && filter.from.micros >= filter.to.micros) {
    throw badParameters([
      { param: 'from', detail: `must be before to (${filter.from.iso} is not before ${filter.to.iso})` },
    ]);
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
