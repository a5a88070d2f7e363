// Work over many items with a fixed number of workers: the items are taken from an iterable as workers free up, so
// what is pending at any time (promises, closures, sockets) stays at the worker count however many items there are.

/**
 * Run `work` on every item, at most `limit` at a time. The first failure stops the workers from taking new items and
 * is thrown once the running ones have finished.
 *
 * @example
 * await forEachBounded(requests, 32, async (request) => answers.set(request.key, await resolve(request)));
 */
export async function forEachBounded<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError("the worker count must be a positive integer");
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined) {
      const next = iterator.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failure) throw failure.error;
}

/** `forEachBounded` that keeps each item's result, in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  await forEachBounded(items.keys(), limit, async (i) => {
    out[i] = await work(items[i] as T);
  });
  return out;
}
