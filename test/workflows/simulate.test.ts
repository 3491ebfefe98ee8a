// The harness's own semantics, on small in-memory workflows: GitHub's rules for needs, if: and status functions.
import { expect } from 'chai';
import { mergeGroup, pushBranch, pushTag, workflowDispatch } from '../../actions/test/support/events.ts';
import { simulate, type Scenario, type SecretsReading } from './support/simulate.ts';
import { loadWorkflow } from './support/workflows.ts';

async function ran(yaml: string, scenario: Scenario): Promise<string[]> {
  const path = '.github/workflows/semantics.yml';
  const overrides = new Map([[path, yaml]]);
  const report = await simulate([await loadWorkflow(path, overrides)], scenario, overrides);
  return report.ran;
}

const job = (extra: string) => `    runs-on: ubuntu-24.04\n${extra}    steps:\n      - run: "true"\n`;

describe('workflow simulation semantics (as on GitHub)', function () {
  const chain = [
    'on: push',
    'jobs:',
    '  a:',
    job(''),
    '  b:',
    job('    needs: a\n'),
    '  after-always:',
    job('    needs: b\n    if: always()\n'),
    '  after-failure:',
    job('    needs: b\n    if: failure()\n'),
    '  after-not-failed:',
    job('    needs: b\n    if: ${{ !failure() && !cancelled() }}\n'),
    '  after-default:',
    job('    needs: b\n'),
    '  after-expression-only:',
    job("    needs: b\n    if: github.ref == 'refs/heads/main'\n"),
  ].join('\n');

  it('skips the dependants of a failed job unless their if: asks for always() or failure()', async function () {
    expect(await ran(chain, { event: pushBranch('main'), failing: ['semantics.yml:a'] })).to.deep.equal([
      'semantics.yml:a',
      'semantics.yml:after-always',
      'semantics.yml:after-failure',
    ]);
  });

  it('runs a job after a skipped dependency only when its if: has a status function that allows it', async function () {
    const skippedB = chain.replace('    needs: a\n', "    needs: a\n    if: github.ref == 'refs/heads/other'\n");
    expect(await ran(skippedB, { event: pushBranch('main') })).to.deep.equal([
      'semantics.yml:a',
      'semantics.yml:after-always',
      'semantics.yml:after-not-failed',
    ]);
  });

  it('runs everything when everything succeeds, except what failure() guards', async function () {
    expect(await ran(chain, { event: pushBranch('main') })).to.deep.equal([
      'semantics.yml:a',
      'semantics.yml:after-always',
      'semantics.yml:after-default',
      'semantics.yml:after-expression-only',
      'semantics.yml:after-not-failed',
      'semantics.yml:b',
    ]);
  });

  it('applies branch and tag filters of on.push', async function () {
    const yaml = [
      'on:',
      '  push:',
      "    branches: ['release/**', '!release/**-wip']",
      '    tags: [v*]',
      'jobs:',
      '  a:',
      job(''),
    ].join('\n');
    expect(await ran(yaml, { event: pushBranch('release/1/x') })).to.deep.equal(['semantics.yml:a']);
    expect(await ran(yaml, { event: pushBranch('release/1-wip') })).to.deep.equal([]);
    expect(await ran(yaml, { event: pushTag('v9') })).to.deep.equal(['semantics.yml:a']);
    expect(await ran(yaml, { event: pushTag('x9') })).to.deep.equal([]);
  });

  it("applies the base-branch filter of on.merge_group to the queue's base ref", async function () {
    const yaml = [
      'on:',
      '  merge_group:',
      '    branches: [staging]',
      'jobs:',
      '  a:',
      job("    if: startsWith(github.ref, 'refs/heads/gh-readonly-queue/staging/')\n"),
    ].join('\n');
    expect(await ran(yaml, { event: mergeGroup({ base: 'staging' }) })).to.deep.equal(['semantics.yml:a']);
    expect(await ran(yaml, { event: mergeGroup({ base: 'master' }) })).to.deep.equal([]);
  });

  it('evaluates the environment of a job from the dispatch inputs', async function () {
    const yaml = [
      'on:',
      '  workflow_dispatch:',
      '    inputs:',
      '      target: { type: choice, options: [one, two], required: true }',
      'jobs:',
      '  a:',
      job('    environment:\n      name: env-${{ inputs.target }}\n      url: https://${{ inputs.target }}.example\n'),
    ].join('\n');
    expect(
      await ran(yaml, { event: workflowDispatch('main', { target: 'two' }), workflow: 'semantics.yml' }),
    ).to.deep.equal(['semantics.yml:a → env-two']);
    let refused: Error | undefined;
    await ran(yaml, { event: workflowDispatch('main', { target: 'three' }), workflow: 'semantics.yml' }).catch(
      (error: Error) => (refused = error),
    );
    expect(refused?.message).to.match(/dispatch input "target": "three" is not one of \["one","two"\]/);
  });

  describe('which secrets a job can read', function () {
    const callee = [
      'on:',
      '  workflow_call:',
      '    secrets:',
      '      KUBECONFIG: { required: false }',
      'jobs:',
      '  deploy:',
      '    runs-on: ubuntu-24.04',
      '    environment: { name: staging, url: https://x.example }',
      '    steps:',
      '      - id: deploy',
      '        uses: ./actions/helm-deploy',
      '        with:',
      '          kubeconfig: ${{ secrets.KUBECONFIG }}',
      '',
    ].join('\n');
    const caller = (secrets: string) =>
      [
        'on: push',
        'jobs:',
        '  call:',
        '    uses: ./.github/workflows/callee.yml',
        ...(secrets ? [`    secrets:${secrets}`] : []),
        '',
      ].join('\n');

    async function failures(callerYaml: string, reading: SecretsReading): Promise<string[]> {
      const overrides = new Map([
        ['.github/workflows/semantics.yml', callerYaml],
        ['.github/workflows/callee.yml', callee],
      ]);
      const report = await simulate(
        [await loadWorkflow('.github/workflows/semantics.yml', overrides)],
        { event: pushBranch('main'), secretsReading: reading },
        overrides,
      );
      return report.jobs.filter((run) => run.failureReason).map((run) => `${run.key}: ${run.failureReason ?? ''}`);
    }

    it("gives a called workflow's environment-bound job its environment's secrets, as GitHub's docs say", async function () {
      expect(await failures(caller(''), 'documented')).to.deep.equal([]);
    });

    it('leaves them empty without secrets: inherit where actions/runner#4453 applies, failing the job that needs them', async function () {
      expect(await failures(caller(''), 'runner-4453')).to.deep.equal([
        'semantics.yml:call/deploy: reads a secret that is empty in this job: deploy: secrets.KUBECONFIG',
      ]);
      expect(await failures(caller(' inherit'), 'runner-4453')).to.deep.equal([]);
    });

    it('passes explicitly only what the caller itself can read: the repository has no KUBECONFIG', async function () {
      expect(await failures(caller('\n      KUBECONFIG: ${{ secrets.KUBECONFIG }}'), 'runner-4453')).to.deep.equal([
        'semantics.yml:call/deploy: reads a secret that is empty in this job: deploy: secrets.KUBECONFIG',
      ]);
    });

    it('fails a job bound to no environment that reads an environment secret', async function () {
      const yaml = [
        'on: push',
        'jobs:',
        '  a:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - id: deploy',
        '        run: deploy',
        '        env:',
        '          K: ${{ secrets.KUBECONFIG }}',
        '',
      ].join('\n');
      const overrides = new Map([['.github/workflows/semantics.yml', yaml]]);
      const report = await simulate(
        [await loadWorkflow('.github/workflows/semantics.yml', overrides)],
        { event: pushBranch('main') },
        overrides,
      );
      expect(report.jobs.map((run) => [run.result, run.failureReason])).to.deep.equal([
        ['failure', 'reads a secret that is empty in this job: deploy: secrets.KUBECONFIG'],
      ]);
    });
  });
});
