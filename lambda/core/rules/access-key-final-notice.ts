/**
 * Enforcement, enforce (lambda/core/enforcement.ts): the final notice before credwatch deactivates an access key, naming the day. Announced once; a deactivation waits for it by the lead time.
 * No credential record shows it alone: the scan makes it from the enforcement plan
 * (lambda/core/enforcement.ts `enforcementFindings`).
 */
import { defineRule } from './definition';

export const accessKeyFinalNotice = defineRule({
  id: 'access-key-final-notice',
  label: 'final notice',
  threshold: null,
  readsKeysLive: false,
  principal: 'account',
  exemptible: false,
  evaluate: () => [],
});
