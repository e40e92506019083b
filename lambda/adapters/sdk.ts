/**
 * What every AWS SDK client of the scanner is built with: a request never hangs a run. A request that
 * gets no answer within `requestTimeout` fails (and is retried by the client's retry policy, inside
 * the run's budget); a connection that cannot be made within `connectionTimeout` too.
 */
export const REQUEST_TIMEOUTS = {
  requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 },
} as const;
