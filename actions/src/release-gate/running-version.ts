import type { Helm } from '../lib/helm.ts';

/**
 * The version a release runs now: the `appVersion` value (set by helm-deploy with `--set-string appVersion=`) of
 * its deployed revision — which need not be the newest, when a later upgrade failed — else that revision's chart
 * appVersion; `undefined` when there is no such release or no deployed revision.
 */
export async function runningVersion(helm: Helm, release: string, namespace: string): Promise<string | undefined> {
  const deployed = (await helm.history(release, namespace))?.filter((entry) => entry.status === 'deployed').pop();
  if (!deployed) return undefined;
  const fromValues = (await helm.values(release, namespace, deployed.revision))?.appVersion;
  if (typeof fromValues === 'string' && fromValues.length > 0) return fromValues;
  return deployed.app_version || undefined;
}
