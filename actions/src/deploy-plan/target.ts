import { isProduction, type Environment, type Registry } from '../lib/environments.ts';

export interface PlanTarget {
  /** The environment the plan renders; undefined when merging into this branch deploys nothing. */
  environment: Environment | undefined;
  /** Whether the merge leads to production (directly, or through a release tag). */
  production: boolean;
  /** One sentence for the PR: what merging does. */
  explanation: string;
}

/**
 * Which environment a pull request into `baseBranch` would reach. A branch that deploys an environment on push
 * reaches it on merge; the release branch (master) reaches nothing by itself, but what merges there is what a release
 * tag then deploys to production, so the plan is made against production.
 */
export function planTarget(registry: Registry, baseBranch: string): PlanTarget {
  const direct = registry.forBranch(baseBranch);
  if (direct) {
    const production = isProduction(direct);
    return {
      environment: direct,
      production,
      explanation: `Merging into \`${baseBranch}\` deploys **${direct.name}** (release \`${direct.pipeline.release}\`, namespace \`${direct.pipeline.namespace}\`).`,
    };
  }
  const released = registry.environments.find(
    (environment) => environment.pipeline.releaseBranch === baseBranch && environment.pipeline.requireReleaseTag,
  );
  if (released) {
    return {
      environment: released,
      production: isProduction(released),
      explanation:
        `Merging into \`${baseBranch}\` deploys nothing by itself: **${released.name}** is reached only by pushing a release tag ` +
        `(\`vMAJOR.MINOR.PATCH\`) on \`${baseBranch}\`. This plan shows what that release would change in ${released.name}.`,
    };
  }
  return {
    environment: undefined,
    production: false,
    explanation: `Merging into \`${baseBranch}\` deploys no environment (no file in the registry names this branch).`,
  };
}
