import type { Environment, Registry } from '../lib/environments.ts';
import type { RunContext } from '../lib/github.ts';

/** The facts of the triggering event that decide where (and whether) it deploys. */
export interface EventFacts {
  eventName: string;
  /** GITHUB_REF, fully qualified. */
  ref: string;
  sha: string;
  /** pull_request: the branch the PR would merge into. */
  baseRef?: string;
  /** workflow_dispatch (or an explicit action input): the environment asked for by name. */
  requestedEnvironment?: string;
  /** push: the ref was deleted. */
  deleted?: boolean;
}

/**
 * The facts of the run, from its context: the environment asked for is the `environment` input, else (manual runs)
 * the dispatch's `environment` input; a pull request's base comes from its payload, else GITHUB_BASE_REF.
 */
export function eventFacts(
  context: Pick<RunContext, 'eventName' | 'ref' | 'sha' | 'baseRef' | 'payload'>,
  environmentInput: string,
): EventFacts {
  const { payload } = context;
  const dispatchInputs = (payload.inputs ?? {}) as Record<string, unknown>;
  const requested =
    environmentInput ||
    (context.eventName === 'workflow_dispatch' && typeof dispatchInputs.environment === 'string'
      ? dispatchInputs.environment
      : '');
  const pullRequest = payload.pull_request as { base?: { ref?: string } } | undefined;
  return {
    eventName: context.eventName,
    ref: context.ref,
    sha: context.sha,
    baseRef: pullRequest?.base?.ref ?? context.baseRef,
    requestedEnvironment: requested || undefined,
    deleted: payload.deleted === true,
  };
}

export interface Decision {
  /** The environment this run deploys to, if any. */
  environment: Environment | undefined;
  deploy: boolean;
  /** Where this commit is headed: the deployed environment, or the one a PR's merge (or a release tag) would reach. */
  target: Environment | undefined;
  version: string;
  imageTag: string;
  /** One sentence a human reads in the log and the job summary. */
  reason: string;
  /** Set when nothing deploys for a reason worth a notice annotation. */
  notice?: string;
}

const RELEASE_TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** `v1.2.3` → `1.2.3`; undefined for anything that is not a strict release tag (pre-releases included). */
export function releaseVersion(tag: string): string | undefined {
  return RELEASE_TAG.test(tag) ? tag.slice(1) : undefined;
}

/** A semver pre-release identifier from a ref name: lowercase, `[0-9a-z-]` only, at most 40 characters. */
export function refSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^0-9a-z-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug === '' ? 'ref' : slug;
}

/**
 * The version of a build that is not a release: `0.0.0-<ref slug>.g<sha7>` — valid semver that sorts below every
 * release, names the branch, and pins the commit (the `g` keeps an all-digit sha from being a numeric identifier).
 */
export function buildVersion(refName: string, sha: string): string {
  return `0.0.0-${refSlug(refName)}.g${sha.slice(0, 7).toLowerCase()}`;
}

/** Where a change merged into `branch` is headed: the environment the branch deploys, or the one it releases to. */
export function environmentForBase(registry: Registry, branch: string): Environment | undefined {
  return (
    registry.forBranch(branch) ??
    registry.environments.find(
      (environment) => environment.pipeline.requireReleaseTag && environment.pipeline.releaseBranch === branch,
    )
  );
}

function describeRouting(registry: Registry): string {
  const routes = registry.environments.flatMap((environment) => [
    ...environment.pipeline.branches.map((branch) => `branch ${branch} → ${environment.name}`),
    ...environment.pipeline.tags.map((pattern) => `tag ${pattern} → ${environment.name}`),
  ]);
  return routes.join(', ');
}

function nothing(target: Environment | undefined, version: string, imageTag: string, reason: string): Decision {
  return { environment: undefined, deploy: false, target, version, imageTag, reason, notice: reason };
}

