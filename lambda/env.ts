/**
 * The Lambda's configuration, read once from its environment: the settings the stack wrote
 * (lambda/settings.ts, the one schema of the CREDWATCH_* variables) and the region Lambda sets. A
 * missing or bad variable fails the invocation with a message naming it (the Errors alarm then fires).
 */
import { decodeSettings, type ScannerSettings } from './settings';

export type { AccountsSettings } from './settings';

export interface LambdaEnv extends ScannerSettings {
  /** The Lambda's region (`AWS_REGION`, set by Lambda): the partition of member role ARNs. */
  readonly region: string;
}

export function readEnv(env: Readonly<Record<string, string | undefined>>): LambdaEnv {
  return { ...decodeSettings(env), region: env.AWS_REGION ?? 'us-east-1' };
}
