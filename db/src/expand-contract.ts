/**
 * The expand/contract rule for migrations. A rollback runs the previous release's code on the schema the newer
 * release migrated to (migrations only go forward), so a migration must leave everything the previous release reads
 * and writes working: it may add (tables, nullable columns or columns with a default, indexes) and relax (drop a
 * NOT NULL, a default or a constraint), but dropping, renaming or retyping something, or adding a NOT NULL column
 * without a default, is a contract step. A contract step ships in a later release than the expand step that made it
 * safe, and says so in a header line `-- contract of NNN: <why the previous release no longer needs it>`, NNN being
 * that earlier expand migration.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const BREAKING: Array<[RegExp, string]> = [
  [
    /\bDROP\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|FUNCTION|TYPE|SCHEMA|SEQUENCE)\b/gi,
    'drops what the previous release may read',
  ],
  [
    /\bALTER\s+TABLE\b[^;]*?\bDROP\s+(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?\w+/gi,
    'drops a column the previous release may read',
  ],
  [/\bRENAME\b/gi, 'renames what the previous release refers to by name'],
  [/\bALTER\s+COLUMN\s+\w+\s+(?:SET\s+DATA\s+)?TYPE\b/gi, 'changes a column type the previous release reads'],
  [/\bALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL\b/gi, 'makes a column NOT NULL the previous release may leave empty'],
  [
    /\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\w+\s+[^,;]*?\bNOT\s+NULL\b(?![^,;]*\bDEFAULT\b)[^,;]*/gi,
    'adds a NOT NULL column without a default, which the previous release does not write',
  ],
];

const MARKER = /^--\s*contract of (\d{3,}):\s*\S/m;

/** SQL with comments and string literals blanked out (same length and line breaks, so positions stay right). */
function code(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'/g, (match) => match.replace(/[^\n]/g, ' '));
}

/** Every breach of the rule in the migrations of `dir`, as `file:line: what; how to fix` ([] when none). */
export function expandContractProblems(dir: string): string[] {
  const files = readdirSync(dir)
    .filter((file) => /^\d{3,}_.*\.sql$/.test(file))
    .sort();
  const versions = new Set(files.map((file) => Number(file.slice(0, file.indexOf('_')))));
  const problems: string[] = [];
  for (const file of files) {
    const where = path.join(dir, file);
    const version = Number(file.slice(0, file.indexOf('_')));
    const sql = readFileSync(where, 'utf8');
    const marker = MARKER.exec(sql);
    if (marker) {
      const expand = Number(marker[1]);
      if (expand >= version || !versions.has(expand)) {
        problems.push(
          `${where}: "-- contract of ${marker[1]}" must name an earlier migration of ${dir} (the expand step this contracts)`,
        );
      }
      continue;
    }
    const text = code(sql);
    for (const [pattern, what] of BREAKING) {
      for (const match of text.matchAll(pattern)) {
        const line = text.slice(0, match.index).split('\n').length;
        problems.push(
          `${where}:${line}: "${match[0].replace(/\s+/g, ' ').trim()}" ${what}, and a rollback runs the previous release on this schema. ` +
            'Expand now (add, copy, write both), and contract in a later release with a header line "-- contract of NNN: <why nothing reads it any more>"',
        );
      }
    }
  }
  return problems;
}
