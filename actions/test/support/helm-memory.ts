import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HISTORY_DIR = fileURLToPath(new URL('../fixtures/helm-history/', import.meta.url));

/** helm's own in-memory release store, seeded from a file of release objects: real helm, no cluster. */
export function memoryStore(fixture: string): Record<string, string> {
  return {
    HELM_DRIVER: 'memory',
    HELM_MEMORY_DRIVER_DATA: path.join(HISTORY_DIR, `${fixture}.releases.yaml`),
    KUBECONFIG: '/nonexistent',
  };
}
