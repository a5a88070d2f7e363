// Budgets of time for work that repository content can make long: one for all the requests of one reference, one for
// the registry work of a repository scan. A Deadline is an AbortSignal that fires when its budget runs out (or when
// the budget it belongs to does), with a reason that says which budget it was.

import { setMaxListeners } from "node:events";

/** The abort reason of a Deadline: which budget ran out. */
export class DeadlineExceeded extends Error {
  override readonly name = "DeadlineExceeded";

  constructor(
    readonly budgetMs: number,
    /** What the budget is for, for messages: `one reference (all its requests, retries and redirects)`. */
    readonly budget: string,
  ) {
    super(`gave up after ${formatSeconds(budgetMs)}, the time allowed for ${budget}`);
  }
}

/** `500` → `0.5 s`, `60000` → `60 s`. */
export function formatSeconds(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

/** The DeadlineExceeded somewhere in an error's cause chain, if any. */
export function deadlineOf(error: unknown): DeadlineExceeded | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof DeadlineExceeded) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A budget of `budgetMs` that starts now. Its `signal` aborts with a DeadlineExceeded when the budget runs out, or with
 * the parent's reason as soon as `parent` aborts (a reference's budget inside a scan's). Call `dispose()` when the work
 * is done: it clears the timer and detaches from the parent.
 *
 * @example
 * const deadline = new Deadline(60_000, "one reference");
 * try { await fetch(url, { signal: deadline.signal }); } finally { deadline.dispose(); }
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly detach: (() => void) | undefined;

  constructor(
    readonly budgetMs: number,
    budget: string,
    parent?: AbortSignal,
  ) {
    // A scan's deadline is shared by every request of the scan: many listeners are expected, not a leak.
    setMaxListeners(0, this.controller.signal);
    if (parent?.aborted) {
      this.controller.abort(parent.reason);
      return;
    }
    this.timer = setTimeout(() => this.controller.abort(new DeadlineExceeded(budgetMs, budget)), budgetMs);
    this.timer.unref?.();
    if (parent) {
      const onAbort = () => this.controller.abort(parent.reason);
      parent.addEventListener("abort", onAbort, { once: true });
      this.detach = () => parent.removeEventListener("abort", onAbort);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.detach?.();
  }
}

/**
 * Run `work` within a budget (and within `parent`'s, when given); the deadline is disposed of however it ends.
 *
 * @example
 * await withDeadline(60_000, "one reference", scanSignal, (signal) => client.lookup(ref, signal));
 */
export async function withDeadline<T>(
  budgetMs: number,
  budget: string,
  parent: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(budgetMs, budget, parent);
  try {
    return await work(deadline.signal);
  } finally {
    deadline.dispose();
  }
}

/**
 * Wait for `promise`, but no longer than `signal` allows: rejects with the signal's reason when it aborts first, after
 * calling `onLeave`. The work behind the promise goes on (others may be waiting for it); only this wait ends.
 *
 * @example
 * const answer = await abortable(sharedLookup, deadline.signal);
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, onLeave?: () => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined); // its outcome is nobody's business now
    onLeave?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      onLeave?.();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Wait `ms`, or until `signal` aborts (then reject with its reason): a retry's wait never outlasts its deadline. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
