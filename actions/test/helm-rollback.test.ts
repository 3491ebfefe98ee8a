import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HistoryEntry } from '../src/lib/helm.ts';
import { chooseRollbackTarget } from '../src/helm-rollback/target.ts';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { workflowDispatch } from './support/events.ts';
import { errors, runAction } from './support/run-action.ts';

const HISTORY_DIR = fileURLToPath(new URL('./fixtures/helm-history/', import.meta.url));

function history(name: string): HistoryEntry[] {
  return JSON.parse(readFileSync(path.join(HISTORY_DIR, `${name}.json`), 'utf8')) as HistoryEntry[];
}

const where = { release: 'airq', namespace: 'airq-staging' };

describe('helm-rollback', () => {
  describe('chooseRollbackTarget (from real helm history -o json output)', () => {
    const chosen: Array<[string, string, number | undefined, number, number]> = [
      // fixture, case, requested, current, target
      ['two-deployed', 'the revision before a healthy current one', undefined, 2, 1],
      [
        'auto-rolled-back',
        'past the revision an automatic rollback already restored, to the one before it',
        undefined,
        4,
        1,
      ],
      ['failed-current', 'the deployed revision when the newest one failed', undefined, 3, 2],
      ['mixed', 'the last superseded revision, past a pending and a failed one', undefined, 5, 3],
      ['mixed', 'an older superseded revision when asked for it', 1, 5, 1],
      ['auto-rolled-back', 'a superseded revision asked for by number', 1, 4, 1],
      ['chained-rollbacks', 'past every copy of what runs now, through chains of rollbacks', undefined, 6, 4],
    ];
    for (const [fixture, description, revision, current, target] of chosen) {
      it(`picks ${description} (${fixture}, revision ${revision ?? 'not given'} → ${target})`, () => {
        const choice = chooseRollbackTarget(history(fixture), { ...where, ...(revision ? { revision } : {}) });
        expect(choice.ok, JSON.stringify(choice)).to.equal(true);
        if (!choice.ok) return;
        expect(choice.current.revision).to.equal(current);
        expect(choice.target.revision).to.equal(target);
      });
    }

    const refused: Array<[string, HistoryEntry[] | undefined, number | undefined, RegExp]> = [
      [
        'a release that does not exist',
        undefined,
        undefined,
        /release "airq" not found in namespace "airq-staging".*helm list -n airq-staging/,
      ],
      ['a release whose history is empty', [], 2, /release "airq" not found/],
      [
        'a first install: nothing before it',
        history('first-install'),
        undefined,
        /nothing to roll back to: no revision before the current 1 \(deployed\)/,
      ],
      [
        'a revision that does not exist',
        history('two-deployed'),
        7,
        /revision 7 of release "airq" does not exist \(helm keeps revisions 1\.\.2\)/,
      ],
      ['the current revision', history('two-deployed'), 2, /revision 2 is the current revision/],
      [
        'a failed revision',
        history('auto-rolled-back'),
        3,
        /revision 3 of release "airq" was never successfully deployed \(failed: Upgrade "airq" failed: context deadline exceeded\)/,
      ],
      ['a pending revision', history('mixed'), 4, /revision 4 of release "airq" never finished \(pending-upgrade\)/],
      [
        'the revision an automatic rollback restored',
        history('auto-rolled-back'),
        2,
        /revision 2 of release "airq" runs what the current revision 4 already runs \(Rollback to 2\): rolling back to it would change nothing/,
      ],
      [
        'a revision the current one reproduces through a chain of rollbacks',
        history('chained-rollbacks'),
        1,
        /revision 1 .* runs what the current revision 6 already runs/,
      ],
      [
        'a release whose only good revisions run what runs now',
        history('auto-rolled-back').filter((e) => e.revision !== 1),
        undefined,
        /has nothing to roll back to/,
      ],
    ];
    for (const [description, entries, revision, message] of refused) {
      it(`refuses ${description}, saying how to see the history`, () => {
        const choice = chooseRollbackTarget(entries, { ...where, ...(revision ? { revision } : {}) });
        expect(choice.ok).to.equal(false);
        if (choice.ok) return;
        expect(choice.reason).to.match(message);
        if (entries?.length) expect(choice.reason).to.include('helm history airq -n airq-staging');
      });
    }
  });

  describe('the bundled action, with helm reading its in-memory release store', function () {
    this.timeout(120_000);
    let stub: GitHubApiStub;
    const { binDir } = kubeBinaries();

    before(async () => {
      stub = await startGitHubApiStub();
    });
    after(async () => {
      await stub.stop();
    });
    beforeEach(() => stub.reset());

    function run(fixture: string, inputs: Record<string, string>) {
      return runAction('helm-rollback', {
        event: workflowDispatch('master', { environment: 'staging' }),
        apiUrl: stub.url,
        inputs: {
          environment: 'staging',
          reason: 'error rate doubled after 1.1.0',
          'github-token': 'ghs_test',
          timeout: '30s',
          ...inputs,
        },
        env: {
          PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
          HELM_DRIVER: 'memory',
          HELM_MEMORY_DRIVER_DATA: path.join(HISTORY_DIR, `${fixture}.releases.yaml`),
          KUBECONFIG: '/nonexistent',
        },
      });
    }

    const refusals: Array<[string, string, Record<string, string>, RegExp]> = [
      ['an unknown revision', 'two-deployed', { revision: '7' }, /revision 7 of release "airq" does not exist/],
      [
        'a failed revision',
        'auto-rolled-back',
        { revision: '3' },
        /revision 3 of release "airq" was never successfully deployed/,
      ],
      ['the current revision', 'two-deployed', { revision: '2' }, /revision 2 is the current revision/],
      ['a release with nothing to roll back to', 'first-install', {}, /has nothing to roll back to/],
      [
        'a release that does not exist',
        'two-deployed',
        { release: 'ghost' },
        /release "ghost" not found in namespace "airq-staging"/,
      ],
    ];
    for (const [what, fixture, inputs, message] of refusals) {
      it(`refuses ${what}, fails the step and records no deployment`, async () => {
        const result = await run(fixture, inputs);
        try {
          expect(result.exitCode, result.stdout).to.equal(1);
          expect(errors(result))
            .to.match(/^helm-rollback refused: /)
            .and.match(message);
          expect(result.summary).to.include('refused').and.include('The release was not changed.');
          expect(stub.deployments).to.have.length(0);
          expect(result.outputs).not.to.have.property('to-revision');
        } finally {
          result.cleanup();
        }
      });
    }

    it('marks the deployment it undoes failed even when there is nothing to roll back to (a first install that failed its smoke test)', async () => {
      const created = await fetch(`${stub.url}/repos/airq-org/airq/deployments`, {
        method: 'POST',
        // What helm-deploy sends when it records a deployment (the stand-in holds requests to GitHub's contract).
        headers: {
          'content-type': 'application/json',
          accept: 'application/vnd.github+json',
          authorization: 'token test-token',
          'user-agent': 'airq-test',
        },
        body: JSON.stringify({ ref: 'a'.repeat(40), environment: 'staging', auto_merge: false, required_contexts: [] }),
      });
      const { id } = (await created.json()) as { id: number };
      const result = await run('first-install', {
        'failed-deployment-id': String(id),
        reason: 'smoke test of revision 1 (1.1.0) failed',
      });
      const bad = await run('two-deployed', { 'failed-deployment-id': 'latest' });
      try {
        expect(result.exitCode, result.stdout).to.equal(1);
        expect(errors(result)).to.match(/has nothing to roll back to/);
        expect(
          stub.deploymentStatuses.map((status) => [status.deployment_id, status.state, status.description]),
        ).to.deep.equal([[id, 'failure', 'smoke test of revision 1 (1.1.0) failed; rolling back']]);
        expect(result.summary).to.include(`GitHub deployment ${id} was marked failed.`);
        expect(bad.exitCode).to.equal(1);
        expect(errors(bad)).to.match(/input "failed-deployment-id": "latest" is not a deployment id/);
      } finally {
        result.cleanup();
        bad.cleanup();
      }
    });

    it('refuses a revision input that is not a number before touching helm', async () => {
      const result = await run('two-deployed', { revision: 'latest' });
      try {
        expect(result.exitCode).to.equal(1);
        expect(errors(result)).to.match(/input "revision": "latest" is not a revision number/);
        expect(result.stdout).not.to.include('[command]');
      } finally {
        result.cleanup();
      }
    });

    it("does not take helm's word for it: a rollback that left no new deployed revision is recorded as a failure", async () => {
      // The memory store forgets the rollback when helm exits, so the verifying `helm history` sees the old state.
      const result = await run('two-deployed', {});
      try {
        expect(result.exitCode, result.stdout).to.equal(1);
        expect(result.stdout).to.include('helm rollback airq 1 --namespace airq-staging --wait --timeout 30s');
        expect(errors(result)).to.match(
          /to revision 1 failed: helm reported success, but the release's current revision is 2 \(deployed\)/,
        );
        expect(stub.deployments).to.have.length(1);
        const [deployment] = stub.deployments;
        expect(deployment).to.include({
          environment: 'staging',
          transient_environment: true,
          production_environment: false,
        });
        expect(stub.deploymentStatuses.map((status) => status.state)).to.deep.equal(['in_progress', 'failure']);
        expect(stub.deploymentStatuses[0]?.description).to.equal(
          'Rollback to revision 1 (1.0.0): error rate doubled after 1.1.0',
        );
        expect(stub.deploymentStatuses[1]?.log_url).to.equal(
          'https://github.com/airq-org/airq/actions/runs/9876543210',
        );
        expect(stub.deploymentStatuses[1]?.environment_url).to.equal('https://airq-staging.example.com');
      } finally {
        result.cleanup();
      }
    });
  });
});
