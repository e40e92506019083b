/**
 * credwatch as a CDK construct library: `import { CredwatchStack } from 'credwatch'` (docs/library.md).
 *
 * The whole deployment is {@link CredwatchStack}; its building blocks are exported too, for a stack of
 * your own: {@link ScannerFunction} (the scanner Lambda and its least-privilege role),
 * {@link ScannerSchedule} (EventBridge Scheduler and its dead-letter queue), {@link ScannerAlarms}
 * (alarms, topic and dashboard), {@link WebhookSecret} (the Slack webhook secret), {@link StateTable}
 * (what was already said) and, for the scanned accounts, {@link CredwatchMemberRoleStack} or the
 * {@link MemberRole} construct. {@link loadConfig} validates a configuration (docs/configuration.md)
 * and fills in its defaults, as bin/app.ts does.
 *
 * This is the package's only public entry point: anything imported from a deeper path may change
 * without notice.
 */

export type { UserDirectoryMode } from '../lambda/adapters/iam';
export {
  DEFAULT_ENFORCEMENT,
  type EnforcementMode,
  type EnforcementPolicy,
  enforcementPolicySchema,
} from '../lambda/core/enforcement';
export {
  ANNOUNCE_EVERYTHING,
  DEFAULT_NOTIFICATION_POLICY,
  type NotificationPolicy,
  type ReminderMode,
} from '../lambda/core/notification-plan';
export { DEFAULT_THRESHOLDS, type Thresholds } from '../lambda/core/policy';
export {
  type AccountsSettings,
  decodeSettings,
  type EnforcementSettings,
  encodeSettings,
  enforcementOf,
  type ScannerSettings,
  SETTINGS_VARIABLES,
} from '../lambda/settings';
export {
  ACCOUNT_SOURCES,
  type AccountSource,
  type AccountsConfig,
  ALARM_MODES,
  CONFIG_FILE_NAME,
  CONTEXT_KEY,
  ConfigError,
  type ConfigSource,
  type CredwatchConfig,
  configFieldOrigin,
  loadConfig,
  loadConfigSources,
  readConfigFile,
  type SlackSecretConfig,
  schedulePeriodMinutes,
  USER_DIRECTORY_MODES,
} from './config';
export {
  credwatchMetric,
  DURATION_ALARM_RATIO,
  HEARTBEAT_PERIODS,
  heartbeatWindow,
  ScannerAlarms,
  type ScannerAlarmsProps,
} from './constructs/alarms';
export {
  DEFAULT_MEMBER_ROLE_NAME,
  MEMBER_SESSION_SECONDS,
  MemberRole,
  /** The member-role construct under the name the documentation gives the member role. */
  MemberRole as CredwatchMemberRole,
  type MemberRoleProps,
} from './constructs/member-role';
export {
  DEFAULT_HANDLER_ENTRY,
  MAX_ENVIRONMENT_BYTES,
  METRICS_NAMESPACE,
  ScannerFunction,
  type ScannerFunctionProps,
  SERVICE_NAME,
} from './constructs/scanner-function';
export {
  SCHEDULE_EVENT_SOURCE,
  ScannerSchedule,
  type ScannerScheduleProps,
} from './constructs/scanner-schedule';
export { StateTable, type StateTableProps, TTL_ATTRIBUTE } from './constructs/state-table';
export { WebhookSecret, type WebhookSecretProps } from './constructs/webhook-secret';
export {
  addComplianceChecks,
  CredwatchStack,
  type CredwatchStackProps,
  memberRoleParameters,
  NOTIFY_NO_ONE,
} from './credwatch-stack';
export {
  CredwatchMemberRoleStack,
  type CredwatchMemberRoleStackProps,
  MEMBER_ROLE_STACK_NAME,
  MEMBER_ROLE_TEMPLATE_FILE,
  memberRoleEnforcement,
  memberRoleTemplateFor,
} from './member-role-stack';
