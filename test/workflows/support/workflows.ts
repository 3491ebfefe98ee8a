import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import type { WorkflowTemplate } from '@actions/workflow-parser';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from '../../support/repo-root.ts';

export const WORKFLOWS_DIR = '.github/workflows';

/** A workflow as GitHub's own parser sees it, plus its plain YAML (the model drops a step's `with:`). */
export interface LoadedWorkflow {
  /** File name, e.g. `deploy.yml`. */
  file: string;
  /** Repository-relative path, e.g. `.github/workflows/deploy.yml`. */
  path: string;
  content: string;
  template: WorkflowTemplate;
  raw: RawWorkflow;
}

export interface RawStep {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: unknown;
}

export interface RawJob {
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
  environment?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  steps?: RawStep[];
  outputs?: Record<string, string>;
  needs?: string | string[];
  [key: string]: unknown;
}

export interface RawWorkflow {
  on: unknown;
  permissions?: unknown;
  env?: Record<string, unknown>;
  concurrency?: unknown;
  jobs: Record<string, RawJob>;
  [key: string]: unknown;
}

/** In-memory replacements of workflow files by repository-relative path, for tests that mutate a workflow. */
export type Overrides = ReadonlyMap<string, string>;

function readWorkflowFile(relativePath: string, overrides?: Overrides): string {
  const normalised = relativePath.replace(/^\.\//, '');
  return overrides?.get(normalised) ?? readFileSync(path.join(REPO_ROOT, normalised), 'utf8');
}

/** Parses and converts one workflow with @actions/workflow-parser, fetching local reusable workflows one level deep. */
export async function loadWorkflow(relativePath: string, overrides?: Overrides): Promise<LoadedWorkflow> {
  const content = readWorkflowFile(relativePath, overrides);
  const parsed = parseWorkflow({ name: relativePath, content }, new NoOperationTraceWriter());
  const parseErrors = parsed.context.errors.getErrors();
  if (parseErrors.length > 0 || !parsed.value) {
    throw new Error(`${relativePath}: the workflow parser reports: ${parseErrors.map((e) => e.message).join('; ')}`);
  }
  const template = await convertWorkflowTemplate(
    parsed.context,
    parsed.value,
    {
      getFileContent: async (ref) => {
        if (!('path' in ref) || 'repository' in ref)
          throw new Error(`${relativePath}: only local reusable workflows are supported, got ${JSON.stringify(ref)}`);
        return { name: ref.path, content: readWorkflowFile(ref.path, overrides) };
      },
    },
    { fetchReusableWorkflowDepth: 1 },
  );
  const conversionErrors = [
    ...(template.errors ?? []).map((e) => e.Message),
    ...parsed.context.errors.getErrors().map((e) => e.message),
  ];
  if (conversionErrors.length > 0)
    throw new Error(`${relativePath}: the workflow parser reports: ${conversionErrors.join('; ')}`);
  return {
    file: path.basename(relativePath),
    path: relativePath,
    content,
    template,
    raw: YAML.parse(content) as RawWorkflow,
  };
}

/** Every workflow file of the repository (overrides applied). */
export async function loadWorkflows(overrides?: Overrides): Promise<LoadedWorkflow[]> {
  const files = workflowFiles();
  return Promise.all(files.map((file) => loadWorkflow(`${WORKFLOWS_DIR}/${file}`, overrides)));
}

export function workflowFiles(): string[] {
  return readdirSync(path.join(REPO_ROOT, WORKFLOWS_DIR))
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
}

/** The raw YAML of a local reusable workflow referenced as `./.github/workflows/x.yml`. */
export function loadRawWorkflow(relativePath: string, overrides?: Overrides): RawWorkflow {
  return YAML.parse(readWorkflowFile(relativePath, overrides)) as RawWorkflow;
}

export interface ActionMetadata {
  name: string;
  inputs: Record<string, { description?: string; required?: boolean; default?: unknown }>;
  outputs: Record<string, { description?: string }>;
}

/** `actions/<name>/action.yml`, or undefined when that action has not been written. */
export function readActionMetadata(name: string): ActionMetadata | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(REPO_ROOT, 'actions', name, 'action.yml'), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: Partial<ActionMetadata>;
  try {
    parsed = YAML.parse(text) as Partial<ActionMetadata>;
  } catch (error) {
    // The runner would refuse the action too; quote a description containing ": " to fix the usual cause.
    throw new Error(`actions/${name}/action.yml is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return { name, inputs: parsed.inputs ?? {}, outputs: parsed.outputs ?? {} };
}
