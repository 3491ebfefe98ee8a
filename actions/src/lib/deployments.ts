import * as core from '@actions/core';
import type { GitHubClient, RunContext } from './github.ts';
import { requireRepository, runUrl } from './github.ts';

/** The deployment status states the actions record. */
export type DeploymentState = 'in_progress' | 'success' | 'failure';

export interface DeploymentRequest {
  environment: string;
  /** The commit deployed (a sha; GitHub resolves it in the repository). */
  ref: string;
  production: boolean;
  description: string;
  environmentUrl: string;
  /** Extra JSON stored with the deployment (GitHub's `payload`): what exactly was deployed. */
  payload?: Record<string, unknown>;
}

// GitHub rejects longer deployment and status descriptions (422).
const DESCRIPTION_LIMIT = 140;

/** Cuts text to GitHub's 140-character limit for deployment descriptions. */
export function shortDescription(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= DESCRIPTION_LIMIT ? oneLine : `${oneLine.slice(0, DESCRIPTION_LIMIT - 1)}…`;
}

/**
 * GitHub Deployments for one environment: `start` creates the deployment and marks it in progress, `finish`
 * records how it ended. Every status links the run's log (`log_url`) and the environment (`environment_url`).
 */
export class Deployments {
  private readonly client: GitHubClient;
  private readonly context: RunContext;

  constructor(client: GitHubClient, context: RunContext) {
    this.client = client;
    this.context = context;
  }

  /** Creates the deployment (no auto-merge, no required contexts) and its `in_progress` status; returns its id. */
  async start(request: DeploymentRequest): Promise<number> {
    const { owner, repo } = requireRepository(this.context);
    const response = await this.client.rest.repos.createDeployment({
      owner,
      repo,
      ref: request.ref,
      environment: request.environment,
      description: shortDescription(request.description),
      auto_merge: false,
      required_contexts: [],
      transient_environment: !request.production,
      production_environment: request.production,
      ...(request.payload ? { payload: request.payload } : {}),
    });
    const data = response.data as { id?: number; message?: string };
    if (typeof data.id !== 'number') {
      throw new Error(
        `GitHub did not create a deployment of ${request.ref} to ${request.environment} (${data.message ?? `HTTP ${response.status}`}); ` +
          'check that the ref exists in the repository',
      );
    }
    core.info(`GitHub deployment ${data.id} created for ${request.environment}`);
    await this.status(data.id, 'in_progress', request.description, request.environmentUrl);
    return data.id;
  }

  /** Records the final (or an intermediate) state of a deployment. */
  async status(id: number, state: DeploymentState, description: string, environmentUrl: string): Promise<void> {
    const { owner, repo } = requireRepository(this.context);
    await this.client.rest.repos.createDeploymentStatus({
      owner,
      repo,
      deployment_id: id,
      state,
      description: shortDescription(description),
      environment_url: environmentUrl,
      log_url: runUrl(this.context),
      auto_inactive: state === 'success',
    });
    core.info(`GitHub deployment ${id}: ${state}`);
  }
}
