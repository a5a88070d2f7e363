// GitHub's Markdown parser for tests: Debian's cmark-gfm (`apt-get install -y cmark-gfm`), the C library GitHub
// renders comments with, run with GitHub's extensions and raw HTML kept (GitHub keeps it, then sanitizes: a tag that
// survives here is a tag the app put in the bot's voice). What GitHub adds after the parser (mentions, issue
// references) is matched on the rendered text the way GitHub's filters match it. When the binary is missing the
// rendering tests are skipped with a warning, or fail when DIGEST_PIN_REQUIRE_CMARK=1 (as in CI).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CMARK_BINARY = process.env.DIGEST_PIN_CMARK_BIN ?? "/usr/bin/cmark-gfm";

/** Whether this test file can render with cmark-gfm: throws when required and missing, warns otherwise. */
export function checkGfm(what: string): boolean {
  if (existsSync(CMARK_BINARY)) return true;
  const reason = `${CMARK_BINARY} is missing (install the Debian package cmark-gfm, or set DIGEST_PIN_CMARK_BIN)`;
  if (process.env.DIGEST_PIN_REQUIRE_CMARK === "1") throw new Error(`DIGEST_PIN_REQUIRE_CMARK=1 but ${reason}`);
  console.warn(`skipping ${what}: ${reason}`);
  return false;
}

/** The HTML GitHub's parser makes of `markdown`. */
export function renderGfm(markdown: string): string {
  const extensions = ["table", "autolink", "strikethrough", "tasklist"].flatMap((e) => ["-e", e]);
  return execFileSync(CMARK_BINARY, ["--unsafe", ...extensions], { input: markdown, encoding: "utf8" });
}

const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&quot;": '"', "&amp;": "&" };

/** What people read of some HTML: the tags gone, cmark's entities decoded. */
export function textOf(html: string): string {
  return html.replace(/<[^>]*>/g, "").replace(/&(?:lt|gt|quot|amp);/g, (e) => ENTITIES[e] ?? e);
}

/**
 * The mentions and issue references GitHub would link in rendered HTML: `@user`, `@org/team`, `#1`, `owner/repo#1`
 * and `GH-1` in text that is not already code or a link (GitHub's filters skip `code`, `pre` and `a`).
 */
export function autoReferences(html: string): string[] {
  const text = textOf(html.replace(/<(code|pre|a)\b[^>]*>[\s\S]*?<\/\1>/g, " "));
  return [...text.matchAll(/(?<!\w)@[a-z0-9][a-z0-9-]*(?:\/[a-z0-9][\w-]*)?|(?<!\w)[\w.-]*#\d+|\bGH-\d+/gi)].map(
    (m) => m[0],
  );
}

/** The HTML tags in some HTML, by name (`a`, `img`, `details`…), opening tags only. */
export function tagsOf(html: string): string[] {
  return [...html.matchAll(/<([a-z][a-z0-9]*)\b/gi)].map((m) => (m[1] ?? "").toLowerCase());
}

/** The text of each `<code>` element in some HTML (code spans, and code blocks inside `<pre>`). */
export function codeTexts(html: string): string[] {
  return [...html.matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => textOf(m[1] ?? ""));
}
