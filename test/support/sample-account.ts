/** The small account the integration tests scan: four users whose findings are known by heart. */
import { DAY_MS } from '../../lambda/core/dates';
import { FakeAccount } from './account-generator';

/**
 * As of `now`: alice's key is 120 days old (critical, owner U024BE7LH), bob's 85 (warning), carol's
 * 10 (clean), dave signs in without MFA (critical).
 */
export function sampleAccount(now: Date, accountId = '123456789012', alias = 'example-prod'): FakeAccount {
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const a = new FakeAccount({ accountId, createdAt: ago(2000), alias });
  const used = { date: ago(1), service: 's3', region: 'us-east-1' };
  a.createUser('alice', {
    createdAt: ago(900),
    tags: { 'credwatch:owner': 'U024BE7LH' },
    accessKeys: [{ createdAt: ago(120), lastUsed: used }],
  });
  a.createUser('bob', { createdAt: ago(900), accessKeys: [{ createdAt: ago(85), lastUsed: used }] });
  a.createUser('carol', { createdAt: ago(900), accessKeys: [{ createdAt: ago(10), lastUsed: used }] });
  a.createUser('dave', {
    createdAt: ago(900),
    password: { lastChanged: ago(300), lastUsed: ago(2) },
    mfaActive: false,
  });
  return a;
}