/** A run that deploys `environment`. */
function deployTo(environment: Environment, version: string, imageTag: string, reason: string): Decision {
  return { environment, deploy: true, target: environment, version, imageTag, reason };
}

/** Decides, from the event and the registry alone, which environment (if any) this run deploys. */
export function decide(registry: Registry, facts: EventFacts): Decision {
  const isTag = facts.ref.startsWith('refs/tags/');
  const isBranch = facts.ref.startsWith('refs/heads/');
  const refName = facts.ref.replace(/^refs\/(heads|tags)\//, '');
  const release = isTag ? releaseVersion(refName) : undefined;
  const version = release ?? buildVersion(isTag || isBranch ? refName : facts.ref.replace(/^refs\//, ''), facts.sha);
  const imageTag = release ?? facts.sha;

  if (facts.requestedEnvironment) {
    const environment = registry.get(facts.requestedEnvironment);
    if (environment.pipeline.requireReleaseTag && !release) {
      return nothing(
        environment,
        version,
        imageTag,
        `${environment.name} deploys only release tags vMAJOR.MINOR.PATCH, and ${facts.ref} is not one; ` +
          `run the workflow from a release tag (Use workflow from → Tags → vX.Y.Z)`,
      );
    }
    return deployTo(
      environment,
      version,
      imageTag,
      `${facts.eventName} asked for ${environment.name}: deploying ${refName} (${version})`,
    );
  }

  if (facts.eventName === 'pull_request' || facts.eventName === 'pull_request_target') {
    const base = facts.baseRef ?? '';
    const target = environmentForBase(registry, base);
    const where = !target
      ? `its merge into ${base} deploys nothing`
      : target.pipeline.requireReleaseTag
        ? `its merge into ${base} reaches ${target.name} once a release tag is pushed`
        : `its merge into ${base} deploys ${target.name}`;
    return {
      environment: undefined,
      deploy: false,
      target,
      version,
      imageTag,
      reason: `a pull request deploys nothing; ${where}`,
    };
  }

  if (facts.eventName !== 'push' && facts.eventName !== 'workflow_dispatch') {
    return nothing(
      undefined,
      version,
      imageTag,
      `event ${facts.eventName} deploys nothing; only pushes, release tags and manual runs deploy`,
    );
  }
  if (facts.deleted) return nothing(undefined, version, imageTag, `${facts.ref} was deleted; nothing to deploy`);

  if (isTag) {
    const environment = registry.forTag(refName);
    if (!environment) {
      return nothing(
        undefined,
        version,
        imageTag,
        `tag ${refName} matches no environment's tag patterns (${describeRouting(registry)})`,
      );
    }
    if (environment.pipeline.requireReleaseTag && !release) {
      const hint = /^v\d+\.\d+\.\d+-/.test(refName)
        ? `pre-releases are not deployed to ${environment.name}`
        : `${environment.name} deploys only strict release tags like v1.2.3`;
      return nothing(environment, version, imageTag, `tag ${refName} is not a release tag vMAJOR.MINOR.PATCH: ${hint}`);
    }
    return deployTo(environment, version, imageTag, `tag ${refName} releases ${version} to ${environment.name}`);
  }

  if (isBranch) {
    const environment = registry.forBranch(refName);
    if (environment) {
      return deployTo(environment, version, imageTag, `push to ${refName} deploys ${environment.name}`);
    }
    const releasesTo = environmentForBase(registry, refName);
    if (releasesTo) {
      return nothing(
        releasesTo,
        version,
        imageTag,
        `${refName} is the release line of ${releasesTo.name}: a push deploys nothing; push a tag vX.Y.Z on ${refName} to release it`,
      );
    }
    return nothing(
      undefined,
      version,
      imageTag,
      `branch ${refName} deploys no environment (${describeRouting(registry)})`,
    );
  }

  return nothing(undefined, version, imageTag, `ref ${facts.ref} is neither a branch nor a tag; nothing to deploy`);
}
