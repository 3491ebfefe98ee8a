import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, symlinkSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { pullRequest } from './actions/test/support/events.ts';
import { makeWorkingCopy, runWorkflow, describeWorkflowRun } from './e2e/harness/act.ts';
import { startGitHubApiStub } from './test/support/github-api-stub.ts';

const scratch = mkdtempSync('/tmp/act-scratch/run-');
const pluginDir = '/tmp/act-tools/plugins';
mkdirSync(path.join(pluginDir, 'cli-plugins'), { recursive: true });
try { symlinkSync('/tmp/act-tools/buildx', path.join(pluginDir, 'cli-plugins', 'docker-buildx')); } catch {}
const tools = { act: '/tmp/act-tools/act', nodeDir: '/tmp/act-tools/node24', dockerPlugins: pluginDir, registry: '/tmp/act-tools/registry' };
const stub = await startGitHubApiStub();
const copy = makeWorkingCopy(scratch);
copy.branch('development', copy.head());
const baseSha = copy.head();
const headSha = copy.commit('two API replicas', (dir) => {
  const file = path.join(dir, 'environments', 'development.yaml');
  const d = parseDocument(readFileSync(file, 'utf8'));
  d.setIn(['values', 'api', 'replicas'], 2);
  writeFileSync(file, d.toString());
});
const t0 = Date.now();
const result = await runWorkflow({ repo: copy.dir, workflow: '.github/workflows/ci.yml', event: pullRequest({ base: 'development', head: 'feature/replicas', baseSha, headSha, mergeSha: headSha }), job: 'plan', apiUrl: stub.url, cacheDir: path.join(scratch, 'act'), tools, secrets: { KUBECONFIG: 'a: b\nc: d\n' } });
console.log(describeWorkflowRun(result, 400));
console.log(JSON.stringify(result.summaries, null, 1).slice(0, 2000));
console.log('comments', stub.comments.map((c) => c.body.slice(0, 300)));
console.log('took', Date.now() - t0);
await stub.stop();
