import { getExecOutput } from '@actions/exec';

export interface GitResult {
  exitCode: number;
  stdout: string;
  /** Trimmed. */
  stderr: string;
}

/**
 * Runs `git -C <repository> <args>` quietly and never rejects on a non-zero exit: callers read `exitCode` (some
 * commands answer with it, like `merge-base --is-ancestor`). No credential prompt: a checkout without persisted
 * credentials fails fast instead of hanging the job.
 */
export async function git(repository: string, args: string[]): Promise<GitResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  env.GIT_TERMINAL_PROMPT = '0';
  const result = await getExecOutput('git', ['-C', repository, ...args], { ignoreReturnCode: true, silent: true, env });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr.trim() };
}
