import { execFileSync } from 'node:child_process';

/**
 * Runs git in `cwd` as a fixed test author, on a `master` default branch whatever the machine's configuration, and
 * returns its trimmed output; a failing command throws with git's stderr.
 */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Octo Cat', '-c', 'user.email=octocat@example.com', '-c', 'init.defaultBranch=master', ...args],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
}
