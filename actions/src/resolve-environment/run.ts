import * as core from '@actions/core';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isProduction, loadEnvironments } from '../lib/environments.ts';
import type { RunContext } from '../lib/github.ts';
import { writeSummary } from '../lib/summary.ts';
import { decide, eventFacts } from './decide.ts';
import type { Settings } from './settings.ts';

export interface Deps {
  context: RunContext;
  /** Where the values file goes (RUNNER_TEMP on a runner). */
  tempDir: string;
}

/** Decides the environment for this run and publishes it as outputs, a values file and a job summary line. */
export async function run(settings: Settings, { context, tempDir }: Deps): Promise<void> {
  const registry = loadEnvironments(settings.environmentsDir);
  const decision = decide(registry, eventFacts(context, settings.environment));

  // What the namespace/release/url/values-file outputs describe: the deployed environment, else where the commit is headed.
  const subject = decision.environment ?? decision.target;
  let valuesFile = '';
  if (subject) {
    mkdirSync(tempDir, { recursive: true });
    valuesFile = path.join(mkdtempSync(path.join(tempDir, 'airq-values-')), `${subject.name}.yaml`);
    writeFileSync(
      valuesFile,
      `# Helm values of environment "${subject.name}", from ${subject.file}\n${toYaml(subject.values)}`,
    );
  }
  const outputs: Record<string, string> = {
    environment: decision.environment?.name ?? '',
    deploy: String(decision.deploy),
    'target-environment': decision.target?.name ?? '',
    version: decision.version,
    'image-tag': decision.imageTag,
    namespace: subject?.pipeline.namespace ?? '',
    release: subject?.pipeline.release ?? '',
    url: subject?.pipeline.url ?? '',
    'values-file': valuesFile,
    'is-production': String(subject ? isProduction(subject) : false),
    reason: decision.reason,
  };
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
  core.info(`${decision.deploy ? 'Deploy' : 'No deployment'}: ${decision.reason}`);
  if (decision.notice) core.notice(decision.notice, { title: 'resolve-environment' });

  await writeSummary({
    heading: decision.deploy ? `Deploying to ${outputs.environment}` : 'No deployment',
    paragraphs: [decision.reason],
    tables: [
      {
        header: ['output', 'value'],
        rows: Object.entries(outputs).map(([name, value]) => [name, value === '' ? '—' : value]),
      },
    ],
  });
}
