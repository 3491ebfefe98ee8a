/**
 * Generates docs/values.md, the chart's values reference, from its two sources of truth: helm/airq/values.yaml (the
 * keys, their defaults and the comments above them) and helm/airq/values.schema.json (types and constraints).
 *
 *   npm run docs:values           rewrite docs/values.md
 *   npm run docs:values -- --check  exit 1 when docs/values.md is not what the sources generate
 */
import { readFileSync } from 'node:fs';
import { fromRepo, generatorMain, type GeneratedPage } from '../../scripts/generated-page.ts';
import { isMap, isScalar, parseDocument, stringify, type Node, type Pair } from 'yaml';

export const VALUES_FILE = fromRepo('helm', 'airq', 'values.yaml');
export const SCHEMA_FILE = fromRepo('helm', 'airq', 'values.schema.json');
export const VALUES_DOC = fromRepo('docs', 'values.md');

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
  description?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  definitions?: Record<string, Schema>;
}

/** One documented key: a leaf value, or a group of keys that carries a comment of its own. */
export interface ValueRow {
  key: string;
  type: string;
  default: string;
  description: string;
}

interface Section {
  key: string;
  intro: string;
  rows: ValueRow[];
}

/** Reads the YAML comment text: `#` already stripped by the parser, one leading space per line. */
function commentText(comment: string | null | undefined): string {
  return (comment ?? '')
    .split('\n')
    .map((line) => line.replace(/^ /, ''))
    .join('\n')
    .trim();
}

/** Comments in a paragraph become one line; blank lines separate paragraphs. */
function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .filter(Boolean);
}

