// Generates docs/actions.md, the reference of the custom actions, from their action.yml files (the source of truth:
// the runner reads them too), as actions/checkout generates its README's usage block.
//
//   npm run docs:actions            rewrite docs/actions.md
//   npm run docs:actions -- --check fail, naming the fix, when docs/actions.md differs from what would be generated
//
// actions/test/actions-doc.test.ts fails when the committed page is stale.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { fromRepo, generatorMain, type GeneratedPage } from '../../scripts/generated-page.ts';

export const ACTIONS_DIR = fromRepo('actions');
export const DOC_FILE = fromRepo('docs', 'actions.md');

const manifestSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  inputs: z
    .record(
      z.string(),
      z.object({
        description: z.string().min(1),
        required: z.boolean().optional(),
        default: z.union([z.string(), z.number(), z.boolean()]).optional(),
      }),
    )
    .optional(),
  outputs: z.record(z.string(), z.object({ description: z.string().min(1) })).optional(),
});

type Manifest = z.infer<typeof manifestSchema>;

/** The folders under `actionsDir` that hold an action.yml, sorted. */
function actionFolders(actionsDir: string): string[] {
  return readdirSync(actionsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(actionsDir, entry.name, 'action.yml')))
    .map((entry) => entry.name)
    .sort();
}

function readManifest(actionsDir: string, folder: string): Manifest {
  const file = path.join(actionsDir, folder, 'action.yml');
  const result = manifestSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new Error(
      `actions/${folder}/action.yml: ${problems.join('; ')}; every action, input and output needs a description`,
    );
  }
  return result.data;
}

/** Text for one Markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
}

function defaultCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '—';
  const text = String(value);
  return text === '' ? '(empty)' : `\`${cell(text)}\``;
}

function section(folder: string, manifest: Manifest): string[] {
  const lines = [
    `## ${folder}`,
    '',
    cell(manifest.description),
    '',
    `\`uses: ./actions/${folder}\` · source: \`actions/src/${folder}/\``,
    '',
  ];
  const inputs = Object.entries(manifest.inputs ?? {});
  lines.push('### Inputs', '');
  if (inputs.length === 0) lines.push('None.', '');
  else {
    lines.push('| Input | Required | Default | Description |', '| --- | --- | --- | --- |');
    for (const [name, spec] of inputs) {
      lines.push(
        `| \`${name}\` | ${spec.required ? 'yes' : 'no'} | ${defaultCell(spec.default)} | ${cell(spec.description)} |`,
      );
    }
    lines.push('');
  }
  const outputs = Object.entries(manifest.outputs ?? {});
  lines.push('### Outputs', '');
  if (outputs.length === 0) lines.push('None.', '');
  else {
    lines.push('| Output | Description |', '| --- | --- |');
    for (const [name, spec] of outputs) lines.push(`| \`${name}\` | ${cell(spec.description)} |`);
    lines.push('');
  }
  return lines;
}

/** The whole page, generated from every `actions/<name>/action.yml`. */
export function renderActionsDoc(actionsDir: string = ACTIONS_DIR): string {
  const folders = actionFolders(actionsDir);
  if (folders.length === 0) throw new Error(`${actionsDir} holds no <action>/action.yml`);
  const manifests = folders.map((folder) => [folder, readManifest(actionsDir, folder)] as const);
  const lines = [
    '# Actions reference',
    '',
    '<!-- Generated from actions/*/action.yml by `npm run docs:actions`; do not edit by hand. -->',
    '',
    "The repository's custom actions, used by the workflows as `uses: ./actions/<name>`. Each is bundled into",
    '`actions/<name>/dist/index.js` (`npm run build:actions`). An input a step leaves out takes the default shown;',
    'for an "(empty)" default the description says what empty means (often: taken from the environment\'s file in',
    '`environments/`).',
    '',
    "Every action's source, `actions/src/<name>/`, has the same shape: `main.ts` only wires (it reads the inputs once",
    "through `settings.ts` into typed settings, builds the dependencies, calls the action's run function and turns a",
    'thrown error into a failed step); the decisions are pure modules tested as tables (`decide.ts`, `rules.ts`,',
    '`target.ts`, `judge.ts`); Helm, GitHub, HTTP and the clock come in as dependencies. What they share is in',
    '`actions/src/lib/`: the input reader (`inputs.ts`), the environments registry (`environments.ts`, which also says',
    'whether an environment is production), the `Helm` wrapper (`helm.ts`), kubeconfig handling (`kubeconfig.ts`), the',
    'temporary directory (`runner-temp.ts`), git (`git.ts`), the GitHub client, deployments and job summaries.',
    '',
    ...manifests.map(([folder, manifest]) => `- [${folder}](#${folder}): ${cell(manifest.name)}`),
    '',
    ...manifests.flatMap(([folder, manifest]) => section(folder, manifest)),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

/** docs/actions.md (or `docFile`) as generated from the action.yml files under `actionsDir`. */
export function actionsPage(actionsDir: string = ACTIONS_DIR, docFile: string = DOC_FILE): GeneratedPage {
  return {
    file: docFile,
    from: 'actions/*/action.yml',
    script: 'docs:actions',
    render: () => renderActionsDoc(actionsDir),
  };
}

generatorMain(actionsPage(), import.meta.url);
