/**
 * Credentials for a member account: STS AssumeRole into its credwatch member role (session name
 * `credwatch`, optional external id), cached until five minutes before they expire.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { CredwatchError } from '../core/errors';

export class AssumeRoleError extends CredwatchError {}

export interface AssumeRoleProps {
  readonly roleArn: string;
  /** @default 'credwatch' */
  readonly sessionName?: string;
  readonly externalId?: string;
  /** @default 3600 */
  readonly durationSeconds?: number;
  /** @default a new STSClient with adaptive retry */
  readonly client?: STSClient;
  /** @default Date.now */
  readonly clock?: () => number;
}

const REFRESH_BEFORE_MS = 5 * 60_000;

/** The ARN of the member role in an account, in the partition of the deployment's region. */
export function memberRoleArn(accountId: string, roleName: string, region = 'us-east-1'): string {
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

export function assumeRoleCredentials(props: AssumeRoleProps): AwsCredentialIdentityProvider {
  const client = props.client ?? new STSClient({ retryMode: 'adaptive', maxAttempts: 5 });
  const clock = props.clock ?? Date.now;
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fetch = async (): Promise<AwsCredentialIdentity> => {
    try {
      const out = await client.send(
        new AssumeRoleCommand({
          RoleArn: props.roleArn,
          RoleSessionName: props.sessionName ?? 'credwatch',
          DurationSeconds: props.durationSeconds ?? 3600,
          ...(props.externalId ? { ExternalId: props.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
        throw new AssumeRoleError(`STS AssumeRole ${props.roleArn} returned no credentials`);
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    } catch (err) {
      if (err instanceof AssumeRoleError) throw err;
      throw new AssumeRoleError(
        `could not assume ${props.roleArn}: ${(err as Error).name}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  };
  return async () => {
    const fresh = cached && (!cached.expiration || cached.expiration.getTime() - clock() > REFRESH_BEFORE_MS);
    if (fresh) return cached!;
    pending ??= fetch().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached;
  };
}
