// The deployment branch and tag rules documented for each GitHub environment (environments/<name>.yaml,
// pipeline.deploymentPolicy) admit every ref the routing table deploys or rolls back from, and refuse every other.
import { expect } from 'chai';
import { minimatch } from 'minimatch';
import path from 'node:path';
import { workflowDispatch } from '../../actions/test/support/events.ts';
import { loadEnvironments, type Environment } from '../../actions/src/lib/environments.ts';
import { checkTag } from '../../actions/src/release-gate/rules.ts';
import { rows } from './scenarios.ts';
import { simulate } from './support/simulate.ts';
import { loadWorkflows, type LoadedWorkflow } from './support/workflows.ts';
import { REPO_ROOT } from '../support/repo-root.ts';

type Policy = Environment['pipeline']['deploymentPolicy'];

/**
 * GitHub's check of a deployment branch or tag rule: the run's ref (branch or tag name) against the environment's
 * name patterns, File.fnmatch style (`*` stops at `/`, `**` crosses it).
 */
export function policyAdmits(policy: Policy, ref: string): boolean {
  const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
  const tag = /^refs\/tags\/(.+)$/.exec(ref)?.[1];
  if (branch !== undefined) return policy.branches.some((pattern) => minimatch(branch, pattern));
  if (tag !== undefined) return policy.tags.some((pattern) => minimatch(tag, pattern));
  return false;
}

const EXTRA_REFS = [
  'refs/heads/feature/x',
  'refs/heads/release/1.x',
  'refs/heads/gh-readonly-queue/master/pr-42-ba5eba11',
  'refs/tags/v1.2',
  'refs/tags/release-1.0',
  'refs/tags/v1.2.3-rc.1',
  'refs/tags/v1.2.3',
];

describe('environment deployment rules admit exactly what the pipeline needs', function () {
  let workflows: LoadedWorkflow[];
  const registry = loadEnvironments(path.join(REPO_ROOT, 'environments'));
  /** environment → refs that some scenario deploys or rolls back from. */
  const needed = new Map<string, Set<string>>();
  const refs = new Set<string>(EXTRA_REFS);

  before(async function () {
    workflows = await loadWorkflows();
    for (const row of rows) {
      refs.add(row.scenario.event.ref);
      const report = await simulate(workflows, row.scenario);
      for (const job of report.jobs.filter((run) => run.environment && run.result !== 'skipped')) {
        const set = needed.get(job.environment!) ?? new Set<string>();
        set.add(row.scenario.event.ref);
        needed.set(job.environment!, set);
      }
    }
  });

  it('admits the ref of every environment-bound job of every scenario', function () {
    const refused: string[] = [];
    for (const row of rows) {
      for (const environment of registry.names()) {
        if (!needed.get(environment)?.has(row.scenario.event.ref)) continue;
        if (!policyAdmits(registry.get(environment).pipeline.deploymentPolicy, row.scenario.event.ref))
          refused.push(`${environment} refuses ${row.scenario.event.ref} (${row.name})`);
      }
    }
    expect(refused).to.deep.equal([]);
    expect([...(needed.get('production') ?? [])].sort()).to.deep.equal(['refs/heads/master', 'refs/tags/v1.2.3']);
  });

  it('refuses every other ref; production admits only release tags the release gate then judges', function () {
    const admitted: string[] = [];
    for (const environment of registry.names()) {
      for (const ref of refs) {
        if (needed.get(environment)?.has(ref)) continue;
        if (!policyAdmits(registry.get(environment).pipeline.deploymentPolicy, ref)) continue;
        // fnmatch cannot say "digits only": v*.*.* also admits v1.2.3-rc.1, which the release gate refuses.
        const tag = /^refs\/tags\/(.+)$/.exec(ref)?.[1];
        if (environment === 'production' && tag && checkTag(tag, 'production').verdict.outcome === 'refused') continue;
        admitted.push(`${environment} admits ${ref}, which no scenario deploys from`);
      }
    }
    expect(admitted).to.deep.equal([]);
  });

  it('would block the rollback workflow with the old advice (production: tags v*.*.* only)', async function () {
    const tagsOnly: Policy = { branches: [], tags: ['v*.*.*'] };
    const report = await simulate(workflows, {
      event: workflowDispatch('master', { environment: 'production', revision: '', reason: 'a bad release' }),
      workflow: 'rollback.yml',
    });
    expect(report.jobs.find((run) => run.environment === 'production')?.key).to.equal('rollback.yml:rollback');
    expect(policyAdmits(tagsOnly, 'refs/heads/master')).to.equal(false);
    expect(policyAdmits(registry.get('production').pipeline.deploymentPolicy, 'refs/heads/master')).to.equal(true);
  });

  it('matches names as GitHub does: * stops at "/", ** crosses it, tags and branches are separate lists', function () {
    const policy: Policy = { branches: ['release/*', 'hotfix/**'], tags: ['v*'] };
    expect(policyAdmits(policy, 'refs/heads/release/1.x')).to.equal(true);
    expect(policyAdmits(policy, 'refs/heads/release/1.x/a')).to.equal(false);
    expect(policyAdmits(policy, 'refs/heads/hotfix/a/b')).to.equal(true);
    expect(policyAdmits(policy, 'refs/tags/release/1.x')).to.equal(false);
    expect(policyAdmits(policy, 'refs/heads/v1')).to.equal(false);
    expect(policyAdmits(policy, 'refs/tags/v1')).to.equal(true);
  });
});
