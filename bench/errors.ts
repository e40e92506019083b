import { CredwatchError } from '../lambda/core/errors';

/** The benchmark could not measure something (a child process failed, an endpoint misbehaved, …). */
export class BenchError extends CredwatchError {}
