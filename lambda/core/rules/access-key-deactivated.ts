/**
 * Enforcement, enforce: credwatch set the access key Inactive (never deleted). Announced once with the command that undoes it; open while the key stays inactive.
 * No credential record shows it alone: the scan makes it from the enforcement plan
 * (lambda/core/enforcement.ts `enforcementFindings`).
 */
import { defineRule } from './definition';

export const accessKeyDeactivated = defineRule({
  id: 'access-key-deactivated',
  label: 'key deactivated',
  threshold: null,
  readsKeysLive: false,
  principal: 'account',
  exemptible: false,
  evaluate: () => [],
});
