import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';

const run = promisify(execFile);

export interface HistoryEntry {
  revision: number;
  status: string;
  description: string;
  app_version: string;
}

/** helm and kubectl (the official binaries from kubeBinaries()) bound to one kubeconfig, for assertions. */
export class KubeCli {
  readonly env: Record<string, string>;
  readonly kubeconfig: string;

  constructor(kubeconfig: string) {
    this.kubeconfig = kubeconfig;
    const { binDir } = kubeBinaries();
    this.env = {
      ...(process.env as Record<string, string>),
      KUBECONFIG: kubeconfig,
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    };
  }

  /** Runs a binary; a non-zero exit throws with the command and its stderr. */
  async exec(binary: 'helm' | 'kubectl', args: string[], input?: string): Promise<string> {
    const file = binary === 'helm' ? kubeBinaries().helm : kubeBinaries().kubectl;
    const child = run(file, args, { env: this.env, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      return (await child).stdout;
    } catch (error) {
      const failure = error as { stderr?: string; code?: number };
      throw new Error(`${binary} ${args.join(' ')} exited ${failure.code}: ${failure.stderr ?? String(error)}`);
    }
  }

  async kubectlJson<T>(args: string[]): Promise<T> {
    return JSON.parse(await this.exec('kubectl', [...args, '-o', 'json'])) as T;
  }

  /** `helm history -o json`, oldest first; [] when the release does not exist. */
  async history(release: string, namespace: string): Promise<HistoryEntry[]> {
    try {
      return JSON.parse(await this.exec('helm', ['history', release, '-n', namespace, '-o', 'json'])) as HistoryEntry[];
    } catch (error) {
      if (/not found/i.test(String(error))) return [];
      throw error;
    }
  }

  /** `kind/name` of every object in the release's current manifest (hooks excluded, as helm keeps them apart). */
  async manifestObjects(release: string, namespace: string): Promise<string[]> {
    const manifest = await this.exec('helm', ['get', 'manifest', release, '-n', namespace]);
    return parseAllDocuments(manifest)
      .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
      .filter((object): object is { kind: string; metadata: { name: string } } =>
        Boolean(object?.kind && object.metadata?.name),
      )
      .map((object) => `${object.kind}/${object.metadata.name}`);
  }

  /** The container images of a Deployment's pod template. */
  async deploymentImages(name: string, namespace: string): Promise<string[]> {
    const deployment = await this.kubectlJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>([
      'get',
      'deployment',
      name,
      '-n',
      namespace,
    ]);
    return deployment.spec.template.spec.containers.map((container) => container.image);
  }
}
