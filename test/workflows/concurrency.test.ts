// A rollback is never dropped, and never overtaken by a deploy queued after it: the real workflows' concurrency
// settings, played through GitHub's documented concurrency behaviour (support/concurrency.ts).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pushBranch, workflowDispatch } from '../../actions/test/support/events.ts';
import { playConcurrency, type Arrival } from './support/concurrency.ts';
import type { Concurrency } from './support/simulate.ts';
import { simulate } from './support/simulate.ts';
import { loadWorkflows, type LoadedWorkflow, type Overrides } from './support/workflows.ts';
import { REPO_ROOT } from '../support/repo-root.ts';

/** The concurrency setting of the staging job that holds the cluster: the deploy job, or the rollback job. */
async function lockOf(
  workflows: readonly LoadedWorkflow[],
  what: 'deploy' | 'rollback',
  overrides?: Overrides,
): Promise<Concurrency | undefined> {
  const scenario =
    what === 'deploy'
      ? { event: pushBranch('staging') }
      : {
          event: workflowDispatch('master', { environment: 'staging', revision: '', reason: 'a bad release' }),
          workflow: 'rollback.yml',
        };
  const report = await simulate(workflows, scenario, overrides);
  const bound = report.jobs.filter((run) => run.environment === 'staging');
  expect(bound, `${what}: one job bound to staging`).to.have.length(1);
  return bound[0]!.concurrency;
}

async function play(order: string[], overrides?: Overrides) {
  const workflows = await loadWorkflows(overrides);
  const deploy = await lockOf(workflows, 'deploy', overrides);
  const rollback = await lockOf(workflows, 'rollback', overrides);
  const arrivals: Arrival[] = order.map((label) => ({
    label,
    concurrency: label.startsWith('rollback') ? rollback : deploy,
  }));
  return playConcurrency(arrivals);
}

/** What must hold: the rollback runs, no deploy that arrived after it starts before it, nothing overlaps. */
function expectRollbackKept(order: string[], outcome: ReturnType<typeof playConcurrency>): void {
  const rollback = order.find((label) => label.startsWith('rollback'))!;
  expect(outcome.cancelled, `${order.join(', ')}: the rollback is never cancelled`).not.to.include(rollback);
  expect(outcome.started, `${order.join(', ')}: the rollback runs`).to.include(rollback);
  const later = order.slice(order.indexOf(rollback) + 1).filter((label) => label.startsWith('deploy'));
  for (const deploy of later) {
    const at = outcome.started.indexOf(deploy);
    if (at !== -1)
      expect(at, `${order.join(', ')}: ${deploy}, queued after the rollback, starts after it`).to.be.greaterThan(
        outcome.started.indexOf(rollback),
      );
  }
  expect(outcome.overlapping, `${order.join(', ')}: never two operations on the release at once`).to.deep.equal([]);
}

const ORDERS = [
  ['deploy 1', 'deploy 2', 'rollback'],
  ['rollback', 'deploy 1'],
  ['deploy 1', 'rollback', 'deploy 2'],
  ['deploy 1', 'rollback', 'deploy 2', 'deploy 3'],
];

describe('GitHub concurrency model', function () {
  const single = (group: string): Concurrency => ({ group, cancelInProgress: false, queue: 'single' });

  it('keeps one pending job per group: a newer arrival cancels the pending one (queue: single)', function () {
    const outcome = playConcurrency(['a', 'b', 'c'].map((label) => ({ label, concurrency: single('g') })));
    expect(outcome).to.deep.equal({ started: ['a', 'c'], cancelled: ['b'], overlapping: [] });
  });

  it('queues every arrival in order with queue: max', function () {
    const outcome = playConcurrency(
      ['a', 'b', 'c'].map((label) => ({
        label,
        concurrency: { group: 'g', cancelInProgress: false, queue: 'max' as const },
      })),
    );
    expect(outcome).to.deep.equal({ started: ['a', 'b', 'c'], cancelled: [], overlapping: [] });
  });

  it('cancels the running and pending jobs with cancel-in-progress, and lets different groups run together', function () {
    const outcome = playConcurrency([
      { label: 'a', concurrency: single('g') },
      { label: 'b', concurrency: single('g') },
      { label: 'c', concurrency: { group: 'g', cancelInProgress: true, queue: 'single' } },
      { label: 'd', concurrency: single('other') },
    ]);
    expect(outcome.cancelled).to.deep.equal(['a', 'b']);
    expect(outcome.overlapping).to.deep.equal([['c', 'd']]);
  });
});

describe('a rollback is never dropped or overtaken by a deploy queued after it', function () {
  for (const order of ORDERS) {
    it(`${order.join(', ')}: the rollback runs, before any deploy queued after it, one operation at a time`, async function () {
      expectRollbackKept(order, await play(order));
    });
  }

  it('notices when the deploy job falls back to a single pending slot (a deploy arriving would cancel the pending rollback)', async function () {
    const file = '.github/workflows/deploy-environment.yml';
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    const edited = text.replace(/\n\s+queue: max\n/, '\n');
    expect(edited).not.to.equal(text);
    const rollbackText = readFileSync(path.join(REPO_ROOT, '.github/workflows/rollback.yml'), 'utf8').replace(
      /\n\s+queue: max\n/,
      '\n',
    );
    const overrides = new Map([
      [file, edited],
      ['.github/workflows/rollback.yml', rollbackText],
    ]);
    const order = ['deploy 1', 'rollback', 'deploy 2'];
    const outcome = await play(order, overrides);
    expect(() => expectRollbackKept(order, outcome)).to.throw(/the rollback is never cancelled/);
  });

  it('notices when the rollback takes another lock than the deploy (they would run at once)', async function () {
    const file = '.github/workflows/rollback.yml';
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    const edited = text.replace(
      'group: deploy-${{ needs.resolve.outputs.environment }}',
      'group: rollback-${{ needs.resolve.outputs.environment }}',
    );
    expect(edited).not.to.equal(text);
    const outcome = await play(['deploy 1', 'rollback'], new Map([[file, edited]]));
    expect(() => expectRollbackKept(['deploy 1', 'rollback'], outcome)).to.throw(
      /never two operations on the release at once/,
    );
  });
});
