// The workflows and our actions agree: every `uses: ./actions/<name>` passes only inputs its action.yml declares and
// every required one; every steps.<id>.outputs.<x>, needs.<job>.outputs.<x>, jobs.<id>.outputs.<x> and inputs.<x> a
// workflow reads exists. GitHub would only find out at run time, on the deploy.
import { expect } from 'chai';
import { expressionsIn } from './support/expressions.ts';
import {
  loadRawWorkflow,
  readActionMetadata,
  workflowFiles,
  WORKFLOWS_DIR,
  type RawJob,
  type RawWorkflow,
} from './support/workflows.ts';

/** Every string inside a YAML value, with where it sits. */
function strings(value: unknown, at: string, out: { at: string; text: string }[] = []): { at: string; text: string }[] {
  if (typeof value === 'string') out.push({ at, text: value });
  else if (Array.isArray(value)) value.forEach((item, index) => strings(item, `${at}[${index}]`, out));
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) strings(item, `${at}.${key}`, out);
  return out;
}

function needsOf(job: RawJob): string[] {
  if (!job.needs) return [];
  return Array.isArray(job.needs) ? job.needs : [job.needs];
}

function workflowCall(
  raw: RawWorkflow,
):
  | { inputs?: Record<string, { required?: boolean; default?: unknown }>; outputs?: Record<string, { value: string }> }
  | undefined {
  const on = raw.on as Record<string, unknown> | undefined;
  return on && typeof on === 'object'
    ? ((on.workflow_call as ReturnType<typeof workflowCall>) ?? undefined)
    : undefined;
}

function dispatchInputs(raw: RawWorkflow): Record<string, unknown> | undefined {
  const on = raw.on as Record<string, { inputs?: Record<string, unknown> } | null> | undefined;
  if (!on || typeof on !== 'object' || !('workflow_dispatch' in on)) return undefined;
  return on.workflow_dispatch?.inputs ?? {};
}

/** The outputs a job offers to `needs`: its own `outputs:`, or the called workflow's `on.workflow_call.outputs`. */
function jobOutputs(job: RawJob): string[] {
  if (job.uses?.startsWith('./')) return Object.keys(workflowCall(loadRawWorkflow(job.uses))?.outputs ?? {});
  return Object.keys(job.outputs ?? {});
}

