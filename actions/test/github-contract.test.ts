// The checks that hold the GitHub API stand-in and the test events to GitHub's published contract must be able to
// fail: each is shown refusing a deliberately wrong request, answer or payload, naming the operation and schema place.
import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import {
  assertNoContractViolations,
  startGitHubApiStub,
  type GitHubApiStub,
} from '../../test/support/github-api-stub.ts';
import { assertEventPayload } from '../../test/support/github-contract.ts';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { githubContext } from '../../test/workflows/support/simulate.ts';
import {
  DEFAULT_SHA,
  mergeGroup,
  pullRequest,
  pushBranch,
  pushTag,
  workflowDispatch,
  type GitHubEvent,
} from './support/events.ts';
import { runAction } from './support/run-action.ts';

const REPO_PATH = '/repos/airq-org/airq';
const HEADERS = {
  accept: 'application/vnd.github.v3+json',
  'user-agent': 'airq-contract-test',
  authorization: 'token ghs_test',
  'content-type': 'application/json; charset=utf-8',
};

describe('the GitHub contract checks', function () {
  this.timeout(120_000);

  describe('on requests and answers of the REST API stand-in', function () {
    let stub: GitHubApiStub;

    before(async () => {
      stub = await startGitHubApiStub();
    });
    after(async () => {
      await stub?.stop();
    });
    beforeEach(() => {
      stub.reset();
      stub.takeViolations();
    });

    const send = (method: string, url: string, body?: unknown, headers: Record<string, string> = HEADERS) =>
      fetch(`${stub.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });

    it('accepts a request and answer that keep to the contract', async () => {
      const response = await send('POST', `${REPO_PATH}/deployments`, {
        ref: DEFAULT_SHA,
        environment: 'staging',
        auto_merge: false,
        required_contexts: [],
      });
      expect(response.status).to.equal(201);
      expect(stub.takeViolations()).to.deep.equal([]);
      expect(stub.requests[0]?.operation).to.equal('repos/create-deployment');
    });

    it('refuses a request body that breaks the operation schema, naming the operation and the schema path', async () => {
      const response = await send('POST', `${REPO_PATH}/deployments`, { ref: 7, auto_merge: 'no' });
      expect(response.status, 'GitHub answers 422 to an invalid body').to.equal(422);
      const violations = stub.takeViolations().join('\n');
      expect(violations).to.include(
        'repos/create-deployment (POST /repos/{owner}/{repo}/deployments): request body /ref must be string',
      );
      expect(violations).to.include(
        '(schema #/paths/~1repos~1{owner}~1{repo}~1deployments/post/requestBody/content/application~1json/schema/properties/ref/type)',
      );
      expect(violations).to.include('/auto_merge must be boolean');
      expect(stub.deployments, 'a refused request changes nothing').to.deep.equal([]);
    });

    it('refuses a request to a method and path that no operation of GitHub has', async () => {
      const response = await send('POST', `${REPO_PATH}/deployments/12/approve`, {});
      expect(response.status).to.equal(404);
      expect(stub.takeViolations().join('\n')).to.include(
        'POST /repos/airq-org/airq/deployments/12/approve: no operation of the GitHub REST API has this method and path',
      );
    });

    it('refuses path and query parameters that break their schemas, and unknown query parameters', async () => {
      await send('GET', `${REPO_PATH}/deployments/twelve/statuses?per_page=many&perpage=100`);
      const violations = stub.takeViolations().join('\n');
      expect(violations).to.include('repos/list-deployment-statuses');
      expect(violations).to.include(
        'path parameters /deployment_id must be integer (schema #/components/parameters/deployment-id/schema/type)',
      );
      expect(violations).to.include(
        'query parameters /per_page must be integer (schema #/components/parameters/per-page/schema/type)',
      );
      expect(violations).to.include(
        'query parameters / must NOT have additional properties "perpage" (schema #/paths/~1repos~1{owner}~1{repo}~1deployments~1{deployment_id}~1statuses/get/parameters)',
      );
    });

    it('refuses a request without the headers and media types GitHub requires', async () => {
      // node:http rather than fetch, which would add a User-Agent and Accept of its own.
      await new Promise<void>((resolve, reject) => {
        const request = httpRequest(
          `${stub.url}${REPO_PATH}/issues/7/comments`,
          { method: 'POST', headers: { 'content-type': 'text/plain' } },
          (response) => {
            response.resume().on('end', resolve);
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify({ body: 'hi' }));
      });
      const violations = stub.takeViolations().join('\n');
      expect(violations).to.include('issues/create-comment');
      expect(violations).to.include('header User-Agent is missing');
      expect(violations).to.include('header Authorization is missing');
      expect(violations).to.include('header Accept is missing');
      expect(violations).to.include('header Content-Type "text/plain" is not one of application/json');
    });

    it('refuses an answer of the stand-in that breaks the documented response schema of its status', async () => {
      // A seeded failure with a success status makes the stand-in answer a body GitHub never would.
      stub.fail('GET', '/check-runs', 200, 'not a check run list');
      await send('GET', `${REPO_PATH}/commits/${DEFAULT_SHA}/check-runs?per_page=100`);
      const violations = stub.takeViolations().join('\n');
      expect(violations).to.include('answer of the stand-in to GET');
      expect(violations).to.include(
        "checks/list-for-ref (GET /repos/{owner}/{repo}/commits/{ref}/check-runs): answer 200 / must have required property 'total_count'",
      );
      expect(violations).to.include(
        '(schema #/paths/~1repos~1{owner}~1{repo}~1commits~1{ref}~1check-runs/get/responses/200/content/application~1json/schema/required)',
      );
    });

    it('refuses a seeded check run whose fields GitHub would never send', async () => {
      stub.checkRuns.set('*', [{ name: 'ci', status: 'done' as never, conclusion: null }]);
      await send('GET', `${REPO_PATH}/commits/${DEFAULT_SHA}/check-runs`);
      expect(stub.takeViolations().join('\n'))
        .to.include('/check_runs/0/status must be equal to one of the allowed values')
        .and.include('#/components/schemas/check-run/properties/status/enum');
    });

    it('fails the test: assertNoContractViolations throws with every recorded violation and then forgets them', async () => {
      await send('GET', `${REPO_PATH}/compare/${DEFAULT_SHA}...master?page=first`);
      expect(() => assertNoContractViolations()).to.throw(
        /GitHub API contract violated \(@octokit\/openapi@[\d.]+\).*\n.*repos\/compare-commits .*query parameters \/page must be integer/,
      );
      expect(() => assertNoContractViolations()).not.to.throw();
    });

    it('makes runAction throw when an action met an answer that breaks the contract, so its test fails', async () => {
      const { binDir } = kubeBinaries();
      stub.fail('POST', /\/statuses$/, 201, 'status recorded');
      let thrown: Error | undefined;
      await runAction('helm-deploy', {
        event: pushBranch('development'),
        apiUrl: stub.url,
        env: { PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' },
        inputs: {
          environment: 'development',
          chart: 'helm/nope',
          'image-tag': DEFAULT_SHA,
          'github-token': 'ghs_test',
        },
      }).catch((error: Error) => (thrown = error));
      expect(thrown?.message).to.include('GitHub API contract violated');
      expect(thrown?.message).to.include(
        "repos/create-deployment-status (POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses): answer 201 / must have required property 'id'",
      );
      expect(thrown?.message).to.include('(schema #/components/schemas/deployment-status/required)');
      expect(thrown?.message, 'the action output comes along').to.include('--- helm-deploy stdout');
    });
  });

  describe('on event payloads', function () {
    const events: Array<[string, GitHubEvent]> = [
      ['push to a branch', pushBranch('development')],
      ['push of a tag', pushTag('v1.2.3')],
      ['pull request opened', pullRequest({ base: 'staging', head: 'feature/x' })],
      ['pull request synchronized', pullRequest({ base: 'staging', head: 'feature/x', action: 'synchronize' })],
      ['workflow dispatch', workflowDispatch('master', { environment: 'staging' })],
      ['merge group', mergeGroup({ base: 'staging' })],
    ];
    for (const [name, event] of events) {
      it(`builds a ${name} payload that GitHub's webhook schema accepts`, () => {
        expect(() => assertEventPayload(event.eventName, event.payload)).not.to.throw();
      });
    }

    it('refuses a payload that breaks its webhook schema, naming the webhook and the schema path', () => {
      const { payload } = pullRequest({ base: 'staging', head: 'feature/x' });
      const broken = structuredClone(payload) as { pull_request: Record<string, unknown> };
      delete broken.pull_request.head;
      broken.pull_request.number = '42';
      expect(() => assertEventPayload('pull_request', broken))
        .to.throw(
          /the pull_request event payload breaks GitHub's webhook contract \(@octokit\/openapi-webhooks@[\d.]+\)/,
        )
        .and.to.match(
          /\(webhook pull-request-opened\) \/pull_request must have required property 'head' \(schema #\/components\/schemas\/pull-request\/required\)/,
        )
        .and.to.match(
          /\/pull_request\/number must be integer \(schema #\/components\/schemas\/pull-request\/properties\/number\/type\)/,
        );
    });

    it('refuses an event GitHub does not send', () => {
      expect(() => assertEventPayload('push_tag', {})).to.throw(/the GitHub webhook schemas know no event "push_tag"/);
    });

    it('refuses to run an action with a payload GitHub would never send', async () => {
      const event = pushBranch('development');
      delete event.payload.repository;
      let thrown: Error | undefined;
      await runAction('resolve-environment', { event }).catch((error: Error) => (thrown = error));
      expect(thrown?.message).to.match(
        /push payload \(webhook push\) \/ must have required property 'repository' \(schema #\/components\/schemas\/webhook-push\/required\)/,
      );
    });

    it('builds the workflow github context from the payload, refusing a payload that breaks its schema', () => {
      const event = pushTag('v1.2.3');
      (event.payload as { ref: string }).ref = 'refs/tags/v2.0.0';
      expect(githubContext(event, 'deploy.yml')).to.include({
        ref: 'refs/tags/v2.0.0',
        ref_name: 'v2.0.0',
        ref_type: 'tag',
        sha: DEFAULT_SHA,
      });
      const pull = pullRequest({
        base: 'master',
        head: 'staging',
        mergeSha: 'abcabcabcabcabcabcabcabcabcabcabcabcabca',
      });
      expect(githubContext(pull, 'ci.yml')).to.include({
        ref: 'refs/pull/42/merge',
        sha: 'abcabcabcabcabcabcabcabcabcabcabcabcabca',
        base_ref: 'master',
        head_ref: 'staging',
      });
      (event.payload as { after: unknown }).after = 42;
      expect(() => githubContext(event, 'deploy.yml')).to.throw(/\/after must be string/);
    });
  });
});
