// The inline ignore comment, the same in every file kind: `# digest-pin: ignore` (`// digest-pin: ignore` in JSON with
// comments) on the line before a reference, or at the end of the reference's line, leaves that reference alone.

/** The comment marker of a file kind. */
export type CommentMarker = "#" | "//";

const WHOLE_LINE: Record<CommentMarker, RegExp> = {
  "#": /^[ \t]*#[ \t]*digest-pin:[ \t]*ignore\b/i,
  "//": /^[ \t]*\/\/[ \t]*digest-pin:[ \t]*ignore\b/i,
};
const LINE_END: Record<CommentMarker, RegExp> = {
  "#": /(?:^|[ \t])#[ \t]*digest-pin:[ \t]*ignore\b/i,
  "//": /\/\/[ \t]*digest-pin:[ \t]*ignore\b/i,
};

/** What a skipped reference says about the comment. */
export const IGNORE_DETAIL = "a digest-pin: ignore comment";

/**
 * Whether `line` (without its line break) is an ignore comment for the next line.
 *
 * @example
 * isIgnoreLine("  # digest-pin: ignore (tracks nightly on purpose)", "#") // true
 */
export function isIgnoreLine(line: string, marker: CommentMarker): boolean {
  return WHOLE_LINE[marker].test(line);
}

/**
 * Whether the rest of a reference's line (from just after the reference) ends with an ignore comment.
 *
 * @example
 * endsWithIgnore('" # digest-pin: ignore', "#") // true
 */
export function endsWithIgnore(rest: string, marker: CommentMarker): boolean {
  return LINE_END[marker].test(rest);
}
