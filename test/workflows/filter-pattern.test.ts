import { expect } from 'chai';
import { matchesPatterns, pullRequestMatches, pushMatches } from './support/filter-pattern.ts';

// The rows of GitHub's "Filter pattern cheat sheet" (workflow syntax docs), plus the names each must reject.
const cheatSheet: { patterns: string[]; matches: string[]; rejects: string[] }[] = [
  {
    patterns: ['feature/*'],
    matches: ['feature/my-branch', 'feature/your-branch'],
    rejects: ['feature/beta-a/my-branch', 'feature', 'features/x'],
  },
  {
    patterns: ['feature/**'],
    matches: ['feature/beta-a/my-branch', 'feature/your-branch', 'feature/mona/the/octocat'],
    rejects: ['feature', 'other/feature/x'],
  },
  {
    patterns: ['main', 'releases/mona-the-octocat'],
    matches: ['main', 'releases/mona-the-octocat'],
    rejects: ['mainline', 'releases/other', 'xmain'],
  },
  { patterns: ['*'], matches: ['main', 'releases'], rejects: ['releases/1.0', 'feature/x'] },
  { patterns: ['**'], matches: ['all/the/branches', 'every/tag', 'main'], rejects: [] },
  {
    patterns: ['*feature'],
    matches: ['mona-feature', 'feature', 'ver-10-feature'],
    rejects: ['feature-x', 'a/feature'],
  },
  { patterns: ['v2*'], matches: ['v2', 'v2.0', 'v2.9'], rejects: ['v1.0', 'v3', 'xv2'] },
  {
    patterns: ['v[12].[0-9]+.[0-9]+'],
    matches: ['v1.10.1', 'v2.0.0'],
    rejects: ['v3.0.0', 'v1.2', 'v1.2.3-rc.1', 'v1.x.0'],
  },
  { patterns: ['*'], matches: ['README.md', 'server.rb'], rejects: ['docs/README.md'] },
  { patterns: ['*.jsx?'], matches: ['page.js', 'page.jsx'], rejects: ['page.jsxx', 'src/page.js'] },
  { patterns: ['**'], matches: ['all/the/files.md'], rejects: [] },
  { patterns: ['*.js'], matches: ['app.js', 'index.js'], rejects: ['js/index.js', 'app.jsx'] },
  { patterns: ['**.js'], matches: ['index.js', 'js/index.js', 'src/js/app.js'], rejects: ['index.ts'] },
  { patterns: ['docs/*'], matches: ['docs/README.md', 'docs/file.txt'], rejects: ['docs/mona/octocat.txt'] },
  { patterns: ['docs/**'], matches: ['docs/README.md', 'docs/mona/octocat.txt'], rejects: ['README.md', 'src/docs/x'] },
  {
    patterns: ['docs/**/*.md'],
    matches: ['docs/README.md', 'docs/mona/hello-world.md', 'docs/a/markdown/file.md'],
    rejects: ['docs/file.txt'],
  },
  {
    patterns: ['**/docs/**'],
    matches: ['docs/hello.md', 'dir/docs/my-file.txt', 'space/docs/plan/space.doc'],
    rejects: ['documents/x'],
  },
  { patterns: ['**/README.md'], matches: ['README.md', 'js/README.md'], rejects: ['README.mdx'] },
  { patterns: ['**/*src/**'], matches: ['a/src/app.js', 'my-src/code/js/app.js'], rejects: ['source/app.js'] },
  { patterns: ['**/*-post.md'], matches: ['my-post.md', 'path/their-post.md'], rejects: ['post.md'] },
  {
    patterns: ['**/migrate-*.sql'],
    matches: ['migrate-10909.sql', 'db/migrate-v1.0.sql', 'db/sept/migrate-v1.sql'],
    rejects: ['db/migrate.sql'],
  },
  { patterns: ['*.md', '!README.md'], matches: ['hello.md'], rejects: ['README.md', 'docs/hello.md'] },
  {
    patterns: ['*.md', '!README.md', 'README*'],
    matches: ['hello.md', 'README.md', 'README.doc'],
    rejects: ['notes.txt'],
  },
  // Characters with no special meaning, and escapes.
  { patterns: ['release-1.0'], matches: ['release-1.0'], rejects: ['release-1x0'] },
  { patterns: ['v\\*'], matches: ['v*'], rejects: ['v1'] },
  // `+` and `?` repeat the single character before them.
  { patterns: ['ab+c'], matches: ['abc', 'abbbc'], rejects: ['ac'] },
  { patterns: ['colou?r'], matches: ['color', 'colour'], rejects: ['colouur'] },
  // The production tag filter of deploy.yml: it lets pre-releases through (the resolve action refuses them).
  {
    patterns: ['v*.*.*'],
    matches: ['v1.2.3', 'v10.20.30', 'v1.2.3-rc.1'],
    rejects: ['v1.2', 'release-1.0', '1.2.3', 'v1.2.3/x'],
  },
];

