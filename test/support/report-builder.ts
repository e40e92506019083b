/** Builds credential report CSV text for tests, in IAM's exact 22-column layout. */

export const REPORT_HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

export const COLUMNS = REPORT_HEADER.split(',');

export type Row = Partial<Record<string, string>> & { user: string };

/** A row with IAM's "nothing here" values, overridden by `row`. */
export function reportRow(row: Row, accountId = '123456789012'): string {
  const isRoot = row.user === '<root_account>';
  const defaults: Record<string, string> = {
    arn: isRoot ? `arn:aws:iam::${accountId}:root` : `arn:aws:iam::${accountId}:user/${row.user}`,
    user_creation_time: '2024-01-01T00:00:00+00:00',
    password_enabled: isRoot ? 'not_supported' : 'false',
    password_last_used: 'N/A',
    password_last_changed: isRoot ? 'not_supported' : 'N/A',
    password_next_rotation: isRoot ? 'not_supported' : 'N/A',
    mfa_active: 'false',
  };
  return COLUMNS.map((c) => row[c] ?? defaults[c] ?? (c.endsWith('_active') ? 'false' : 'N/A')).join(',');
}

export function report(rows: Row[], header = REPORT_HEADER): string {
  return `${[header, ...rows.map((r) => reportRow(r))].join('\n')}\n`;
}

/**
 * An account's report with root (MFA on) and one user, `deploy`, whose access key was last rotated on
 * 2026-01-01 and used on 2026-11-22: an old key, for tests of reminders across accounts.
 */
export function oldDeployKeyReport(accountId: string): string {
  return `${[
    REPORT_HEADER,
    reportRow({ user: '<root_account>', mfa_active: 'true' }, accountId),
    reportRow(
      {
        user: 'deploy',
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2026-01-01T00:00:00+00:00',
        access_key_1_last_used_date: '2026-11-22T00:00:00+00:00',
        access_key_1_last_used_service: 's3',
        access_key_1_last_used_region: 'us-east-1',
      },
      accountId,
    ),
  ].join('\n')}\n`;
}
