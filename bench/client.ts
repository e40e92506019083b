import { IAMClient } from '@aws-sdk/client-iam';
import { IAM_CLIENT_DEFAULTS } from '../lambda/adapters/iam';

/** The region every benchmark client names (the local endpoints ignore it). */
export const REGION = 'us-east-1';

/** Credentials the local endpoints accept (they check no signature); obviously fake. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' } as const;

/**
 * The IAM client every single-account scan of the benchmark uses: the adapter's defaults (adaptive
 * retry, 10 attempts) pointed at the local endpoint, with fake credentials.
 */
export function benchClient(url: string): IAMClient {
  return new IAMClient({
    ...IAM_CLIENT_DEFAULTS,
    endpoint: url,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
  });
}