/** What one workflow file gets wrong about the actions, jobs and inputs it references. */
function contractProblems(file: string, raw: RawWorkflow = loadRawWorkflow(`${WORKFLOWS_DIR}/${file}`)): string[] {
  const problems: string[] = [];
  const declaredInputs = { ...(workflowCall(raw)?.inputs ?? {}), ...(dispatchInputs(raw) ?? {}) };
  const acceptsInputs = workflowCall(raw) !== undefined || dispatchInputs(raw) !== undefined;

  for (const [jobId, job] of Object.entries(raw.jobs)) {
    const where = `${file}: jobs.${jobId}`;
    const steps = job.steps ?? [];

    for (const [index, step] of steps.entries()) {
      const local = /^\.\/actions\/([\w-]+)$/.exec(step.uses ?? '');
      if (!local) continue;
      const stepWhere = `${where}.steps[${index}] (${step.uses})`;
      let meta;
      try {
        meta = readActionMetadata(local[1]!);
      } catch (error) {
        problems.push(`${stepWhere}: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      if (!meta) {
        problems.push(`${stepWhere}: actions/${local[1]}/action.yml does not exist`);
        continue;
      }
      const given = Object.keys(step.with ?? {});
      for (const input of given) {
        if (!(input in meta.inputs))
          problems.push(
            `${stepWhere}: input "${input}" is not declared in actions/${meta.name}/action.yml (it declares ${Object.keys(meta.inputs).join(', ')})`,
          );
      }
      for (const [input, spec] of Object.entries(meta.inputs)) {
        if (spec.required && spec.default === undefined && !given.includes(input))
          problems.push(`${stepWhere}: required input "${input}" of actions/${meta.name} is not given`);
      }
    }

    for (const { at, text } of strings(job, where)) {
      for (const expression of expressionsIn(text)) {
        for (const [, stepId, output] of expression.matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          const step = steps.find((candidate) => candidate.id === stepId);
          if (!step) {
            problems.push(`${at}: steps.${stepId} — no step with id "${stepId}" in job ${jobId}`);
            continue;
          }
          const local = /^\.\/actions\/([\w-]+)$/.exec(step.uses ?? '');
          if (local) {
            let outputs: string[] = [];
            try {
              outputs = Object.keys(readActionMetadata(local[1]!)?.outputs ?? {});
            } catch {
              // Reported above as invalid YAML.
            }
            if (!outputs.includes(output!))
              problems.push(
                `${at}: steps.${stepId}.outputs.${output} — actions/${local[1]} has no output "${output}" (it has ${outputs.join(', ')})`,
              );
          } else if (step.run !== undefined) {
            if (!new RegExp(`\\b${output}=`).test(step.run))
              problems.push(
                `${at}: steps.${stepId}.outputs.${output} — the script of step "${stepId}" never writes ${output}= to GITHUB_OUTPUT`,
              );
          }
        }
        for (const [, needed, output] of expression.matchAll(/\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          if (!needsOf(job).includes(needed!)) {
            problems.push(`${at}: needs.${needed} — job ${jobId} does not list "${needed}" under needs`);
            continue;
          }
          const other = raw.jobs[needed!];
          if (!other) problems.push(`${at}: needs.${needed} — no job "${needed}" in ${file}`);
          else if (!jobOutputs(other).includes(output!))
            problems.push(
              `${at}: needs.${needed}.outputs.${output} — job ${needed} declares no output "${output}" (it has ${jobOutputs(other).join(', ')})`,
            );
        }
        for (const [, input] of expression.matchAll(/\binputs\.([\w-]+)/g)) {
          if (!acceptsInputs)
            problems.push(`${at}: inputs.${input} — ${file} has neither workflow_call nor workflow_dispatch inputs`);
          else if (!(input! in declaredInputs)) problems.push(`${at}: inputs.${input} is not declared by ${file}`);
        }
      }
    }

    // A call of a local reusable workflow: its inputs, both ways.
    if (job.uses?.startsWith('./')) {
      const callee = workflowCall(loadRawWorkflow(job.uses));
      if (!callee) {
        problems.push(`${where}: ${job.uses} has no on.workflow_call`);
        continue;
      }
      const given = Object.keys(job.with ?? {});
      for (const input of given)
        if (!(input in (callee.inputs ?? {}))) problems.push(`${where}: with.${input} is not an input of ${job.uses}`);
      for (const [input, spec] of Object.entries(callee.inputs ?? {})) {
        if (spec.required && !given.includes(input))
          problems.push(`${where}: required input "${input}" of ${job.uses} is not given`);
      }
    }
  }

  // A reusable workflow's outputs must name jobs and job outputs that exist.
  for (const [name, output] of Object.entries(workflowCall(raw)?.outputs ?? {})) {
    for (const expression of expressionsIn(output.value)) {
      for (const [, jobId, jobOutput] of expression.matchAll(/\bjobs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const job = raw.jobs[jobId!];
        if (!job || !Object.keys(job.outputs ?? {}).includes(jobOutput!))
          problems.push(
            `${file}: on.workflow_call.outputs.${name} reads jobs.${jobId}.outputs.${jobOutput}, which does not exist`,
          );
      }
    }
  }
  return problems;
}

describe('workflows ↔ actions contracts', function () {
  for (const file of workflowFiles()) {
    it(`${file} passes only declared inputs to our actions and reads only outputs and inputs that exist`, function () {
      expect(contractProblems(file)).to.deep.equal([]);
    });
  }

  it('offers in the rollback form exactly the environments of the registry', async function () {
    const { readdirSync } = await import('node:fs');
    const registry = readdirSync('environments')
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''))
      .sort();
    const inputs = dispatchInputs(loadRawWorkflow(`${WORKFLOWS_DIR}/rollback.yml`)) as Record<
      string,
      { options?: string[] }
    >;
    expect([...(inputs.environment?.options ?? [])].sort()).to.deep.equal(registry);
  });

  it('detects an input an action does not declare, a missing required one and an unknown output', function () {
    // The checker itself must bite: run it over a deliberately wrong copy of a workflow.
    const problems = contractProblems('in-memory.yml', {
      on: { push: {} },
      jobs: {
        a: {
          outputs: { x: '${{ steps.resolve.outputs.no-such-output }}' },
          steps: [{ id: 'resolve', uses: './actions/resolve-environment', with: { 'no-such-input': 'x' } }],
        },
        b: { needs: 'a', steps: [{ run: 'echo "${{ needs.a.outputs.y }}" "${{ inputs.z }}"' }] },
      },
    });
    expect(problems.join('\n')).to.match(/input "no-such-input" is not declared/);
    expect(problems.join('\n')).to.match(/has no output "no-such-output"/);
    expect(problems.join('\n')).to.match(/job a declares no output "y"/);
    expect(problems.join('\n')).to.match(/inputs\.z — .* has neither workflow_call nor workflow_dispatch inputs/);
  });
});
