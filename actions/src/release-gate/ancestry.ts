import * as core from '@actions/core';
import { git } from '../lib/git.ts';
import type { GitHubClient } from '../lib/github.ts';
import { compareMeansOnBranch } from './rules.ts';

export interface AncestryResult {
  onBranch: boolean;
  /** How it was established, for the summary: `git merge-base` or `GitHub compare API`. */
  how: string;
}

/**
 * Whether `sha` is in `branch`'s history: `git merge-base --is-ancestor` against a freshly fetched
 * `origin/<branch>` in the checkout, falling back to the GitHub compare API when git cannot answer
 * (no checkout, no such commit locally, no network to the remote).
 */
export async function isOnBranch(
  sha: string,
  branch: string,
  options: { repositoryPath: string; github?: GitHubClient; owner: string; repo: string },
): Promise<AncestryResult> {
  let gitProblem: string;
  try {
    const shallow = await git(options.repositoryPath, ['rev-parse', '--is-shallow-repository']);
    if (shallow.exitCode !== 0) throw new Error(shallow.stderr || `${options.repositoryPath} is not a git repository`);
    // A shallow checkout lacks the history merge-base needs; unshallow while fetching the branch.
    const deepen = shallow.stdout.trim() === 'true' ? ['--unshallow'] : [];
    const fetch = await git(options.repositoryPath, [
      'fetch',
      '--no-tags',
      ...deepen,
      'origin',
      `+refs/heads/${branch}:refs/remotes/origin/${branch}`,
    ]);
    if (fetch.exitCode !== 0) throw new Error(`git fetch origin ${branch}: ${fetch.stderr}`);
    const ancestor = await git(options.repositoryPath, [
      'merge-base',
      '--is-ancestor',
      sha,
      `refs/remotes/origin/${branch}`,
    ]);
    if (ancestor.exitCode === 0 || ancestor.exitCode === 1) {
      return { onBranch: ancestor.exitCode === 0, how: 'git merge-base --is-ancestor' };
    }
    throw new Error(`git merge-base: ${ancestor.stderr}`);
  } catch (error) {
    gitProblem = (error as Error).message;
  }
  if (!options.github) {
    throw new Error(
      `cannot tell whether ${sha.slice(0, 12)} is on ${branch}: git could not (${gitProblem}) and no github-token was given for the compare API; ` +
        'check out the repository (actions/checkout) or pass github-token',
    );
  }
  core.info(`git could not establish ancestry (${gitProblem}); asking the GitHub compare API`);
  const { data } = await options.github.rest.repos.compareCommitsWithBasehead({
    owner: options.owner,
    repo: options.repo,
    basehead: `${sha}...${branch}`,
    per_page: 1,
  });
  return {
    onBranch: compareMeansOnBranch(data.status),
    how: `GitHub compare API: ${branch} is ${data.status} of the commit`,
  };
}
