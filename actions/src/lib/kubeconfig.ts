import * as core from '@actions/core';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runnerTemp } from './runner-temp.ts';

/** Keys of a kubeconfig whose values are credentials: each is masked on its own, besides the whole file. */
const KUBECONFIG_SECRET_KEYS = new Set([
  'token',
  'password',
  'client-key-data',
  'client-certificate-data',
  'id-token',
  'refresh-token',
  'access-token',
  'client-secret',
]);

function maskCredentials(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(maskCredentials);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string' && KUBECONFIG_SECRET_KEYS.has(key) && value.length > 0) core.setSecret(value);
      else maskCredentials(value);
    }
  }
}

function safeYaml(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}

/**
 * Writes a kubeconfig given as a secret input (plain YAML or base64 of it) to a 0600 file in a fresh temp dir,
 * after registering it and every credential inside it with the runner's log masker. Returns the file's path.
 */
export function writeKubeconfig(content: string, dir: string = runnerTemp()): string {
  core.setSecret(content);
  let text = content.trim();
  let parsed: unknown = safeYaml(text);
  if (typeof parsed === 'string') {
    // A single scalar: try base64, the other common way to store a kubeconfig in a secret.
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    const decodedParsed = safeYaml(decoded);
    if (decodedParsed && typeof decodedParsed === 'object') {
      core.setSecret(decoded);
      text = decoded;
      parsed = decodedParsed;
    }
  }
  if (!parsed || typeof parsed !== 'object' || !('clusters' in parsed)) {
    throw new Error(
      'input "kubeconfig": not a kubeconfig (YAML with "clusters", "users", "contexts", or base64 of it); ' +
        'store the output of `kubectl config view --raw --minify` in the secret',
    );
  }
  maskCredentials(parsed);
  const file = path.join(mkdtempSync(path.join(dir, 'kubeconfig-')), 'config');
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The kubeconfig file for an optional `kubeconfig` input: written as above, or undefined (the ambient KUBECONFIG) when empty. */
export function kubeconfigFromInput(content: string): string | undefined {
  return content === '' ? undefined : writeKubeconfig(content);
}
