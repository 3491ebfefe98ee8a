import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { isBasicExpression, isBoolean, isMapping, isNumber, isSequence, isString } from '@actions/workflow-parser';

/** Plain JSON-like values the simulated contexts are made of. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** What the status functions see: the results of the job's (or step's) predecessors. */
export interface StatusState {
  /** Results of every ancestor job (needs, transitively) or of every previous step. */
  previous: readonly ('success' | 'failure' | 'skipped' | 'cancelled')[];
  cancelled?: boolean;
}

function statusFunctions(state: StatusState) {
  const bool = (value: boolean): data.ExpressionData => new data.BooleanData(value);
  const defs = {
    success: () => bool(!state.cancelled && state.previous.every((result) => result === 'success')),
    failure: () => bool(state.previous.some((result) => result === 'failure')),
    cancelled: () => bool(Boolean(state.cancelled)),
    always: () => bool(true),
  };
  const functions = new Map(Object.entries(defs).map(([name, call]) => [name, { name, minArgs: 0, maxArgs: 0, call }]));
  // No files to hash in a simulation: a stable stand-in keeps cache keys evaluable.
  functions.set('hashfiles', {
    name: 'hashFiles',
    minArgs: 1,
    maxArgs: 255,
    call: () => new data.StringData('<hashFiles>'),
  });
  return functions;
}

/** Evaluates one expression (the text between `${{` and `}}`) against `contexts`, GitHub's functions included. */
export function evaluate(
  expression: string,
  contexts: Record<string, Value>,
  status: StatusState = { previous: [] },
): Value {
  const lexed = new Lexer(expression).lex();
  const functions = statusFunctions(status);
  const parser = new Parser(
    lexed.tokens,
    Object.keys(contexts),
    [...functions.values()].map(({ name, minArgs, maxArgs }) => ({ name, minArgs, maxArgs })),
  );
  const tree = parser.parse();
  const context = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
  const result = new Evaluator(tree, context, functions).evaluate();
  return toValue(result);
}

function toValue(result: data.ExpressionData): Value {
  switch (result.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.Boolean:
      return (result as data.BooleanData).value;
    case data.Kind.Number:
      return (result as data.NumberData).value;
    case data.Kind.String:
      return (result as data.StringData).value;
    default:
      return JSON.parse(JSON.stringify(result, data.replacer)) as Value;
  }
}

/** GitHub's truthiness of an `if:` result. */
export function truthy(value: Value): boolean {
  if (value === null || value === false || value === 0 || value === '') return false;
  return true;
}

/** The string GitHub substitutes for a value inside a larger string. */
export function coerceString(value: Value): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;

/**
 * A YAML scalar as the runner sees it: a string that is exactly one `${{ }}` keeps the expression's type; any other
 * string has each expression substituted as text.
 */
export function evaluateScalar(raw: unknown, contexts: Record<string, Value>): Value {
  if (typeof raw !== 'string') return (raw ?? null) as Value;
  const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(raw);
  if (whole) return evaluate(whole[1]!, contexts);
  return raw.replace(EXPRESSION, (_, expression: string) => coerceString(evaluate(expression, contexts)));
}

/** The value of a template token from the workflow model (expression, literal, mapping or sequence). */
export function evaluateToken(token: TemplateToken | undefined, contexts: Record<string, Value>): Value {
  if (!token) return null;
  if (isBasicExpression(token)) return evaluate(token.expression, contexts);
  if (isString(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isNumber(token)) return token.value;
  if (isMapping(token)) {
    const result: Record<string, Value> = {};
    for (const pair of token) result[String(evaluateToken(pair.key, contexts))] = evaluateToken(pair.value, contexts);
    return result;
  }
  if (isSequence(token)) {
    const items: Value[] = [];
    for (let i = 0; i < token.count; i++) items.push(evaluateToken(token.get(i), contexts));
    return items;
  }
  return null;
}

/** Every `${{ }}` expression in a string (for static checks). */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(EXPRESSION)].map((match) => match[1]!.trim());
}
