// Bounds on what the app posts to GitHub (issue bodies, comments, pull request bodies) from registries and repository
// content: every error text is cut to MAX_POSTED_ERROR characters and every list of errors to MAX_LISTED_ERRORS
// entries, so that no answer or file can make a post huge (GitHub refuses bodies over 65,536 characters).

/** The longest error text posted, in characters (documented in SECURITY.md). */
export const MAX_POSTED_ERROR = 1_000;
/** The most errors listed in one post; the others are counted in one more line. */
export const MAX_LISTED_ERRORS = 50;

/**
 * An error text as posted: at most `max` characters, the cut marked with an ellipsis.
 *
 * @example
 * postedError("x".repeat(5000)).length; // 1000, ending in "…"
 */
export function postedError(text: string, max = MAX_POSTED_ERROR): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? "")) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * The lines of a list of errors as posted: the first MAX_LISTED_ERRORS, then one line saying how many more.
 *
 * @example
 * postedList(errors, (e) => `- ${e.path}: ${postedError(e.error)}`);
 */
export function postedList<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, MAX_LISTED_ERRORS).map(line);
  const more = items.length - MAX_LISTED_ERRORS;
  if (more > 0) lines.push(`- … and ${more.toLocaleString("en-US")} more`);
  return lines;
}
