/** Named errors of credwatch. Each carries what went wrong and where; `cause` keeps the original. */

export class CredwatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The credential report cannot be read: names the line, the column and the user. */
export class CredentialReportParseError extends CredwatchError {
  constructor(
    message: string,
    readonly location: { readonly line?: number; readonly column?: string; readonly user?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Configuration (thresholds, deployment settings) is invalid: names the field and what is allowed. */
export class ConfigError extends CredwatchError {}

/** IAM did not deliver a credential report within the deadline, or refused to. */
export class CredentialReportUnavailableError extends CredwatchError {}

/** A call to IAM failed in a way that makes the scan incomplete. */
export class IamReadError extends CredwatchError {}

/** A write to IAM (enforcement's UpdateAccessKey) failed: names the action, the user and the key. */
export class IamWriteError extends CredwatchError {}
