/**
 * Enforcement, dry run: what enforce would do to the access key, and when (final notice, deactivation day). Announced once.
 * No credential record shows it alone: the scan makes it from the enforcement plan
 * (lambda/core/enforcement.ts `enforcementFindings`).
 */
import { defineRule } from './definition';

export const accessKeyDeactivationPlanned = defineRule({
  id: 'access-key-deactivation-planned',
  label: 'deactivation planned (dry run)',
  threshold: null,
  readsKeysLive: false,
  principal: 'account',
  exemptible: false,
  evaluate: () => [],
});
