/**
 * Multi-account: an account that could not be scanned (role missing, access denied, throttled past
 * the deadline). No credential record shows it: the monitor raises it with accountScanFailure()
 * (lambda/core/accounts.ts), always critical, announced, reminded and resolved like any finding.
 */
import { defineRule } from './definition';

export const accountScanFailed = defineRule({
  id: 'account-scan-failed',
  label: 'account not scanned',
  threshold: null,
  readsKeysLive: false,
  principal: 'account',
  exemptible: false,
  evaluate: () => [],
});
