// Text from registries and repositories in GitHub Markdown. A registry's error text, an index's platform strings, file
// paths, reference text and config errors reach pull requests, issues and replies written in the app's voice, so none
// of it may become a link, an image, HTML, a mention that notifies a team, a reference to another issue, or formatting
// that breaks the table. Text the app writes itself needs none of this.
//
// How GitHub renders (cmark-gfm, then its own filters) decides what works:
// - Markdown syntax (emphasis, code, links, images, tables, math) yields to a backslash before the character.
// - HTML tags and entities yield to `&lt;`, `&gt;` and `&amp;`; then the text holds no `<` at all.
// - Bare URLs and `www.` links are found while parsing, at an unescaped `:` followed by `//` and at a literal `www.`,
//   so `https\://` and `www\.` stay text.
// - Mentions (`@user`, `@org/team`), e-mail links and issue references (`#1`, `owner/repo#1`, `GH-1`) are found in the
//   rendered text, after backslashes are gone: `\@` still notifies. A zero-width space after `@`, `#` or `GH-` breaks
//   them and shows nothing (what Dependabot and Renovate do).

import { visible } from "../visible.js";

const ZERO_WIDTH_SPACE = "\u200b";

/**
 * Characters with a meaning in GitHub Markdown wherever they stand, inline: escapes, code, emphasis, strikethrough,
 * links and images, table cells, headings, math, HTML and entities. `!`, `(` and `)` act only next to `[` and `]`.
 */
const SYNTAX = /[\\`*_~[\]|#$<>&]/g;
const ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;" };

/** Line breaks and tabs become spaces: the text stays on its line, in its list item or its table cell. */
function flatten(text: string): string {
  return text.replace(/\r\n|[\r\n\t\v\f]/g, " ");
}

/**
 * Text for a paragraph, a list item or a table cell, shown as written: nothing in it links, mentions, renders as HTML
 * or formats; control characters are shown as escapes (`\x1b`, `\u202e`). For text inside a line: a line that starts
 * with it may still start a list (`- x`), which is harmless.
 *
 * @example
 * inlineText("see [docs](https://evil.example/) @acme/admins #1") //
 *   "see \\[docs\\](https\\://evil.example/) @\u200bacme/admins \\#\u200b1"
 */
export function inlineText(text: string): string {
  return visible(flatten(text))
    .replace(SYNTAX, (char, at: number, all: string) =>
      char === "_" && isAlnum(all[at - 1]) && isAlnum(all[at + 1]) ? char : (ENTITIES[char] ?? `\\${char}`),
    )
    .replace(/:(?=\/\/)/g, "\\:")
    .replace(/(www)\./gi, "$1\\.")
    .replace(/@|\\#(?=\d)|\bGH-(?=\d)/gi, (found) => found + ZERO_WIDTH_SPACE);
}

/**
 * An inline code span, for paths and reference text people may copy: inside one nothing links, mentions or renders,
 * and backslashes do not escape, so the fence grows instead to be longer than any run of backticks in the text.
 * Not for table cells (a `|` there ends the cell even inside code).
 *
 * @example
 * inlineCode("a`b") // "``a`b``"
 */
export function inlineCode(text: string): string {
  const flat = visible(flatten(text));
  const fence = "`".repeat(longestRun(flat, "`") + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/**
 * A fenced code block for text with several lines (a config error): shown exactly, control characters as escapes,
 * with a fence longer than any run of backticks in it, so nothing in the text can close it.
 *
 * @example
 * codeBlock("x ``` y") // "````\nx ``` y\n````"
 */
export function codeBlock(text: string): string {
  const lines = text.split(/\r\n|\r|\n/).map(visible).join("\n");
  const fence = "`".repeat(Math.max(3, longestRun(lines, "`") + 1));
  return `${fence}\n${lines}\n${fence}`;
}

/** An `_` between two letters or digits can neither open nor close emphasis: `DIGEST_PIN_X` stays readable. */
function isAlnum(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9]/.test(char);
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** Hosts of code forges whose URL layout digest-pin knows (commit and compare pages). */
export const KNOWN_FORGES = ["github.com", "gitlab.com", "codeberg.org", "bitbucket.org"] as const;

const MAX_URL_LENGTH = 2048;
const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * A URL from a registry or a repository that may become a link, or null: `https:` only, no user name or password, a
 * DNS host name (not an IP address, not `localhost`, with a dot), no more than 2,048 characters. A label or a config
 * value is anyone's text: this keeps `javascript:`, `http:`, credentials in links and links to internal addresses out
 * of the app's voice.
 *
 * @example
 * safeHttpsUrl("https://github.com/acme/app")?.href // "https://github.com/acme/app"
 * safeHttpsUrl("https://user:secret@github.com/acme/app") // null
 */
export function safeHttpsUrl(text: string): URL | null {
  if (text.length > MAX_URL_LENGTH || /[\u0000-\u0020\u007f-\u009f]/.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "") return null;
  const host = url.hostname.toLowerCase();
  if (!host.includes(".") || host.startsWith("[") || IPV4_RE.test(host) || host.endsWith(".localhost")) return null;
  return url;
}

/**
 * A Markdown link to a URL that passed `safeHttpsUrl` (or that the app built itself from parts it validated), with
 * `text` escaped as `inlineText` does. Parentheses, pipes and spaces in the URL are percent-encoded so that neither the
 * link nor a table cell around it can end early.
 *
 * @example
 * link("source", new URL("https://github.com/acme/app")) // "[source](https://github.com/acme/app)"
 */
export function link(text: string, url: URL): string {
  const href = url.href.replace(/[()|\s<>\\`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return `[${inlineText(text)}](${href})`;
}
