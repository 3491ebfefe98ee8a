/**
 * The pipeline's security rules, as checks over a workflow file's text. Each problem names the file, the place and
 * the fix, so a future edit that breaks a rule fails CI with a message saying what to do.
 */
import YAML from 'yaml';
import { expressionsIn } from './expressions.ts';
import type { RawJob, RawWorkflow } from './workflows.ts';

/** Write scopes a job may ask for, and why. */
const ALLOWED_WRITES: Record<string, string> = {
  deployments: 'recording GitHub Deployments from an environment-bound job',
  packages: 'publishing the image to GHCR',
  'id-token': 'OIDC federation to a cloud',
  'pull-requests': 'the deploy plan comment',
};

const PINNED = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}$/;

function permissionProblems(where: string, permissions: unknown, allowWrites: boolean): string[] {
  if (permissions === undefined)
    return [
      `${where}: no permissions declared; add "permissions:" with only what it needs (top level: permissions: {})`,
    ];
  if (permissions === 'read-all' || permissions === null) return [];
  if (permissions === 'write-all') return [`${where}: permissions: write-all; grant single scopes per job instead`];
  if (typeof permissions !== 'object')
    return [`${where}: permissions "${String(permissions)}" is not understood; use a mapping of scopes`];
  const problems: string[] = [];
  for (const [scope, level] of Object.entries(permissions as Record<string, string>)) {
    if (level !== 'write') continue;
    if (!allowWrites)
      problems.push(`${where}: grants ${scope}: write at the top level; move it to the job that needs it`);
    else if (!(scope in ALLOWED_WRITES))
      problems.push(
        `${where}: grants ${scope}: write, which no job of this pipeline needs; allowed: ${Object.keys(ALLOWED_WRITES).join(', ')}`,
      );
  }
  return problems;
}

function isEnvironmentBound(job: RawJob): boolean {
  return job.environment !== undefined;
}

/** Every problem with one workflow file; [] when it follows every rule. */
export function securityProblems(file: string, content: string): string[] {
  const raw = YAML.parse(content) as RawWorkflow;
  const problems: string[] = [];
  const events =
    typeof raw.on === 'string'
      ? [raw.on]
      : Array.isArray(raw.on)
        ? (raw.on as string[])
        : Object.keys((raw.on as object) ?? {});
  for (const event of ['pull_request_target', 'workflow_run']) {
    if (events.includes(event))
      problems.push(`${file}: on.${event} runs untrusted code with a privileged token; use pull_request`);
  }

  problems.push(...permissionProblems(`${file}: top level`, raw.permissions, false));

  // Third-party actions: a full commit SHA and the version it is, in a comment on the same line.
  content.split('\n').forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*([^\s#]+)\s*(#.*)?$/.exec(line);
    if (!match) return;
    const [, ref = '', comment] = match;
    if (ref.startsWith('./') || ref.startsWith('docker://')) return;
    if (!PINNED.test(ref))
      problems.push(
        `${file}:${index + 1}: ${ref} is not pinned to a full 40-character commit SHA; use owner/repo@<sha> # vX.Y.Z`,
      );
    else if (!comment || !/#\s*v\d+\.\d+\.\d+/.test(comment))
      problems.push(`${file}:${index + 1}: ${ref} has no "# vX.Y.Z" comment naming the pinned version`);
  });

  for (const [jobId, job] of Object.entries(raw.jobs ?? {})) {
    const where = `${file}: jobs.${jobId}`;
    problems.push(...permissionProblems(where, job.permissions, true));
    const perms = (job.permissions ?? {}) as Record<string, string>;
    const callsEnvironmentBoundWorkflow = typeof job.uses === 'string' && job.uses.startsWith('./');
    if (perms.deployments === 'write' && !isEnvironmentBound(job) && !callsEnvironmentBoundWorkflow) {
      problems.push(
        `${where}: deployments: write in a job bound to no environment; bind it with environment: { name, url }`,
      );
    }

    // `secrets: inherit` to a local workflow is allowed (its jobs that read secrets must be environment-bound, checked
    // when that file is); naming secrets would hand repository-scope values to the callee.
    if (job.secrets !== undefined && !(job.secrets === 'inherit' && callsEnvironmentBoundWorkflow)) {
      problems.push(
        `${where}: passes secrets to ${job.uses}; keep credentials as environment secrets of the called workflow's environment-bound job (secrets: inherit to a local workflow is allowed)`,
      );
    }
    const jobText = JSON.stringify(job);
    if (/\bsecrets\./.test(jobText) && !isEnvironmentBound(job)) {
      problems.push(
        `${where}: reads secrets but is bound to no environment; move the step into a job with environment: (its protection rules then guard the secret)`,
      );
    }

    if (isEnvironmentBound(job)) {
      const environment = job.environment as { name?: string; url?: string } | string;
      if (typeof environment !== 'object' || !environment.name || !environment.url)
        problems.push(`${where}: environment must be { name, url } so the deployment links to the environment`);
      const concurrency = job.concurrency as { group?: string; 'cancel-in-progress'?: boolean } | undefined;
      if (!concurrency || typeof concurrency !== 'object' || !concurrency.group) {
        problems.push(
          `${where}: an environment-bound job needs concurrency: { group: deploy-<environment>, cancel-in-progress: false, queue: max }`,
        );
      } else {
        if (concurrency['cancel-in-progress'] !== false)
          problems.push(
            `${where}: concurrency must set cancel-in-progress: false; a cancelled helm upgrade leaves the release pending`,
          );
        if ((concurrency as { queue?: string }).queue !== 'max') {
          problems.push(
            `${where}: concurrency must set queue: max; with one pending slot a newer deploy cancels a waiting rollback`,
          );
        }
        const name = typeof environment === 'object' ? environment.name : environment;
        if (name && !concurrency.group.includes(name))
          problems.push(`${where}: concurrency group "${concurrency.group}" is not keyed by the environment "${name}"`);
      }
    }

    for (const [index, step] of (job.steps ?? []).entries()) {
      const stepWhere = `${where}.steps[${index}]`;
      if (typeof step.run === 'string') {
        const expressions = expressionsIn(step.run);
        if (expressions.length > 0) {
          problems.push(
            `${stepWhere}: run: interpolates \${{ ${expressions[0]} }}; pass it through env: and use "$NAME" in the script (script injection)`,
          );
        }
      }
      if (
        step.uses?.startsWith('actions/checkout@') &&
        (step.with as Record<string, unknown> | undefined)?.['persist-credentials'] !== false
      ) {
        problems.push(
          `${stepWhere}: actions/checkout keeps the token in .git/config; set with.persist-credentials: false`,
        );
      }
    }
  }
  return problems;
}
