// When to try a request again: `Retry-After` (delta seconds or an HTTP date) and exponential backoff with jitter, so
// that many clients refused at once do not come back at once.

/** The delay a `Retry-After` value asks for, in milliseconds; null when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt` (0-based): base × 2^attempt, half of it fixed and half random ("equal
 * jitter"), never above `capMs`.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