describe('filter patterns (GitHub cheat sheet)', () => {
  for (const row of cheatSheet) {
    const label = row.patterns.map((p) => `'${p}'`).join(', ');
    for (const name of row.matches) {
      it(`selects "${name}" with ${label}`, () => expect(matchesPatterns(row.patterns, name)).to.equal(true));
    }
    for (const name of row.rejects) {
      it(`does not select "${name}" with ${label}`, () => expect(matchesPatterns(row.patterns, name)).to.equal(false));
    }
  }

  it('lets the last matching pattern decide, so a negation can be overridden by a later positive', () => {
    expect(matchesPatterns(['releases/**', '!releases/**-alpha'], 'releases/1.0-alpha')).to.equal(false);
    expect(
      matchesPatterns(['releases/**', '!releases/**-alpha', 'releases/keep-alpha'], 'releases/keep-alpha'),
    ).to.equal(true);
    expect(matchesPatterns(['!releases/**-alpha', 'releases/**'], 'releases/1.0-alpha')).to.equal(true);
  });

  it('refuses a pattern with an unclosed set, naming the pattern', () => {
    expect(() => matchesPatterns(['v[12'], 'v1')).to.throw(/"v\[12": "\[" at 1 is never closed/);
  });
});

describe('push and pull_request filters', () => {
  it('runs a branch-only push filter for matching branches and never for tags', () => {
    const filter = { branches: ['main'] };
    expect(pushMatches(filter, 'refs/heads/main')).to.equal(true);
    expect(pushMatches(filter, 'refs/heads/other')).to.equal(false);
    expect(pushMatches(filter, 'refs/tags/main')).to.equal(false);
  });

  it('runs a tag-only push filter for matching tags and never for branches', () => {
    const filter = { tags: ['v*'] };
    expect(pushMatches(filter, 'refs/tags/v1')).to.equal(true);
    expect(pushMatches(filter, 'refs/heads/v1')).to.equal(false);
  });

  it('runs an unfiltered push for every branch and tag', () => {
    expect(pushMatches({}, 'refs/heads/anything')).to.equal(true);
    expect(pushMatches({}, 'refs/tags/anything')).to.equal(true);
  });

  it('excludes ignored branches and still ignores tags when only branches-ignore is set', () => {
    const filter = { 'branches-ignore': ['master', 'release/**'] };
    expect(pushMatches(filter, 'refs/heads/feature/x')).to.equal(true);
    expect(pushMatches(filter, 'refs/heads/release/1/2')).to.equal(false);
    expect(pushMatches(filter, 'refs/tags/v1.2.3')).to.equal(false);
  });

  it('requires a changed file to pass the paths filter as well as the branch filter', () => {
    const filter = { branches: ['main'], paths: ['api/**', '!api/**/*.md'] };
    expect(pushMatches(filter, 'refs/heads/main', ['api/src/app.ts'])).to.equal(true);
    expect(pushMatches(filter, 'refs/heads/main', ['api/README.md'])).to.equal(false);
    expect(pushMatches(filter, 'refs/heads/main', ['README.md', 'api/README.md'])).to.equal(false);
    expect(pushMatches({ 'paths-ignore': ['docs/**'] }, 'refs/heads/x', ['docs/a.md'])).to.equal(false);
    expect(pushMatches({ 'paths-ignore': ['docs/**'] }, 'refs/heads/x', ['docs/a.md', 'src/a.ts'])).to.equal(true);
  });

  it('matches a pull request by its base branch and the default activity types', () => {
    const filter = { branches: ['development', 'staging', 'master'] };
    expect(pullRequestMatches(filter, 'staging', 'opened')).to.equal(true);
    expect(pullRequestMatches(filter, 'feature/x', 'opened')).to.equal(false);
    expect(pullRequestMatches(filter, 'staging', 'closed')).to.equal(false);
    expect(pullRequestMatches({ ...filter, types: ['closed'] }, 'staging', 'closed')).to.equal(true);
  });
});
