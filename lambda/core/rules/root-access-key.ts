/** An active access key on the root user, one finding per key, whatever its age: Security Hub IAM.4. */
import { wholeDaysBetween } from '../dates';
import { defineRule } from './definition';
import { asLastUsed, keyCredential } from './helpers';

export const rootAccessKey = defineRule({
  id: 'root-access-key',
  label: 'root access key',
  threshold: 'rootAccessKey',
  // Root keys cannot be listed from a role (ListAccessKeys without UserName lists the caller's own).
  readsKeysLive: false,
  principal: 'root',
  exemptible: false,
  evaluate: ({ record, thresholds, now, activeKeys }) =>
    activeKeys.map((key) => ({
      severity: thresholds.rootAccessKey,
      credential: keyCredential(key, record.accessKeys),
      summary: `The root user has an active access key (${key.id ?? `slot ${key.slot ?? '?'}`}); delete it.`,
      extra: {
        ...(key.id ? { accessKeyId: key.id } : {}),
        ...(key.createdAt ? { days: wholeDaysBetween(key.createdAt, now) } : {}),
        lastUsed: asLastUsed(key),
      },
    })),
});
