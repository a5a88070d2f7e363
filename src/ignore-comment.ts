// `# digest-pin: ignore` on its own line leaves the next instruction's references alone (every line of it, with its
// continuations), as the pull request's "how to ignore" section says. Pure; a line-based reading that needs no parse.

const COMMENT_RE = /^[ \t]*#[ \t]*digest-pin:[ \t]*ignore[ \t]*$/i;
/** An escape directive (`# escape=\``) changes the continuation character. */
const ESCAPE_RE = /^[ \t]*#[ \t]*escape[ \t]*=[ \t]*([\\`])[ \t]*$/i;

/**
 * The 1-based lines of the instructions that follow an ignore comment.
 *
 * @example ignoredLines(Buffer.from("# digest-pin: ignore\nFROM alpine:3 \\\n  AS base\nFROM busybox\n")) // [2, 3]
 */
export function ignoredLines(content: Uint8Array): number[] {
  const text = Buffer.from(content).toString("latin1");
  if (!/digest-pin:[ \t]*ignore/i.test(text)) return [];
  const lines = text.split(/\r?\n/);
  let escape = "\\";
  const out: number[] = [];
  let pending = false;
  let inside = false;
  let directives = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    // Parser directives count only at the very top, before any other line.
    const escapeDirective = directives ? ESCAPE_RE.exec(line) : null;
    if (escapeDirective) escape = escapeDirective[1] ?? "\\";
    else directives = directives && /^[ \t]*#[ \t]*[a-z]+[ \t]*=/i.test(line);
    const blankOrComment = line.trim() === "" || line.trimStart().startsWith("#");
    if (!inside && COMMENT_RE.test(line)) {
      pending = true;
      continue;
    }
    if (!inside && blankOrComment) continue;
    if (pending) {
      inside = true;
      pending = false;
    }
    if (inside) {
      out.push(i + 1);
      // Comment and blank lines inside a continued instruction do not end it (BuildKit drops them).
      if (!blankOrComment && !line.trimEnd().endsWith(escape)) inside = false;
    }
  }
  return out;
}
