import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SHA, mergeGroup, pushBranch } from '../../actions/test/support/events.ts';
import { loadEnvironments } from '../../actions/src/lib/environments.ts';
import { checkRow, rows, type Row } from './scenarios.ts';
import { simulate } from './support/simulate.ts';
import { loadWorkflows, type LoadedWorkflow } from './support/workflows.ts';
import { REPO_ROOT } from '../support/repo-root.ts';

describe('pipeline routing: which event runs which jobs, in which environment', function () {
  let workflows: LoadedWorkflow[];

  before(async function () {
    workflows = await loadWorkflows();
  });

  for (const row of rows) {
    it(row.name, async function () {
      await checkRow(row, workflows);
    });
  }

  // GitHub's docs: a called workflow's job bound to an environment reads that environment's secrets. actions/runner#4453:
  // they resolve empty unless the caller passes `secrets: inherit`. The pipeline must deploy under either reading.
  for (const row of rows.filter((candidate) => candidate.scenario.event.eventName !== 'pull_request')) {
    it(`${row.name} — also where a called workflow gets environment secrets only through secrets: inherit (actions/runner#4453)`, async function () {
      await checkRow(row, workflows, undefined, 'runner-4453');
    });
  }

  it('gives every deploy and rollback job an environment from the registry and a URL', async function () {
    const environments = ['development', 'staging', 'production'];
    for (const row of rows) {
      const report = await checkRow(row, workflows);
      for (const job of report.jobs.filter((run) => run.environment)) {
        expect(environments, `${row.name}: ${job.key}`).to.include(job.environment);
        expect(job.environmentUrl, `${row.name}: ${job.key} has no environment url`).to.match(/^https:\/\//);
      }
    }
  });
});

/** Applies a text edit to one workflow file in memory, failing if the edit does not apply. */
function mutate(file: string, from: string | RegExp, to: string): Map<string, string> {
  const relative = `.github/workflows/${file}`;
  const original = readFileSync(path.join(REPO_ROOT, relative), 'utf8');
  const edited = original.replace(from, to);
  if (edited === original) throw new Error(`mutation of ${file} did not apply: ${String(from)} not found`);
  return new Map([[relative, edited]]);
}

async function failsWith(row: Row, overrides: Map<string, string>): Promise<string> {
  const workflows = await loadWorkflows(overrides);
  try {
    await checkRow(row, workflows, overrides);
  } catch (error) {
    // Only a failed expectation counts: a crash of the harness would prove nothing about the routing.
    if ((error as Error).name !== 'AssertionError') throw error;
    return (error as Error).message;
  }
  throw new Error(`the mutated workflows still pass "${row.name}": the routing tests would not notice this change`);
}

function row(name: string): Row {
  const found = rows.find((candidate) => candidate.name.startsWith(name));
  if (!found) throw new Error(`no scenario row starting with "${name}"`);
  return found;
}

describe('the release gate and CI agree on the checks a release needs', function () {
  let workflows: LoadedWorkflow[];
  before(async function () {
    workflows = await loadWorkflows();
  });

  const ciCheckNames = (report: Awaited<ReturnType<typeof simulate>>) =>
    report.jobs
      .filter((run) => run.key.startsWith('ci.yml:') && run.result === 'success')
      .map((run) => run.name ?? '')
      .sort();

  it('requires on a release commit exactly the check runs CI reports on a push to master', async function () {
    const required = loadEnvironments(path.join(REPO_ROOT, 'environments')).get('production').pipeline.requiredChecks;
    expect(required.length, 'environments/production.yaml pipeline.requiredChecks').to.be.greaterThan(0);
    expect(ciCheckNames(await simulate(workflows, { event: pushBranch('master') }))).to.deep.equal(
      [...required].sort(),
    );
  });

  it('runs the same required checks in the merge queue, so a queued merge cannot land without them', async function () {
    const required = loadEnvironments(path.join(REPO_ROOT, 'environments')).get('production').pipeline.requiredChecks;
    expect(ciCheckNames(await simulate(workflows, { event: mergeGroup({ base: 'master' }) }))).to.include.members(
      required,
    );
  });
});

describe('build once, deploy by digest', function () {
  let workflows: LoadedWorkflow[];
  before(async function () {
    workflows = await loadWorkflows();
  });

  for (const [what, event] of [
    ['a push to development', pushBranch('development')],
    ['a push to master', pushBranch('master')],
  ] as const) {
    it(`builds the image once on ${what}, smoke-runs that image and pushes exactly it, recording its digest`, async function () {
      const report = await simulate(workflows, { event });
      const image = report.jobs.find((run) => run.key === 'deploy.yml:image')!;
      const ran = image.steps.filter((step) => step.ran);
      const builds = ran.filter((step) => step.uses.startsWith('docker/build-push-action@'));
      expect(builds, 'one image build per run').to.have.length(1);
      expect(builds[0]!.with, 'the build loads the image for the smoke run and pushes nothing itself').to.include({
        load: true,
        push: false,
      });
      expect(String(builds[0]!.with.labels)).to.include(`org.opencontainers.image.revision=${DEFAULT_SHA}`);
      const order = ran.map((step) => step.id);
      const smoke = ran.find((step) => step.id === 'smoke');
      expect(smoke, 'the container smoke run').to.not.equal(undefined);
      const push = ran.find((step) => step.id === 'push')!;
      expect(push.env.IMAGE, 'the pushed image is the one built and smoke-run')
        .to.equal(builds[0]!.with.tags)
        .and.to.equal(smoke!.env.IMAGE);
      expect(order.indexOf(builds[0]!.id)).to.be.lessThan(order.indexOf(smoke!.id));
      expect(order.indexOf(smoke!.id)).to.be.lessThan(order.indexOf('push'));
      expect(image.outputs.digest).to.equal('<digest.digest>');
    });
  }
});

describe('pipeline routing tests bite: a changed mapping breaks a scenario', function () {
  it('notices when pushes to master stop running CI (the release gate would find no checks)', async function () {
    await failsWith(
      row('a push to master'),
      mutate('ci.yml', "branches: ['**', '!gh-readonly-queue/**']", 'branches-ignore: [development, staging, master]'),
    );
  });

  it('notices when the merge queue stops running CI', async function () {
    await failsWith(
      row('the merge queue'),
      mutate('ci.yml', / {2}merge_group:\n {4}types: \[checks_requested\]\n/, ''),
    );
  });

  it('notices when the production deploy loses checks: read (the gate could not read the check runs)', async function () {
    await failsWith(row('a release tag v1.2.3'), mutate('deploy.yml', '      checks: read\n', ''));
  });

  it('notices when staging is dropped from the deploy branches', async function () {
    const message = await failsWith(
      row('a push to staging'),
      mutate('deploy.yml', 'branches: [development, staging, master]', 'branches: [development, master]'),
    );
    expect(message).to.contain('a push to staging');
  });

  it('notices when the release tag filter stops matching v1.2.3', async function () {
    await failsWith(row('a release tag v1.2.3'), mutate('deploy.yml', "tags: ['v*.*.*']", "tags: ['release-*']"));
  });

  it('notices when the deploy job stops waiting for the resolve decision', async function () {
    await failsWith(
      row('a push to master'),
      mutate('deploy.yml', "if: needs.resolve.outputs.deploy == 'true'", 'if: always()'),
    );
  });

  it('notices when the release gate is skipped for production', async function () {
    await failsWith(
      row('a release tag v1.2.3'),
      mutate('deploy-environment.yml', 'if: inputs.release-gate', 'if: false'),
    );
  });

  it('notices when the smoke test no longer waits for a successful deploy', async function () {
    await failsWith(
      row('a failed deploy'),
      mutate('deploy-environment.yml', /(- id: smoke\n)/, '$1        if: always()\n'),
    );
  });

  it('notices when the deploy stops passing secrets: inherit (KUBECONFIG would be empty under actions/runner#4453)', async function () {
    const overrides = mutate('deploy.yml', /\n {4}secrets: inherit\n/, '\n');
    const workflows = await loadWorkflows(overrides);
    let message = '';
    await checkRow(row('a push to staging'), workflows, overrides, 'runner-4453').catch(
      (error: Error) => (message = error.message),
    );
    expect(message).to.match(/secrets as runner-4453 reads them/);
    expect(message).to.include(
      'deploy.yml:deploy/deploy: reads a secret that is empty in this job: deploy: secrets.KUBECONFIG',
    );
  });

  it('notices when a failed smoke test no longer rolls the release back', async function () {
    await failsWith(
      row('a staging deploy whose smoke test fails'),
      mutate('deploy-environment.yml', "if: failure() && steps.smoke.outcome == 'failure'", 'if: false'),
    );
  });

  it('notices when pull requests into staging stop running CI', async function () {
    await failsWith(
      row('a pull request into staging'),
      mutate('ci.yml', 'branches: [development, staging, master]', 'branches: [development, master]'),
    );
  });

  it('notices when the rollback binds a different environment than the one chosen', async function () {
    await failsWith(
      row('a rollback dispatched for staging'),
      mutate('rollback.yml', 'name: ${{ needs.resolve.outputs.environment }}', 'name: production'),
    );
  });
});
