/**
 * The live scan's AWS side as a person meets it: which profile, and one line on what to do when the
 * credentials are missing or expired (instead of the SDK's wording).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './input';

const configFiles = (env: NodeJS.ProcessEnv) => ({
  config: env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'),
  credentials: env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'),
});

const sections = (file: string): string[] =>
  existsSync(file)
    ? [...readFileSync(file, 'utf8').matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)].map((m) => m[1]!)
    : [];

/**
 * Refuses a named profile (`--profile`, `AWS_PROFILE`) that neither the config nor the credentials
 * file defines: the SDK would only say "Could not load credentials from any providers".
 * @throws UsageError naming the profile and the files looked in
 */
export function checkProfile(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (!profile) return;
  const files = configFiles(env);
  const inConfig = sections(files.config).some((s) =>
    profile === 'default'
      ? s === 'default' || s === 'profile default'
      : s.replace(/^profile\s+/, '') === profile,
  );
  if (inConfig || sections(files.credentials).includes(profile)) return;
  throw new UsageError(
    `AWS profile "${profile}" is not defined in ${files.config} or ${files.credentials} (aws configure list-profiles shows the profiles)`,
  );
}

/** Every error in a `cause` chain, outermost first. */
function* chain(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

/**
 * One line for a credentials problem, or undefined when the error is not one.
 * The SDK's own messages (and its Node-version warning) are not what a person needs to read.
 */
export function credentialsHint(err: unknown, profile: string | undefined): string | undefined {
  const who = profile ? `profile "${profile}"` : 'the default credential chain';
  for (const e of chain(err)) {
    const name = (e as Error).name ?? '';
    const message = (e as Error).message ?? '';
    if (
      /SSO session .* expired|Token is expired|token has expired|ExpiredToken/i.test(`${name} ${message}`)
    ) {
      return `the AWS credentials of ${who} have expired: run "aws sso login${profile ? ` --profile ${profile}` : ''}" (or refresh them) and try again`;
    }
    if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
      return profile
        ? `no AWS credentials from profile "${profile}": run "aws sso login --profile ${profile}" for an SSO profile or check its keys, or scan a downloaded report with --report FILE`
        : 'no AWS credentials found: set AWS_PROFILE or pass --profile NAME (after "aws sso login" for an SSO profile), or scan a downloaded report with --report FILE';
    }
  }
  return undefined;
}
