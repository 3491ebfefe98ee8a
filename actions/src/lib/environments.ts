import { minimatch } from 'minimatch';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

// Kubernetes namespaces are DNS labels; Helm release names are DNS labels of at most 53 characters.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const pipelineSchema = z
  .object({
    branches: z.array(z.string().min(1)).default([]),
    tags: z.array(z.string().min(1)).default([]),
    requireReleaseTag: z.boolean().default(false),
    releaseBranch: z.string().min(1).default('master'),
    production: z.boolean().default(false),
    // Check runs (CI job names) the release gate requires, green, on the commit a release tag points at.
    requiredChecks: z.array(z.string().min(1)).default([]),
    // The GitHub environment's deployment branch and tag rules (documentation the routing tests hold to the pipeline).
    deploymentPolicy: z
      .object({ branches: z.array(z.string().min(1)).default([]), tags: z.array(z.string().min(1)).default([]) })
      .strict()
      .default({ branches: [], tags: [] }),
    namespace: z.string().max(63).regex(DNS_LABEL, 'must be a DNS label (lowercase letters, digits, "-")'),
    release: z.string().max(53).regex(DNS_LABEL, 'must be a DNS label of at most 53 characters'),
    url: z.url({ protocol: /^https?$/ }),
  })
  .strict();

const environmentFileSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase letters, digits and "-"'),
    pipeline: pipelineSchema,
    values: z.record(z.string(), z.unknown()).nullable().default({}),
  })
  .strict();

export type Pipeline = z.infer<typeof pipelineSchema>;

/** One environment: its pipeline facts and the Helm values overrides that make it differ from the chart's defaults. */
export interface Environment {
  name: string;
  /** The file it came from, relative to the working directory. */
  file: string;
  pipeline: Pipeline;
  values: Record<string, unknown>;
}

/** The environments registry: every `environments/*.yaml`, validated together. */
export class Registry {
  readonly dir: string;
  readonly environments: readonly Environment[];

  constructor(dir: string, environments: Environment[]) {
    this.dir = dir;
    this.environments = [...environments].sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.environments.map((environment) => environment.name);
  }

  find(name: string): Environment | undefined {
    return this.environments.find((environment) => environment.name === name);
  }

  /** The named environment; throws naming the known ones when there is no such file. */
  get(name: string): Environment {
    const found = this.find(name);
    if (!found) {
      throw new Error(
        `environment "${name}" is not defined in ${this.dir}/ (known: ${this.names().join(', ')}); ` +
          `add ${this.dir}/${name}.yaml or use one of those`,
      );
    }
    return found;
  }

  /** The environment a push to this branch deploys, if any. */
  forBranch(branch: string): Environment | undefined {
    return this.environments.find((environment) => environment.pipeline.branches.includes(branch));
  }

  /** The environment a pushed tag deploys (first whose `tags` glob matches), if any. */
  forTag(tag: string): Environment | undefined {
    return this.environments.find((environment) =>
      environment.pipeline.tags.some((pattern) => minimatch(tag, pattern)),
    );
  }
}

/**
 * Whether deploying to this environment is a production deployment (GitHub Deployments' `production_environment`,
 * resolve-environment's `is-production`, deploy-plan's `production`): it is marked `production`, or only release
 * tags reach it. The one place this is decided.
 */
export function isProduction(environment: Pick<Environment, 'pipeline'>): boolean {
  return environment.pipeline.production || environment.pipeline.requireReleaseTag;
}

/** Validates one parsed environment file; `file` is only used in messages. */
export function parseEnvironment(file: string, document: unknown): Environment {
  const result = environmentFileSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `${file}: ${where}: ${issue.message}`;
    });
    throw new Error(`${problems.join('\n')}\nFix the file; the format is described in docs/chart.md ("Environments").`);
  }
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (result.data.name !== expected) {
    throw new Error(
      `${file}: name: "${result.data.name}" must match the file name; rename the file or set name: ${expected}`,
    );
  }
  return { name: result.data.name, file, pipeline: result.data.pipeline, values: result.data.values ?? {} };
}

/** Loads and validates every `*.yaml` in `dir`; a branch claimed by two environments is an error. */
export function loadEnvironments(dir = 'environments'): Registry {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => /\.ya?ml$/.test(file));
  } catch (error) {
    throw new Error(
      `environments directory ${dir}: ${(error as Error).message}; check the "environments-dir" input and that the repository is checked out`,
    );
  }
  if (files.length === 0)
    throw new Error(`environments directory ${dir} holds no *.yaml files; add one file per environment`);
  const environments = files.sort().map((name) => {
    const file = path.join(dir, name);
    let document: unknown;
    try {
      document = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`${file}: not valid YAML: ${(error as Error).message}`);
    }
    return parseEnvironment(file, document);
  });
  const owners = new Map<string, string>();
  for (const environment of environments) {
    for (const branch of environment.pipeline.branches) {
      const other = owners.get(branch);
      if (other) {
        throw new Error(
          `${environment.file}: pipeline.branches: branch "${branch}" already deploys ${other}; a branch deploys one environment`,
        );
      }
      owners.set(branch, environment.name);
    }
  }
  return new Registry(dir, environments);
}
