// The routing table: for each event, exactly which jobs run and in which environment. Shared by routing.test.ts
// (against the real workflows) and by the mutation tests (against edited in-memory copies, which must fail it).
import { expect } from 'chai';
import {
  DEFAULT_SHA,
  mergeGroup,
  pullRequest,
  pushBranch,
  pushTag,
  workflowDispatch,
} from '../../actions/test/support/events.ts';
import { simulate, type JobRun, type Report, type Scenario, type SecretsReading } from './support/simulate.ts';
import type { LoadedWorkflow, Overrides } from './support/workflows.ts';

export interface Row {
  name: string;
  scenario: Scenario;
  /** Every job that runs (`file:job`, with `→ environment` when bound to one), sorted. */
  ran: string[];
  check?: (report: Report) => void;
}

export const CI_JOBS = ['ci.yml:chart', 'ci.yml:image', 'ci.yml:verify', 'ci.yml:workflows'];
/** What a push to a deploy branch or a tag runs besides CI (CI runs on branch pushes, never on tags). */
const withCi = (jobs: string[]) => [...CI_JOBS, ...jobs].sort();
const PR_JOBS = [...CI_JOBS, 'ci.yml:plan', 'ci.yml:resolve'].sort();

export function job(report: Report, key: string): JobRun {
  const found = report.jobs.find((candidate) => candidate.key === key);
  if (!found) throw new Error(`no job ${key} in the report; jobs: ${report.jobs.map((j) => j.key).join(', ')}`);
  return found;
}

/** The `./actions/<name>` steps that ran in a job, in order. */
function actionSteps(report: Report, key: string): string[] {
  return job(report, key)
    .steps.filter((step) => step.ran && step.uses.startsWith('./actions/'))
    .map((step) => step.uses.slice('./actions/'.length));
}

function stepWith(report: Report, key: string, action: string): Record<string, unknown> {
  const step = job(report, key).steps.find((candidate) => candidate.uses === `./actions/${action}`);
  if (!step?.ran) throw new Error(`${action} did not run in ${key}`);
  return step.with;
}

function planTargets(environment: string) {
  return (report: Report) => {
    expect(
      job(report, 'ci.yml:resolve').outputs['target-environment'],
      'the environment the merge would reach',
    ).to.equal(environment);
    expect(actionSteps(report, 'ci.yml:plan')).to.deep.equal(['deploy-plan']);
    expect(
      report.jobs.filter((run) => run.environment),
      'no job of a pull request is bound to an environment',
    ).to.deep.equal([]);
  };
}

function branchDeploy(environment: string, url: string) {
  return (report: Report) => {
    const deployJob = 'deploy.yml:deploy/deploy';
    expect(
      actionSteps(report, deployJob),
      'no release gate outside production; the smoke test in the deploy job; no rollback after a passing smoke test',
    ).to.deep.equal(['helm-deploy', 'smoke-test']);
    expect(stepWith(report, deployJob, 'helm-deploy')).to.include({
      environment,
      'image-tag': DEFAULT_SHA,
      'image-digest': '<digest.digest>',
      'environment-url': url,
      kubeconfig: `<${environment} secret KUBECONFIG>`,
    });
    expect(job(report, deployJob).environmentUrl).to.equal(url);
    expect(stepWith(report, deployJob, 'smoke-test')).to.include({
      url,
      environment,
      'expected-version': `0.0.0-${environment}.g${DEFAULT_SHA.slice(0, 7)}`,
    });
  };
}

function rollback(environment: string, url: string) {
  return (report: Report) => {
    expect(stepWith(report, 'rollback.yml:rollback', 'helm-rollback')).to.include({
      environment,
      reason: 'a bad release',
      kubeconfig: `<${environment} secret KUBECONFIG>`,
    });
    expect(job(report, 'rollback.yml:rollback').environmentUrl).to.equal(url);
    expect(
      actionSteps(report, 'rollback.yml:rollback'),
      'the smoke test runs in the rollback job, under its lock',
    ).to.deep.equal(['helm-rollback', 'smoke-test']);
    expect(stepWith(report, 'rollback.yml:rollback', 'smoke-test')).to.include({
      url,
      environment,
      'expected-version': '<rollback.to-version>',
    });
  };
}

const urls = {
  development: 'https://airq-dev.example.com',
  staging: 'https://airq-staging.example.com',
  production: 'https://airq.example.com',
} as const;

const nothing = (report: Report) => expect(report.workflows).to.deep.equal([]);

