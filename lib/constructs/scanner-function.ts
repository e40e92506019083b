import * as path from 'node:path';
import { Duration, Size, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { UserDirectoryMode } from '../../lambda/adapters/iam';
import { METRICS_NAMESPACE, SERVICE_NAME, STATE_TABLE_SCHEMA } from '../../lambda/contracts';
import { enforcementPolicySchema, TAG_PROTECTED } from '../../lambda/core/enforcement';
import { ConfigError } from '../../lambda/core/errors';
import {
  checkPolicy,
  DEFAULT_NOTIFICATION_POLICY,
  type NotificationPolicy,
} from '../../lambda/core/notification-plan';
import type { Thresholds } from '../../lambda/core/policy';
import { routeSourceProblem, routingNeeds } from '../../lambda/core/routing';
import {
  type AccountsSettings,
  type EnforcementSettings,
  encodeSettings,
  POWERTOOLS_ENVIRONMENT,
  type ScannerSettings,
  SETTINGS_VARIABLES,
} from '../../lambda/settings';
import {
  type AccountsConfig,
  DEADLINE_MARGIN_SECONDS,
  enforcementOn,
  enforces,
  knownAccountIds,
} from '../config';
import { wholeDuration, wholeMebibytes } from './validate';

// The names the function emits its metrics under, shared with lambda/ (one definition).
export { METRICS_NAMESPACE, SERVICE_NAME };

/** The partition key prefix of an account's items in the state table (`account#ID`). */
const ACCOUNT_PARTITION_PREFIX = 'account#';

/** Lambda's bounds on the age of an asynchronous invocation event, in seconds. */
export const ASYNC_EVENT_AGE_SECONDS = { min: 60, max: 21_600 } as const;

/** Lambda's limit on the total size of a function's environment variables, in bytes. */
export const MAX_ENVIRONMENT_BYTES = 4096;
/** Bytes counted for a value CloudFormation fills in at deploy time (a secret ARN, a table name). */
const DEPLOY_TIME_VALUE_BYTES = 256;
/** Lambda's bounds on a function's memory, in MiB. */
export const MEMORY_MIB = { min: 128, max: 10_240 } as const;

/** The handler the function bundles. */
export const DEFAULT_HANDLER_ENTRY = path.join(__dirname, '../../lambda/handler.ts');
/** The steps of the state machine engine (lambda/steps.ts). */
export const STEPS_ENTRY = path.join(__dirname, '../../lambda/steps.ts');

/**
 * A step of the state machine engine (lib/constructs/scanner-state-machine.ts), and the handler it
 * runs in lambda/steps.ts. Each step's role has only what that step calls.
 */
export type ScannerStep = 'discover' | 'scanBatch' | 'deliver';
const STEP_HANDLERS: Record<ScannerStep, string> = {
  discover: 'discover',
  scanBatch: 'scanBatch',
  deliver: 'deliverRun',
};

export interface ScannerFunctionProps {
  /** The validated thresholds, passed to the function as JSON. */
  readonly thresholds: Thresholds;
  /** The table the scanner remembers announced findings in. */
  readonly stateTable: dynamodb.ITable;
  /**
   * The secret that holds the Slack webhook URL: a `Secret` of the stack, or one imported with
   * `Secret.fromSecretNameV2`, `fromSecretCompleteArn`, `fromSecretPartialArn` or
   * `fromSecretAttributes`. The role may read exactly that secret: by its complete ARN, or, for a
   * secret known by name or partial ARN, by that ARN followed by Secrets Manager's random suffix
   * (`-??????`). The function is given its `secretArn`.
   */
  readonly webhookSecret: secretsmanager.ISecret;
  /**
   * The customer-managed key that encrypts the secret: the role may decrypt with it through Secrets
   * Manager only. Not needed for a secret encrypted with the AWS managed key `aws/secretsmanager`.
   * @default the secret's `encryptionKey` (none for a secret imported by name or ARN)
   */
  readonly webhookSecretKey?: kms.IKey;
  /** How long the scanner waits for IAM's credential report; whole seconds, less than `timeout` - 30 s. @default Duration.seconds(60) */
  readonly reportDeadline?: Duration;
  /** After how long a still-open finding is announced again; whole hours. @default Duration.hours(24) */
  readonly reminderInterval?: Duration;
  /** The function's memory; whole MiB, 128 to 10240. @default Size.mebibytes(512) */
  readonly memorySize?: Size;
  /** The function's timeout; whole seconds, shorter than `schedulePeriod`. @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** Retention of the function's log group (not `INFINITE`). @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /**
   * One schedule period, whole minutes (lib/config/schedule.ts `schedulePeriodMinutes`): passed as
   * `CREDWATCH_SCHEDULE_PERIOD_MINUTES` (the handler refuses an invocation whose scheduled time is
   * further from the clock), and the longest an asynchronous invocation may wait (clamped to Lambda's
   * 60 s to 6 h). Lambda never retries a run: the next scheduled run is the retry.
   */
  readonly schedulePeriod: Duration;
  /**
   * Reserve one concurrent execution, so that two runs never overlap (they would announce the same
   * change twice). Needs an account concurrency quota above 10 (Lambda keeps 10 unreserved).
   * @default true
   */
  readonly reservedConcurrency?: boolean;
  /** The handler source to bundle. @default DEFAULT_HANDLER_ENTRY (lambda/handler.ts), STEPS_ENTRY for a step */
  readonly entry?: string;
  /**
   * One step of the state machine engine instead of the whole run: the function runs that step's
   * handler (lambda/steps.ts), and its role gets only what the step calls: `discover` lists the
   * accounts (Organizations) and writes the run bucket; `scanBatch` assumes the member roles, reads
   * the state table and writes the run bucket; `deliver` reads the run bucket, reads and writes the
   * state table, reads the secret, publishes events. Needs `runBucket` and `accounts`.
   * @default the whole run in one invocation (lambda/handler.ts)
   */
  readonly step?: ScannerStep;
  /** The bucket the steps hand each other data through (lib/constructs/scanner-state-machine.ts). */
  readonly runBucket?: s3.IBucket;
  /** How long a state machine run holds the run lease at most: its execution's timeout; whole minutes. */
  readonly runLease?: Duration;
  /**
   * The accounts to scan (the validated `accounts` configuration, lib/config/accounts.ts). Any source but
   * `self` names the role `scannerRoleName`, lets it assume `memberRoleName` in the scanned accounts
   * (and, for `organization`, list the organization's accounts) and passes `CREDWATCH_ACCOUNTS`.
   * @default the deployment's own account, scanned with the function's own role (no AssumeRole)
   */
  readonly accounts?: AccountsConfig;
  /**
   * How the scanner reads users and their tags (lib/config/scanner.ts `userDirectory`): decides between
   * `iam:GetAccountAuthorizationDetails` and `iam:ListUsers` + `iam:ListUserTags` in the role, and
   * passes `CREDWATCH_USER_DIRECTORY` when not the default.
   * @default 'authorization-details'
   */
  readonly userDirectory?: UserDirectoryMode;
  /**
   * Export announced findings to Security Hub CSPM (lib/config/scanner.ts `securityHub`): passes
   * `CREDWATCH_SECURITY_HUB=true` and lets the role import findings into its own account's default
   * product (`securityhub:BatchImportFindings`, nothing else).
   * @default false
   */
  readonly securityHub?: boolean;
  /**
   * Baseline, roll-up and the message cap (lib/config/notifications.ts `notifications`), passed as
   * `CREDWATCH_NOTIFICATIONS`. @default DEFAULT_NOTIFICATION_POLICY
   */
  readonly notifications?: NotificationPolicy;
  /**
   * Opt-in enforcement (lib/config/enforcement.ts `enforcement`, docs/enforcement.md), passed as
   * `CREDWATCH_ENFORCEMENT` when some policy is not `off`. Only when some policy has mode `enforce`
   * does the role get more: scanning its own account, `iam:UpdateAccessKey` on the account's users
   * with the Deny statements of {@link deactivationStatements}; the scanBatch step, `dynamodb:PutItem`
   * of the accounts' items (it records each deactivation at once). `off` and `dry-run` add nothing.
   * @default off
   */
  readonly enforcement?: EnforcementSettings;
}

/**
 * Which placement of each account the scanner reads from Organizations, from the routes
 * (lambda/core/routing.ts `routingNeeds`): the `DiscoverAccounts` statement gets exactly the
 * Organizations actions reading it takes ({@link discoveryActions}).
 */
export interface AccountPlacementNeeds {
  /** Each account's OUs, up to the root. */
  readonly organizationalUnits: boolean;
  /** Each account's Organizations tags. */
  readonly tags: boolean;
}

/**
 * The Organizations actions the scanner calls (lambda/adapters/organizations.ts) for `accounts`
 * and `placement`, sorted; none for a deployment that neither discovers its accounts nor reads
 * their placement.
 */
export function discoveryActions(
  accounts: Pick<AccountsConfig, 'source' | 'organizationalUnits'>,
  placement: AccountPlacementNeeds = { organizationalUnits: false, tags: false },
): string[] {
  if (accounts.source !== 'organization') return [];
  const actions = new Set<string>();
  const walk = ['ListAccountsForParent', 'ListOrganizationalUnitsForParent'];
  const ous = accounts.organizationalUnits ?? [];
  if (ous.length > 0) {
    // The walk below the given OUs; with OUs placed, ListParents reads the chain above each given
    // OU that is not a root.
    for (const a of walk) actions.add(a);
    if (placement.organizationalUnits && ous.some((ou) => !ou.startsWith('r-'))) actions.add('ListParents');
  } else if (placement.organizationalUnits) {
    // The walk of the whole organization from its roots (it lists every account on the way).
    for (const a of ['ListRoots', ...walk]) actions.add(a);
  } else {
    actions.add('ListAccounts');
  }
  if (placement.tags) actions.add('ListTagsForResource');
  return [...actions].map((a) => `organizations:${a}`).sort();
}

/**
 * What reading an account's IAM credential metadata takes (the scanner's own account, and every
 * member account's role): the credential report, users with their tags and aliases, and every user's
 * access keys. Users and tags come from `iam:GetAccountAuthorizationDetails` (`authorization-details`,
 * the default; it also lets the role read every policy document of the account) or from
 * `iam:ListUsers` and `iam:ListUserTags` (`list-users`): the role gets exactly one of the two.
 */
export function credentialReadStatements(
  stack: Stack,
  options: { readonly userDirectory?: UserDirectoryMode } = {},
): iam.PolicyStatement[] {
  const listUsers = (options.userDirectory ?? 'authorization-details') === 'list-users';
  const anyUser = stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' });
  return [
    new iam.PolicyStatement({
      sid: 'ReadCredentialReport',
      // The report, and the account alias shown in the Slack header.
      actions: ['iam:GenerateCredentialReport', 'iam:GetCredentialReport', 'iam:ListAccountAliases'],
      // These actions have no resource type (Service Authorization Reference): IAM only accepts "*".
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadUsers',
      // No resource type either: "*". (The member role template swaps this whole statement.)
      actions: [listUsers ? 'iam:ListUsers' : 'iam:GetAccountAuthorizationDetails'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadRootMfaType',
      // Whether the root user's MFA device is virtual (rule root-virtual-mfa). No resource type
      // (Service Authorization Reference): "*".
      actions: ['iam:ListVirtualMFADevices'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadAccessKeys',
      actions: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'],
      resources: [anyUser],
    }),
    ...(listUsers
      ? [
          new iam.PolicyStatement({
            sid: 'ReadUserTags',
            // Resource type `user`: every user, as ListUsers lists them all.
            actions: ['iam:ListUserTags'],
            resources: [anyUser],
          }),
        ]
      : []),
  ];
}

/** The Sids of {@link deactivationStatements}. */
export const DEACTIVATION_SIDS = [
  'DeactivateAccessKeys',
  'NeverTouchTaggedUsers',
  'NeverTouchListedUsers',
] as const;

/**
 * What deactivating access keys takes (enforcement mode `enforce`, in the scanner's own account or a
 * member role): `iam:UpdateAccessKey` on the account's users, and nothing else of IAM's writes; an
 * explicit Deny of it on users tagged `credwatch:protected` and on the `protectedUsers` names
 * (`user/NAME` and, for any path, `user/*\/NAME`; a name ending in `*` is a prefix, so the Deny may
 * cover more users than the list, never fewer). The Deny holds even if someone adds an Allow later.
 *
 * IAM has no condition key for the status UpdateAccessKey sets: this lets the role activate a key as
 * well as deactivate it. That credwatch never activates a key is the adapter's doing (it only ever
 * sends `Status: Inactive`, lambda/adapters/iam.ts), not IAM's (docs/deploy.md, "Enforcement").
 */
export function deactivationStatements(
  stack: Stack,
  protectedUsers: readonly string[],
): iam.PolicyStatement[] {
  const user = (name: string) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: name });
  return [
    new iam.PolicyStatement({
      sid: 'DeactivateAccessKeys',
      // Resource type `user`: any user of this account (the policy decides which keys, the adapter
      // sends Inactive only). No condition key says which status is set (above).
      actions: ['iam:UpdateAccessKey'],
      resources: [user('*')],
    }),
    new iam.PolicyStatement({
      sid: 'NeverTouchTaggedUsers',
      effect: iam.Effect.DENY,
      actions: ['iam:UpdateAccessKey'],
      resources: [user('*')],
      // The tag is present, whatever its value.
      conditions: { Null: { [`iam:ResourceTag/${TAG_PROTECTED}`]: 'false' } },
    }),
    ...(protectedUsers.length > 0
      ? [
          new iam.PolicyStatement({
            sid: 'NeverTouchListedUsers',
            effect: iam.Effect.DENY,
            actions: ['iam:UpdateAccessKey'],
            resources: protectedUsers.flatMap((name) => [user(name), user(`*/${name}`)]),
          }),
        ]
      : []),
  ];
}

/**
 * The enforcement settings checked as the function reads them (lambda/core/enforcement.ts
 * `enforcementPolicySchema`): a library user's props get the configuration's refusals.
 * @throws ConfigError `ScannerFunction: enforcement.<policy or accounts.ID>.<field>: why`
 */
function checkedEnforcement(enforcement: EnforcementSettings): EnforcementSettings {
  const check = (path: string, policy: unknown) => {
    const parsed = enforcementPolicySchema.safeParse(policy);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const field = [path, ...issue.path.map(String)].join('.');
    throw new ConfigError(`ScannerFunction: enforcement.${field}: ${issue.message}`);
  };
  const policy = check('policy', enforcement.policy);
  if (!enforcement.accounts) return { policy };
  return {
    policy,
    accounts: Object.fromEntries(
      Object.entries(enforcement.accounts).map(([id, p]) => {
        if (!/^\d{12}$/.test(id)) {
          throw new ConfigError(
            `ScannerFunction: enforcement.accounts: expected 12-digit account ids as keys, got "${id}"`,
          );
        }
        return [id, check(`accounts.${id}`, p)];
      }),
    ),
  };
}

/**
 * What the function needs of a multi-account `accounts` configuration (lambda/settings.ts
 * `AccountsSettings`), or `undefined` for source `self`, which scans the deployment's own account.
 * The scanner role's name and the organization id are the stack's, not the function's.
 */
export function accountsSettings(accounts: AccountsConfig | undefined): AccountsSettings | undefined {
  const source = accounts?.source;
  if (!accounts || source === undefined || source === 'self') return undefined;
  const { ids, organizationalUnits, include, exclude, memberRoleName, externalId, concurrency } = accounts;
  return {
    source,
    ...(ids ? { ids: [...ids] } : {}),
    ...(organizationalUnits ? { organizationalUnits: [...organizationalUnits] } : {}),
    ...(include ? { include: [...include] } : {}),
    ...(exclude ? { exclude: [...exclude] } : {}),
    memberRoleName,
    ...(externalId ? { externalId } : {}),
    concurrency,
    ...(accounts.thresholds ? { thresholds: { ...accounts.thresholds } } : {}),
  };
}

/**
 * The resource ARN a policy names to read `secret`: its complete ARN, or (a secret known by name or
 * partial ARN) that ARN with Secrets Manager's six random characters matched by `-??????`, as CDK's
 * own grants do. Exactly that secret, never a prefix of other secrets' names.
 */
export function secretPolicyArn(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/**
 * The size Lambda counts for an environment, with each deploy-time value (a token) counted as
 * DEPLOY_TIME_VALUE_BYTES: a safe upper estimate, checked at synth rather than failing the deploy.
 */
function environmentBytes(variables: Readonly<Record<string, string>>): number {
  const counted = Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [
      k,
      Token.isUnresolved(v) ? 'x'.repeat(DEPLOY_TIME_VALUE_BYTES) : v,
    ]),
  );
  return Buffer.byteLength(JSON.stringify(counted));
}

