/**
 * Enforcement, dry run: enforce would deactivate the access key in this run. Announced once.
 * No credential record shows it alone: the scan makes it from the enforcement plan
 * (lambda/core/enforcement.ts `enforcementFindings`).
 */
import { defineRule } from './definition';

export const accessKeyWouldDeactivate = defineRule({
  id: 'access-key-would-deactivate',
  label: 'would deactivate (dry run)',
  threshold: null,
  readsKeysLive: false,
  principal: 'account',
  exemptible: false,
  evaluate: () => [],
});
