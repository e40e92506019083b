import { IAMClient } from '@aws-sdk/client-iam';
import { IAM_CLIENT_DEFAULTS } from '../lambda/adapters/iam';

/**
 * The IAM client every scan of the benchmark uses: the adapter's defaults (adaptive retry,
 * 10 attempts) pointed at the local endpoint, with fake credentials.
 */
export function benchClient(url: string): IAMClient {
  return new IAMClient({
    ...IAM_CLIENT_DEFAULTS,
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' },
  });
}
