import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../support/repo-root.ts';

export { REPO_ROOT };

/** The README is a front door a newcomer reads in five minutes; the manual lives in docs/. */
export const README_MAX_LINES = 150;

/** README.md and every page of docs/, as repository-relative paths. */
export function documentationFiles(root = REPO_ROOT): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces turned into hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFencedBlocks(markdown).split('\n')) {
    const match = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match) continue;
    const base = headingAnchor(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Blanks fenced code blocks (keeping line numbers), so their contents are neither headings nor links. */
function withoutFencedBlocks(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

function topLevelDirectories(root: string): string[] {
  return readdirSync(root).filter(
    (name) =>
      !['node_modules', '.git', '.data', 'coverage'].includes(name) && statSync(path.join(root, name)).isDirectory(),
  );
}

/**
 * Words that name a repository path: they start with a top-level directory and carry no placeholder (`<name>`,
 * globs, `${VAR}`, `…`). A span holding ": " is a message (`environments/qa.yaml: pipeline.namespace: …`), whose
 * paths are examples, and is left alone.
 */
function repositoryPathsIn(text: string, directories: string[]): string[] {
  const paths: string[] = [];
  for (const raw of text.split(/\s+/)) {
    const word = raw
      .replace(/^[("'[]+/, '')
      .replace(/[)"',.;\]]+$/, '')
      .replace(/:$/, '');
    if (!directories.some((dir) => word.startsWith(`${dir}/`))) continue;
    if (/[<>*{}$…|~]/.test(word)) continue;
    paths.push(word.replace(/\/$/, ''));
  }
  return paths;
}

/**
 * Every broken reference of one documentation file: a relative link to a file that does not exist, a link to a
 * heading its target lacks, and a repository path named in code (inline or fenced) that does not exist.
 * Each problem names the file and line.
 */
export function referenceProblems(file: string, markdown: string, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const directories = topLevelDirectories(root);
  const here = path.dirname(path.join(root, file));
  const prose = withoutFencedBlocks(markdown).split('\n');
  const lines = markdown.split('\n');

  prose.forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    const withoutCode = line.replace(/`[^`]*`/g, (span) => (span.includes('](') ? span : ''));
    for (const match of withoutCode.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = pathPart === '' ? path.join(root, file) : path.resolve(here, decodeURIComponent(pathPart));
      if (!existsSync(resolved)) {
        problems.push(`${where}: link ${target}: ${path.relative(root, resolved)} does not exist`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md')) {
        const anchors = anchorsOf(readFileSync(resolved, 'utf8'));
        if (!anchors.has(anchor)) {
          problems.push(`${where}: link ${target}: ${path.relative(root, resolved)} has no heading "#${anchor}"`);
        }
      }
    }
  });

  let fenced = false;
  lines.forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return;
    }
    const spans = fenced ? [line] : [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    for (const span of spans) {
      if (!fenced && span.includes(': ')) continue;
      for (const named of repositoryPathsIn(fenced ? span.replace(/#.*$/, '') : span, directories)) {
        if (!existsSync(path.join(root, named))) problems.push(`${where}: ${named} does not exist in the repository`);
      }
    }
  });
  return problems;
}