export const rows: Row[] = [
  {
    name: 'a pull request into development runs CI and plans development, deploying nothing',
    scenario: { event: pullRequest({ base: 'development', head: 'feature/x' }) },
    ran: PR_JOBS,
    check: planTargets('development'),
  },
  {
    name: 'a pull request into staging runs CI and plans staging, deploying nothing',
    scenario: { event: pullRequest({ base: 'staging', head: 'development' }) },
    ran: PR_JOBS,
    check: planTargets('staging'),
  },
  {
    name: 'a pull request into master runs CI and plans production, deploying nothing',
    scenario: { event: pullRequest({ base: 'master', head: 'staging' }) },
    ran: PR_JOBS,
    check: planTargets('production'),
  },
  {
    name: 'a push to development deploys development and smoke-tests it',
    scenario: { event: pushBranch('development') },
    ran: withCi([
      'deploy.yml:deploy',
      'deploy.yml:deploy/deploy → development',
      'deploy.yml:image',
      'deploy.yml:resolve',
    ]),
    check: branchDeploy('development', urls.development),
  },
  {
    name: 'a push to staging deploys staging and smoke-tests it',
    scenario: { event: pushBranch('staging') },
    ran: withCi(['deploy.yml:deploy', 'deploy.yml:deploy/deploy → staging', 'deploy.yml:image', 'deploy.yml:resolve']),
    check: branchDeploy('staging', urls.staging),
  },
  {
    name: 'a push to master runs CI on the commit and builds and verifies the release candidate, deploying nothing',
    scenario: { event: pushBranch('master') },
    ran: withCi(['deploy.yml:image', 'deploy.yml:resolve']),
    check: (report) =>
      expect(
        job(report, 'deploy.yml:image')
          .steps.filter((s) => s.ran)
          .map((s) => s.id),
      ).to.include.members(['names', 'published']),
  },
  {
    name: 'a release tag v1.2.3 passes the release gate, then deploys 1.2.3 to production and smoke-tests it',
    scenario: { event: pushTag('v1.2.3') },
    ran: ['deploy.yml:deploy', 'deploy.yml:deploy/deploy → production', 'deploy.yml:image', 'deploy.yml:resolve'],
    check: (report) => {
      const deployJob = 'deploy.yml:deploy/deploy';
      expect(actionSteps(report, deployJob), 'the gate runs first, the smoke test last, in the same job').to.deep.equal(
        ['release-gate', 'helm-deploy', 'smoke-test'],
      );
      expect(stepWith(report, deployJob, 'release-gate')).to.include({
        environment: 'production',
        'require-checks': true,
        kubeconfig: '<production secret KUBECONFIG>',
      });
      expect(
        job(report, deployJob).permissions,
        'the gate reads the check runs and statuses of the tagged commit',
      ).to.include({ checks: 'read', statuses: 'read' });
      expect(stepWith(report, deployJob, 'helm-deploy')).to.include({
        environment: 'production',
        'image-tag': '1.2.3',
        'image-digest': '<digest.digest>',
        version: '1.2.3',
        kubeconfig: '<production secret KUBECONFIG>',
      });
      expect(job(report, deployJob).environmentUrl).to.equal(urls.production);
      // environment: production makes the smoke test expect all 5 of production's replicas (actions/test/smoke-test.test.ts).
      expect(stepWith(report, deployJob, 'smoke-test')).to.include({
        url: urls.production,
        environment: 'production',
        'expected-version': '1.2.3',
      });
    },
  },
  {
    name: 'a pre-release tag v1.2.3-rc.1 builds an image but deploys nothing',
    scenario: { event: pushTag('v1.2.3-rc.1') },
    ran: ['deploy.yml:image', 'deploy.yml:resolve'],
  },
  { name: 'a tag v1.2 triggers no workflow', scenario: { event: pushTag('v1.2') }, ran: [], check: nothing },
  {
    name: 'a tag release-1.0 triggers no workflow',
    scenario: { event: pushTag('release-1.0') },
    ran: [],
    check: nothing,
  },
  {
    name: 'a push to feature/x runs CI only and deploys nothing',
    scenario: { event: pushBranch('feature/x') },
    ran: CI_JOBS,
  },
  {
    name: 'the merge queue checking a group for master runs CI and deploys nothing',
    scenario: { event: mergeGroup({ base: 'master' }) },
    ran: CI_JOBS,
  },
  {
    name: "a push of the merge queue's temporary branch runs nothing (merge_group verifies it)",
    scenario: { event: pushBranch('gh-readonly-queue/master/pr-42-ba5eba11') },
    ran: [],
  },
  ...(['development', 'staging', 'production'] as const).map((environment) => ({
    name: `a rollback dispatched for ${environment} rolls back ${environment} and smoke-tests it`,
    scenario: {
      event: workflowDispatch('master', { environment, revision: '', reason: 'a bad release' }),
      workflow: 'rollback.yml',
    },
    ran: ['rollback.yml:resolve', `rollback.yml:rollback → ${environment}`],
    check: rollback(environment, urls[environment]),
  })),
  {
    name: 'a rollback to a given revision passes that revision to helm-rollback',
    scenario: {
      event: workflowDispatch('master', { environment: 'staging', revision: '7', reason: 'a bad release' }),
      workflow: 'rollback.yml',
    },
    ran: ['rollback.yml:resolve', 'rollback.yml:rollback → staging'],
    check: (report) => expect(stepWith(report, 'rollback.yml:rollback', 'helm-rollback')).to.include({ revision: '7' }),
  },
  {
    name: 'a release whose image build fails deploys nothing',
    scenario: { event: pushTag('v1.2.3'), failing: ['deploy.yml:image'] },
    ran: ['deploy.yml:image', 'deploy.yml:resolve'],
  },
  {
    name: 'a staging deploy whose smoke test fails is rolled back to the previous revision in the same job, its deployment marked failed',
    scenario: { event: pushBranch('staging'), failingSteps: ['deploy.yml:deploy/deploy#smoke'] },
    ran: withCi(['deploy.yml:deploy', 'deploy.yml:deploy/deploy → staging', 'deploy.yml:image', 'deploy.yml:resolve']),
    check: (report) => {
      const deployJob = 'deploy.yml:deploy/deploy';
      expect(job(report, deployJob).result, 'the deploy job still fails').to.equal('failure');
      expect(actionSteps(report, deployJob)).to.deep.equal(['helm-deploy', 'smoke-test', 'helm-rollback']);
      expect(stepWith(report, deployJob, 'helm-rollback')).to.include({
        environment: 'staging',
        revision: '<deploy.previous-revision>',
        'failed-deployment-id': '<deploy.deployment-id>',
        kubeconfig: '<staging secret KUBECONFIG>',
      });
      expect(String(stepWith(report, deployJob, 'helm-rollback').reason)).to.match(
        /^smoke test of revision <deploy\.revision> \(0\.0\.0-staging\.g[0-9a-f]{7}\) failed$/,
      );
    },
  },
  {
    name: 'a failed deploy is not smoke-tested and not rolled back by the workflow (helm-deploy already did)',
    scenario: { event: pushBranch('staging'), failingSteps: ['deploy.yml:deploy/deploy#deploy'] },
    ran: withCi(['deploy.yml:deploy', 'deploy.yml:deploy/deploy → staging', 'deploy.yml:image', 'deploy.yml:resolve']),
    check: (report) => expect(actionSteps(report, 'deploy.yml:deploy/deploy')).to.deep.equal(['helm-deploy']),
  },
  {
    name: 'a pull request from a fork is verified but gets no plan comment (its token cannot write)',
    scenario: { event: fork(pullRequest({ base: 'development', head: 'feature/x' })) },
    ran: [...CI_JOBS, 'ci.yml:resolve'].sort(),
  },
];

function fork(event: ReturnType<typeof pullRequest>): ReturnType<typeof pullRequest> {
  const payload = structuredClone(event.payload) as { pull_request: { head: { repo: { full_name: string } } } };
  payload.pull_request.head.repo.full_name = 'someone/airq';
  return { ...event, payload: payload as unknown as Record<string, unknown> };
}

/** Asserts one row against the given workflows. */
export async function checkRow(
  row: Row,
  workflows: readonly LoadedWorkflow[],
  overrides?: Overrides,
  secretsReading?: SecretsReading,
): Promise<Report> {
  const report = await simulate(
    workflows,
    { ...row.scenario, ...(secretsReading ? { secretsReading } : {}) },
    overrides,
  );
  expect(report.ran, row.name).to.deep.equal(row.ran);
  // A job fails on its own only where the scenario says so; a secret it cannot read is a failure of the design.
  const unexpected = report.jobs.filter((run) => run.failureReason).map((run) => `${run.key}: ${run.failureReason}`);
  if (unexpected.length > 0) {
    expect.fail(
      `${row.name}${secretsReading ? ` (secrets as ${secretsReading} reads them)` : ''}: ${unexpected.join('; ')}`,
    );
  }
  row.check?.(report);
  return report;
}