/**
 * The scanner Lambda: Node 24 on arm64, bundled locally with esbuild as ESM, one concurrent run, its
 * own log group, and a hand-written role that can read IAM credential metadata and its own secret,
 * write its own table, events and logs, and nothing else; in a multi-account deployment also assume the
 * member role of the scanned accounts and (source `organization`) list the organization's accounts.
 */
export class ScannerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Every statement of the role's only (inline) policy. */
  readonly statements: readonly iam.PolicyStatement[];
  /**
   * The settings the function is given (lambda/settings.ts), as its environment carries them
   * (`encodeSettings`): the secret ARN and the table name are deploy-time tokens.
   */
  readonly settings: ScannerSettings;

  constructor(scope: Construct, id: string, props: ScannerFunctionProps) {
    super(scope, id);
    const where = (prop: keyof ScannerFunctionProps) => `ScannerFunction: ${prop}`;
    const timeout = props.timeout ?? Duration.minutes(5);
    const reportDeadline = props.reportDeadline ?? Duration.seconds(60);
    const reminderInterval = props.reminderInterval ?? Duration.hours(24);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const step = props.step;
    const entry = props.entry ?? (step ? STEPS_ENTRY : DEFAULT_HANDLER_ENTRY);
    const accounts = props.accounts?.source === 'self' ? undefined : props.accounts;
    if (step && (!accounts || !props.runBucket)) {
      throw new ConfigError(
        `${where('step')}: the ${step} step of the state machine engine needs accounts other than the own account and a runBucket`,
      );
    }

    const timeoutSeconds = wholeDuration(where('timeout'), timeout, 'seconds');
    const deadlineSeconds = wholeDuration(where('reportDeadline'), reportDeadline, 'seconds');
    wholeDuration(where('reminderInterval'), reminderInterval, 'hours');
    const periodMinutes = wholeDuration(where('schedulePeriod'), props.schedulePeriod, 'minutes');
    const memoryMib = wholeMebibytes(
      where('memorySize'),
      props.memorySize ?? Size.mebibytes(512),
      MEMORY_MIB.min,
      MEMORY_MIB.max,
    );
    const deadlineLimit = timeoutSeconds - DEADLINE_MARGIN_SECONDS;
    if (deadlineSeconds >= deadlineLimit) {
      throw new ConfigError(
        `${where('reportDeadline')}: must be less than timeout - ${DEADLINE_MARGIN_SECONDS} seconds (${deadlineLimit} seconds), got ${deadlineSeconds} seconds`,
      );
    }
    if (timeoutSeconds >= periodMinutes * 60) {
      throw new ConfigError(
        `${where('timeout')}: must be shorter than one schedulePeriod (${periodMinutes * 60} seconds), got ${timeoutSeconds} seconds`,
      );
    }
    if (
      !(Object.values(logs.RetentionDays) as unknown[]).includes(logRetention) ||
      logRetention === logs.RetentionDays.INFINITE
    ) {
      throw new ConfigError(
        `${where('logRetention')}: expected a logs.RetentionDays value other than INFINITE, got ${String(logRetention)}`,
      );
    }
    const secret = props.webhookSecret;
    const secretKey = props.webhookSecretKey ?? secret.encryptionKey;

    const accountsSetting = accountsSettings(accounts);
    const enforcement =
      props.enforcement && enforcementOn(props.enforcement)
        ? checkedEnforcement(props.enforcement)
        : undefined;
    const enforcing = enforces(enforcement);
    this.settings = {
      thresholds: props.thresholds,
      reportDeadlineMs: reportDeadline.toMilliseconds(),
      reminderIntervalMs: reminderInterval.toMilliseconds(),
      slackSecretArn: secret.secretArn,
      stateTable: props.stateTable.tableName,
      eventBusName: 'default',
      schedulePeriodMs: props.schedulePeriod.toMilliseconds(),
      userDirectory: props.userDirectory ?? 'authorization-details',
      ...(accountsSetting ? { accounts: accountsSetting } : {}),
      securityHub: props.securityHub ?? false,
      notifications: checkPolicy(props.notifications ?? DEFAULT_NOTIFICATION_POLICY),
      ...(props.runBucket ? { runBucket: props.runBucket.bucketName } : {}),
      ...(props.runLease ? { runLeaseMs: props.runLease.toMilliseconds() } : {}),
      ...(enforcement ? { enforcement } : {}),
    };
    const routeProblem = routeSourceProblem(
      this.settings.notifications.routes ?? [],
      accounts?.source ?? 'self',
    );
    if (routeProblem) throw new ConfigError(`ScannerFunction: notifications.${routeProblem.text}`);
    const needs = routingNeeds(this.settings.notifications.routes);
    const environment: Record<string, string> = {
      ...encodeSettings(this.settings),
      ...POWERTOOLS_ENVIRONMENT,
    };
    const bytes = environmentBytes(environment);
    if (bytes > MAX_ENVIRONMENT_BYTES) {
      const accountsVariable = SETTINGS_VARIABLES.accounts;
      const enforcementVariable = SETTINGS_VARIABLES.enforcement;
      const enforcementBytes =
        environment[enforcementVariable] === undefined
          ? ''
          : `, ${enforcementVariable}: ${Buffer.byteLength(environment[enforcementVariable])}`;
      throw new ConfigError(
        `ScannerFunction: the environment would take up to ${bytes} bytes, more than Lambda's ${MAX_ENVIRONMENT_BYTES} (${accountsVariable}: ${Buffer.byteLength(environment[accountsVariable] ?? '')}${enforcementBytes}); list fewer accounts or per-account thresholds${enforcementBytes ? ' or per-account enforcement' : ''}`,
      );
    }

    const stack = Stack.of(this);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: logRetention });

    const all: iam.PolicyStatement[] = [
      // Its own account's IAM only when it scans that account itself: a multi-account scanner reads
      // every account, its own included, through the member role.
      ...(accounts
        ? this.multiAccountStatements(accounts, {
            organizationalUnits: needs.organizationalUnits,
            tags: needs.accountTags,
          })
        : credentialReadStatements(stack, { userDirectory: props.userDirectory })),
      // Enforcement in its own account: a multi-account scanner deactivates through the member role.
      ...(enforcing && !accounts ? deactivationStatements(stack, enforcement!.policy.protectedUsers) : []),
      new iam.PolicyStatement({
        sid: 'ReadWebhookSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secretPolicyArn(secret)],
      }),
      ...(secretKey
        ? [
            new iam.PolicyStatement({
              sid: 'DecryptWebhookSecret',
              actions: ['kms:Decrypt'],
              resources: [secretKey.keyArn],
              conditions: {
                StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
              },
            }),
          ]
        : []),
      new iam.PolicyStatement({
        sid: 'ReadWriteState',
        // What lambda/adapters/state-store.ts calls: Query to load, conditional PutItem to commit,
        // DeleteItem where a finding's state of a channel is moved to its own key (relocate);
        // with enforcement, PutItem also records each action (`#action/...` items) at once.
        actions: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.stateTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'WriteEventOutbox',
        // The event outbox (an event waits there until EventBridge took it), written and emptied 25
        // entries a BatchWriteItem: its partition alone, so a batch can never write a finding's
        // state past the conditional PutItem that keeps the newer scan's.
        actions: ['dynamodb:BatchWriteItem'],
        resources: [props.stateTable.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATE_TABLE_SCHEMA.outboxPartition] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'ReadMessageRecords',
        // The Slack app mode (docs/alerts.md): the record of a posted message (`thread#<conversation>`
        // items, written by ReadWriteState's PutItem) is read back to update the message when its
        // findings are resolved. Only those items: no other item of the table can be read one by one.
        actions: ['dynamodb:GetItem'],
        resources: [props.stateTable.tableArn],
        // ForAllValues alone would also allow a request without the key: Null false requires it.
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`${STATE_TABLE_SCHEMA.threadPartitionPrefix}*`],
          },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'PublishChanges',
        actions: ['events:PutEvents'],
        resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
      }),
      ...(props.securityHub
        ? [
            new iam.PolicyStatement({
              sid: 'ExportToSecurityHub',
              // Resource type `product` (Service Authorization Reference): the account's own default
              // product, the only one its custom findings are imported into.
              actions: ['securityhub:BatchImportFindings'],
              resources: [
                stack.formatArn({
                  service: 'securityhub',
                  resource: 'product',
                  resourceName: `${stack.account}/default`,
                }),
              ],
            }),
          ]
        : []),
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's Arn attribute ends in ":*", which covers its log streams.
        resources: [this.logGroup.logGroupArn],
      }),
      // Only a step of the state machine engine hands data on through the run bucket.
      ...(step && props.runBucket
        ? [
            new iam.PolicyStatement({
              sid: 'HoldRunLease',
              // lambda/adapters/state-store.ts acquire/release: the run lease item, no other item.
              actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
              resources: [props.stateTable.tableArn],
              conditions: {
                'ForAllValues:StringEquals': {
                  'dynamodb:LeadingKeys': [STATE_TABLE_SCHEMA.runLease.partitionKey],
                },
              },
            }),
            new iam.PolicyStatement({
              sid: 'MarkDelivery',
              // lambda/adapters/state-store.ts beginDelivery (deliver): the start of the run's delivery,
              // marked on the run lease item with a conditional UpdateItem (ALL_OLD on a refusal, a
              // GetItem where the store does not return it, to say why); no other item.
              actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
              resources: [props.stateTable.tableArn],
              conditions: {
                'ForAllValues:StringEquals': {
                  'dynamodb:LeadingKeys': [STATE_TABLE_SCHEMA.runLease.partitionKey],
                },
                Null: { 'dynamodb:LeadingKeys': 'false' },
              },
            }),
            new iam.PolicyStatement({
              sid: 'WriteAccountList',
              // lambda/adapters/run-store.ts: the run's account list, beyond the inline limit (discover).
              actions: ['s3:PutObject'],
              resources: [props.runBucket.arnForObjects('runs/*/accounts.json')],
            }),
            new iam.PolicyStatement({
              sid: 'WriteDeltas',
              // Each account's delta (scanBatch).
              actions: ['s3:PutObject'],
              resources: [props.runBucket.arnForObjects('runs/*/deltas/*')],
            }),
            new iam.PolicyStatement({
              sid: 'ReadRunBucket',
              // The account list and the deltas (deliver), listed under the run's prefix, then read.
              actions: ['s3:GetObject'],
              resources: [props.runBucket.arnForObjects('runs/*')],
            }),
            new iam.PolicyStatement({
              sid: 'ListRunBucket',
              actions: ['s3:ListBucket'],
              resources: [props.runBucket.bucketArn],
              conditions: { StringLike: { 's3:prefix': ['runs/*'] } },
            }),
          ]
        : []),
    ];
    // Each step's role has only what that step calls (lambda/steps.ts).
    const STEP_STATEMENTS: Record<ScannerStep, readonly string[]> = {
      discover: ['DiscoverAccounts', 'HoldRunLease', 'WriteAccountList', 'WriteOwnLogs'],
      scanBatch: ['AssumeMemberRoles', 'ReadState', 'WriteDeltas', 'WriteOwnLogs'],
      deliver: [
        'ReadWebhookSecret',
        'DecryptWebhookSecret',
        'ReadWriteState',
        'WriteEventOutbox',
        'MarkDelivery',
        'ReadMessageRecords',
        'PublishChanges',
        'ExportToSecurityHub',
        'ReadRunBucket',
        'ListRunBucket',
        'WriteOwnLogs',
      ],
    };
    this.statements = step
      ? [
          ...all.filter((st) => STEP_STATEMENTS[step].includes(st.sid ?? '')),
          ...(step === 'scanBatch'
            ? [
                new iam.PolicyStatement({
                  sid: 'ReadState',
                  // scanEach loads each account's remembered states (Query); it writes nothing but,
                  // with enforcement, the record of each action (RecordEnforcementActions).
                  actions: ['dynamodb:Query'],
                  resources: [props.stateTable.tableArn],
                }),
                ...(enforcing
                  ? [
                      new iam.PolicyStatement({
                        sid: 'RecordEnforcementActions',
                        // lambda/adapters/state-store.ts: a deactivation is recorded at once (an item
                        // `#action/...` of the account's partition `account#ID`), before the batch
                        // ends. Only the accounts' partitions: never the run lease. IAM has no
                        // condition key for the sort key, so the `#action/` prefix is the adapter's.
                        actions: ['dynamodb:PutItem'],
                        resources: [props.stateTable.tableArn],
                        conditions: {
                          'ForAllValues:StringLike': {
                            'dynamodb:LeadingKeys': [`${ACCOUNT_PARTITION_PREFIX}*`],
                          },
                        },
                      }),
                    ]
                  : []),
              ]
            : []),
        ]
      : all;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      // Member accounts' trust policies name this role, so it must keep a name they can know: the role
      // that assumes them (the whole run's, or the scanBatch step's).
      ...(accounts && (!step || step === 'scanBatch') ? { roleName: accounts.scannerRoleName } : {}),
      description: accounts
        ? 'credwatch scanner: assumes the credwatch member role in the scanned accounts (which reads IAM credential metadata); reads its secret; writes its table, events, logs'
        : enforcing
          ? 'credwatch scanner: reads IAM credential metadata, its secret; deactivates access keys (enforcement); writes its table, events, logs'
          : 'credwatch scanner: reads IAM credential metadata, its secret; writes its table, events, logs',
      inlinePolicies: { Scanner: new iam.PolicyDocument({ statements: [...this.statements] }) },
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: step ? STEP_HANDLERS[step] : 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: memoryMib,
      timeout,
      // A step runs inside one execution at a time (the state machine's schedule and its own
      // concurrency decide); the map's children run many scanBatch at once.
      ...(props.reservedConcurrency === false || step ? {} : { reservedConcurrentExecutions: 1 }),
      // An asynchronous run is never retried by Lambda and expires after one schedule period: a retry
      // would rescan with a stale scheduled time, and the next scheduled run comes anyway.
      // A step is invoked synchronously by its state machine: no asynchronous invoke config.
      ...(step
        ? {}
        : {
            retryAttempts: 0,
            maxEventAge: Duration.seconds(
              Math.min(
                ASYNC_EVENT_AGE_SECONDS.max,
                Math.max(ASYNC_EVENT_AGE_SECONDS.min, periodMinutes * 60),
              ),
            ),
          }),
      // The role is complete as written: nothing (CDK grants included) may add to it unnoticed.
      role: this.role.withoutPolicyUpdates(),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'credwatch: scans IAM credentials and reports changes to Slack',
      environment,
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
        // The AWS SDK is bundled, not taken from the runtime: the artifact the integration tests run
        // is exactly what Lambda runs, with the SDK versions the lock file pins.
        externalModules: [],
        // Minified class names would turn error names in the logs into "Fl": keep them.
        keepNames: true,
      },
    });
  }

  /**
   * What a multi-account scan adds: AssumeRole into the member role (in exactly the scanned accounts
   * when they are known at synth, else in any account) and, for `organization` or when routes need
   * the accounts' placement, the Organizations reads (discoveryActions).
   */
  private multiAccountStatements(
    accounts: AccountsConfig,
    placement?: AccountPlacementNeeds,
  ): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const memberRole = (account: string) =>
      stack.formatArn({
        service: 'iam',
        region: '',
        account,
        resource: 'role',
        resourceName: accounts.memberRoleName,
      });
    const known = knownAccountIds(accounts);
    const discovery = discoveryActions(accounts, placement);
    return [
      new iam.PolicyStatement({
        sid: 'AssumeMemberRoles',
        actions: ['sts:AssumeRole'],
        resources: (known ?? ['*']).map(memberRole),
        // The role name in any account: with an organization id, only in an account of that
        // organization (aws:ResourceOrgID is the organization of the account that owns the role).
        ...(known === undefined && accounts.organizationId
          ? { conditions: { StringEquals: { 'aws:ResourceOrgID': accounts.organizationId } } }
          : {}),
      }),
      ...(discovery.length > 0
        ? [
            new iam.PolicyStatement({
              sid: 'DiscoverAccounts',
              // Exactly what lambda/adapters/organizations.ts calls for this configuration
              // (discoveryActions). ListAccounts and ListRoots have no resource type; the others'
              // ARNs need the management account and organization ids, unknown at synth.
              actions: discovery,
              resources: ['*'],
            }),
          ]
        : []),
    ];
  }
}