function resolve(node: Schema | undefined, root: Schema): Schema | undefined {
  let current = node;
  for (let hops = 0; current?.$ref && hops < 10; hops++) {
    const name = current.$ref.replace(/^#\/definitions\//, '');
    const target = root.definitions?.[name];
    if (!target) throw new Error(`${SCHEMA_FILE}: $ref ${current.$ref} names no definition`);
    // The referring node's own keywords (a description) win over the definition's.
    const { $ref: _ref, ...own } = current;
    current = { ...target, ...own };
  }
  return current;
}

/** The schema of a key, as written (a `$ref` not yet followed). */
function child(parent: Schema | undefined, key: string, root: Schema): Schema | undefined {
  const node = resolve(parent, root);
  if (!node) return undefined;
  if (node.properties?.[key]) return node.properties[key];
  if (typeof node.additionalProperties === 'object') return node.additionalProperties;
  return undefined;
}

// Documented as one value each: their parts are Kubernetes' own fields, not the chart's.
const WHOLE: Record<string, string> = {
  '#/definitions/resources': 'container resources (`requests`, `limits`)',
  '#/definitions/peer': 'NetworkPolicy peer (`namespaceSelector`, `podSelector`)',
  '#/definitions/labelSelector': 'label selector (`matchLabels`, `matchExpressions`)',
};

const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/** The schema's type of a value, with the constraints an operator needs to pick one. */
export function describeType(node: Schema | undefined, root: Schema): string {
  if (node?.$ref && WHOLE[node.$ref]) return WHOLE[node.$ref]!;
  const schema = resolve(node, root);
  if (!schema) return '';
  if (schema.enum)
    return `one of ${schema.enum.map((v) => code(JSON.stringify(v).replace(/^"(.*)"$/, '$1'))).join(', ')}`;
  if (schema.const !== undefined) return code(JSON.stringify(schema.const));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return alternatives.map((alt) => describeType(alt, root)).join(' or ');
  const type = Array.isArray(schema.type)
    ? schema.type.join(' or ')
    : (schema.type ?? (schema.properties ? 'object' : ''));
  const parts = [type];
  if (type === 'array' && schema.items) parts[0] = `array of ${describeType(schema.items, root) || 'any'}`;
  if (type === 'object' && !schema.properties && typeof schema.additionalProperties === 'object') {
    parts[0] = `map of ${describeType(schema.additionalProperties, root)}`;
  }
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum}–${schema.maximum}`);
  else {
    if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
    if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
    if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  }
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  if (schema.pattern && schema.pattern.length <= 40) parts.push(`matching ${code(schema.pattern)}`);
  if (schema.format) parts.push(`(${schema.format})`);
  return parts.filter(Boolean).join(', ');
}

/** The default as it is written in values.yaml when it fits on one line, otherwise in YAML's flow style. */
function defaultOf(node: Node | null, source: string): string {
  if (node === null) return code('null');
  const written = node.range ? source.slice(node.range[0], node.range[1]).trim() : '';
  const text =
    written && !written.includes('\n')
      ? written
      : stringify(node.toJSON(), { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim();
  return isScalar(node) && node.value === '' ? code('""') : code(text);
}

/** Markdown text: `<release>` and the like would otherwise be read as HTML tags (a lone `>` is harmless); code spans are
 * left as written. */
const prose = (text: string) =>
  text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 ? part : part.replace(/</g, '&lt;')))
    .join('');
const cell = (text: string) => prose(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Walks values.yaml in order; `leading` is the comment the parser attached to a map rather than to its first key. */
function rowsOf(
  items: unknown[],
  prefix: string,
  schema: Schema | undefined,
  root: Schema,
  source: string,
  leading: string,
): ValueRow[] {
  const rows: ValueRow[] = [];
  items.forEach((item, index) => {
    const pair = item as Pair<Node, Node | null>;
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const key = `${prefix}${name}`;
    const node = child(schema, name, root);
    const keyComment = commentText(pair.key?.commentBefore);
    const comment = paragraphs([index === 0 ? leading : '', keyComment].filter(Boolean).join('\n')).at(-1) ?? '';
    const value = pair.value;
    const inline = commentText(value && 'comment' in value ? value.comment : '');
    // values.yaml's comment is what the operator reads beside the value; the schema's description stands in without one.
    const description = [comment, inline].filter(Boolean).join(' ') || (resolve(node, root)?.description ?? '');
    if (isMap(value) && !value.flow && value.items.length && !(node?.$ref && WHOLE[node.$ref])) {
      if (comment || resolve(node, root)?.description)
        rows.push({ key, type: describeType(node, root), default: '', description });
      rows.push(...rowsOf(value.items, `${key}.`, node, root, source, commentText(value.commentBefore)));
    } else {
      rows.push({ key, type: describeType(node, root), default: defaultOf(value, source), description });
    }
  });
  return rows;
}

/** Every documented key of values.yaml with its type, default and description, in file order. */
export function valueRows(valuesText: string, schema: Schema): ValueRow[] {
  return sectionsOf(valuesText, schema).flatMap((section) => section.rows);
}

function sectionsOf(valuesText: string, schema: Schema): Section[] {
  const doc = parseDocument(valuesText);
  if (doc.errors.length) throw new Error(`${VALUES_FILE}: ${doc.errors[0]!.message}`);
  if (!isMap(doc.contents)) throw new Error(`${VALUES_FILE}: the document is not a map of values`);
  // Top-level keys that are not groups share the first table.
  const general: Section = { key: '', intro: '', rows: [] };
  const sections: Section[] = [general];
  for (const item of doc.contents.items) {
    const pair = item as Pair<Node, Node | null>;
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const intro = paragraphs(commentText(pair.key?.commentBefore));
    const value = pair.value;
    if (isMap(value) && !value.flow && value.items.length) {
      const node = child(schema, name, schema);
      const rows = rowsOf(value.items, `${name}.`, node, schema, valuesText, commentText(value.commentBefore));
      sections.push({ key: name, intro: intro.at(-1) ?? resolve(node, schema)?.description ?? '', rows });
    } else {
      general.rows.push(...rowsOf([pair], '', schema, schema, valuesText, ''));
    }
  }
  return sections.filter((section) => section.rows.length);
}

/** The page: a section per top-level group of values.yaml, each a table of its keys. */
export function renderValuesDoc(valuesText: string, schemaText: string): string {
  const schema = JSON.parse(schemaText) as Schema;
  const doc = parseDocument(valuesText);
  const first = isMap(doc.contents) ? (doc.contents.items[0] as Pair<Node, Node> | undefined) : undefined;
  // The file's own header: the paragraphs above the first key, except the one that belongs to the key.
  const preface = paragraphs(commentText(first?.key?.commentBefore)).slice(0, -1);
  const lines = [
    '# Chart values reference',
    '',
    '<!-- Generated by `npm run docs:values` (helm/scripts/values-doc.ts) from helm/airq/values.yaml and',
    '     helm/airq/values.schema.json. Do not edit: change the comments there and regenerate; a test fails when this',
    '     page is stale. -->',
    '',
    'Every value of the `airq` chart (`helm/airq`), its type and constraints from `values.schema.json`, its default from',
    '`values.yaml`, and what it does. Per-environment overrides live in `environments/<name>.yaml` under `values:`.',
    '',
    ...preface.flatMap((p) => [prose(p), '']),
  ];
  for (const section of sectionsOf(valuesText, schema)) {
    lines.push(section.key ? `## \`${section.key}\`` : '## Top-level values', '');
    if (section.intro) lines.push(prose(section.intro), '');
    lines.push('| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
    for (const row of section.rows) {
      lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function generatedValuesDoc(): string {
  return renderValuesDoc(readFileSync(VALUES_FILE, 'utf8'), readFileSync(SCHEMA_FILE, 'utf8'));
}

/** docs/values.md, generated from values.yaml and values.schema.json. */
export const valuesPage: GeneratedPage = {
  file: VALUES_DOC,
  from: 'helm/airq/values.yaml and values.schema.json',
  script: 'docs:values',
  render: generatedValuesDoc,
};

generatorMain(valuesPage, import.meta.url);
