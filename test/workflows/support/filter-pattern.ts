/**
 * GitHub Actions filter patterns (branches, tags, paths), as documented in "Workflow syntax → Filter pattern cheat
 * sheet": `*` any characters but `/`, `**` any characters, `?` zero or one of the preceding character, `+` one or more
 * of the preceding character, `[]` one character of a set or range, `\` escapes the next character, and a leading `!`
 * negates. A name matches a list when the LAST pattern that matches it is positive.
 */

const cache = new Map<string, RegExp>();

/** The anchored regular expression of one pattern (without its `!`). */
export function patternToRegExp(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  // Each atom is a regex fragment that `?` or `+` may quantify.
  const atoms: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new Error(`filter pattern "${pattern}": a trailing "\\" escapes nothing`);
      atoms.push(escape(next));
    } else if (c === '*') {
      if (pattern[i + 1] === '*' && pattern[i + 2] === '/') {
        // `**/` is "any directories, or none": docs/**/*.md matches docs/README.md.
        atoms.push('(?:.*/)?');
        i += 2;
      } else if (pattern[i + 1] === '*') {
        atoms.push('.*');
        i++;
      } else {
        atoms.push('[^/]*');
      }
    } else if (c === '?' || c === '+') {
      const previous = atoms.pop();
      if (previous === undefined || previous.endsWith('*') || previous.endsWith(')?')) {
        throw new Error(`filter pattern "${pattern}": "${c}" at ${i} has no character before it to repeat`);
      }
      atoms.push(`(?:${previous})${c}`);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`filter pattern "${pattern}": "[" at ${i} is never closed with "]"`);
      const body = pattern.slice(i + 1, end).replace(/[\\\]^]/g, (m) => `\\${m}`);
      atoms.push(`[${body}]`);
      i = end;
    } else {
      atoms.push(escape(c));
    }
  }
  const regex = new RegExp(`^${atoms.join('')}$`);
  cache.set(pattern, regex);
  return regex;
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c;
}

/** Whether `name` is selected by a `branches:` / `tags:` / `paths:` list (negations processed in order). */
export function matchesPatterns(patterns: readonly string[], name: string): boolean {
  let selected = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (patternToRegExp(negated ? pattern.slice(1) : pattern).test(name)) selected = !negated;
  }
  return selected;
}

/** Whether `name` is excluded by a `branches-ignore:` / `tags-ignore:` / `paths-ignore:` list. */
export function matchesIgnore(patterns: readonly string[], name: string): boolean {
  return matchesPatterns(patterns, name);
}

export interface RefFilter {
  branches?: readonly string[];
  'branches-ignore'?: readonly string[];
  tags?: readonly string[];
  'tags-ignore'?: readonly string[];
  paths?: readonly string[];
  'paths-ignore'?: readonly string[];
}

/**
 * Whether a push of `ref` (refs/heads/... or refs/tags/...) changing `changedFiles` passes a push filter.
 * With branch filters only, tag pushes never match (and vice versa); with neither, every ref does.
 */
export function pushMatches(filter: RefFilter, ref: string, changedFiles: readonly string[] = []): boolean {
  const hasBranchFilter = filter.branches !== undefined || filter['branches-ignore'] !== undefined;
  const hasTagFilter = filter.tags !== undefined || filter['tags-ignore'] !== undefined;
  let refMatches: boolean;
  if (ref.startsWith('refs/heads/')) {
    const branch = ref.slice('refs/heads/'.length);
    if (!hasBranchFilter) refMatches = !hasTagFilter;
    else if (filter.branches) refMatches = matchesPatterns(filter.branches, branch);
    else refMatches = !matchesIgnore(filter['branches-ignore']!, branch);
  } else if (ref.startsWith('refs/tags/')) {
    const tag = ref.slice('refs/tags/'.length);
    if (!hasTagFilter) refMatches = !hasBranchFilter;
    else if (filter.tags) refMatches = matchesPatterns(filter.tags, tag);
    else refMatches = !matchesIgnore(filter['tags-ignore']!, tag);
  } else {
    throw new Error(`push ref "${ref}" is neither refs/heads/<branch> nor refs/tags/<tag>`);
  }
  return refMatches && pathsMatch(filter, changedFiles);
}

/** Whether a pull request into `baseBranch` changing `changedFiles` passes a pull_request filter. */
export function pullRequestMatches(
  filter: RefFilter & { types?: readonly string[] },
  baseBranch: string,
  action: string,
  changedFiles: readonly string[] = [],
): boolean {
  const types = filter.types ?? ['opened', 'synchronize', 'reopened'];
  if (!types.includes(action)) return false;
  let branchMatches = true;
  if (filter.branches) branchMatches = matchesPatterns(filter.branches, baseBranch);
  else if (filter['branches-ignore']) branchMatches = !matchesIgnore(filter['branches-ignore'], baseBranch);
  return branchMatches && pathsMatch(filter, changedFiles);
}

/** Path filters: some changed file must be selected by `paths` / not all ignored by `paths-ignore`. */
export function pathsMatch(filter: RefFilter, changedFiles: readonly string[]): boolean {
  if (filter.paths) return changedFiles.some((file) => matchesPatterns(filter.paths!, file));
  if (filter['paths-ignore']) return changedFiles.some((file) => !matchesIgnore(filter['paths-ignore']!, file));
  return true;
}
