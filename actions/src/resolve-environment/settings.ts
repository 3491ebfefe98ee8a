import type { Inputs } from '../lib/inputs.ts';

/** resolve-environment's inputs, read once. */
export interface Settings {
  environmentsDir: string;
  /** An explicit environment name (input `environment`); '' lets the event decide. */
  environment: string;
}

export function readSettings(inputs: Inputs): Settings {
  return {
    environmentsDir: inputs.optional('environments-dir', 'environments'),
    environment: inputs.optional('environment'),
  };
}
