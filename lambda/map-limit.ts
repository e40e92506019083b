/** Bounded concurrency, shared by the scan use case and the adapters. */

/**
 * `fn` over `items`, at most `limit` at a time, results in the order of `items`. After the first
 * failure no item is started; the calls under way are waited for, then that failure is thrown (so
 * nothing is still running, or still counting, once this returns).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
