/**
 * What every AWS SDK client of the scanner is built with: a request never hangs a run. A request that
 * gets no answer (its response's headers) within `requestTimeout` fails with a TimeoutError, and is
 * retried by the client's retry policy, inside the run's budget; a connection that cannot be made
 * within `connectionTimeout` too; a socket idle for `socketTimeout` while a response's body is read
 * (a run bucket part streamed a line at a time) fails the read.
 *
 * A socket counts as idle while its reader is paused too: a consumer that stops reading a body for
 * `socketTimeout` (a run bucket part held back by its reader) fails the read, which the SDK does not
 * retry mid-body; and `requestTimeout` covers sending a request's body (an 8 MiB part within 10 s).
 *
 * `throwOnRequestTimeout`: without it, @smithy/node-http-handler (4.x) only logs a warning when
 * `requestTimeout` passes and lets the request go on waiting (test/unit/adapters/sdk.test.ts).
 */
export const REQUEST_TIMEOUTS = {
  requestHandler: {
    requestTimeout: 10_000,
    throwOnRequestTimeout: true,
    connectionTimeout: 3_000,
    socketTimeout: 10_000,
  },
} as const;
