import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** A path inside the repository, e.g. `fromRepo('docs', 'values.md')`. */
export function fromRepo(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}

/**
 * A page of `docs/` that a script generates from the sources it documents, whole or between markers. Each generator
 * describes its page with one of these; writing it, `--check` and the staleness tests are shared.
 */
export interface GeneratedPage {
  /** Absolute path of the page. */
  file: string;
  /** The sources, as a staleness message names them, e.g. `actions/*\/action.yml`. */
  from: string;
  /** The npm script that rewrites the page, e.g. `docs:actions`. */
  script: string;
  /** The page as its sources generate it, given what the page holds now (undefined when it does not exist). */
  render(current: string | undefined): string;
}

/** The page's path as messages show it: relative to the repository when inside it. */
function shown(page: GeneratedPage): string {
  const relative = path.relative(REPO_ROOT, page.file);
  return relative && !relative.startsWith('..') ? relative : page.file;
}

function current(page: GeneratedPage): string | undefined {
  return existsSync(page.file) ? readFileSync(page.file, 'utf8') : undefined;
}

/** Why the page is not what its sources generate, naming its first stale line and the fix; undefined when current. */
export function staleness(page: GeneratedPage): string | undefined {
  const fix = `run \`npm run ${page.script}\` and commit it`;
  const text = current(page);
  if (text === undefined) return `${shown(page)} does not exist; ${fix}`;
  const fresh = page.render(text);
  if (fresh === text) return undefined;
  const have = text.split('\n');
  const want = fresh.split('\n');
  const line = have.findIndex((row, i) => row !== want[i]);
  return `${shown(page)}:${line === -1 ? have.length : line + 1} differs from what ${page.from} generate; ${fix}`;
}

/** Rewrites the page from its sources. */
export function writePage(page: GeneratedPage): void {
  const text = page.render(current(page));
  mkdirSync(path.dirname(page.file), { recursive: true });
  writeFileSync(page.file, text);
}

/**
 * The command line of a generator, when `moduleUrl` is the script node was started with: writes the page, or with
 * `--check` exits 1 with the staleness message when the page is not current.
 */
export function generatorMain(page: GeneratedPage, moduleUrl: string): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  if (process.argv.includes('--check')) {
    const problem = staleness(page);
    if (problem) {
      console.error(problem);
      process.exitCode = 1;
    } else console.log(`${shown(page)} is up to date`);
    return;
  }
  writePage(page);
  console.log(`wrote ${shown(page)}`);
}
