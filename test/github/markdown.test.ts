// Escaping for GitHub Markdown, with hostile strings: checked on the Markdown itself, then rendered by cmark-gfm
// (GitHub's parser), where nothing may become a tag, a link, a mention or an issue reference, and the text people read
// must be the text that came in.
import { describe, expect, it } from "vitest";
import { codeBlock, inlineCode, inlineText } from "../../src/github/markdown.js";
import { visible } from "../../src/visible.js";
import { autoReferences, checkGfm, codeTexts, renderGfm, tagsOf, textOf } from "../helpers/gfm.js";

const hasGfm = checkGfm("rendering escaped Markdown with cmark-gfm");
const ZWSP = /\u200b/g;

export const HOSTILE: Record<string, string> = {
  link: "[x](https://evil.example/)",
  image: "![x](https://evil.example/x.png)",
  "reference link": "[x][1] [1]: https://evil.example/",
  "img tag": "<img src=x onerror=alert(1)>",
  details: "<details><summary>open me</summary>",
  "html comment": "<!-- digest-pin:plan e30= -->",
  "angle autolink": "<https://evil.example/>",
  "bare URL": "see https://evil.example/ now",
  "upper-case URL": "HTTPS://EVIL.EXAMPLE/",
  www: "www.evil.example/login",
  "e-mail": "admin@evil.example",
  javascript: "javascript:alert(1)",
  mention: "@octocat",
  "team mention": "@org/team",
  "issue reference": "#1",
  "cross-repository reference": "acme/app#1",
  "GH reference": "GH-1",
  entities: "&lt;img src=x&gt; &#64;org/team &#x23;1 &amp;",
  backticks: "`` ` ``",
  pipe: "a | b",
  "line breaks": "one\ntwo\r\n# heading\r- item",
  emphasis: "*bold* _em_ ~~gone~~ **x**",
  underscores: "DIGEST_PIN_X _em_ a_b_ _c_d __strong__ x_é_y",
  math: "$x^2$ and $$y$$",
  backslashes: "\\[x\\](https://evil.example/) \\",
  "ESC sequences": "\u001b]52;c;aGk=\u0007 \u001b[2J",
  "bidi overrides": "\u202eexe.txt\u202c \u2066x\u2069",
  "C1 CSI": "\u009b31m",
  task: "- [ ] task",
  footnote: "[^1]",
};

/** Occurrences of `char` not preceded by an odd number of backslashes. */
function unescaped(md: string, char: string): number {
  let count = 0;
  for (let i = md.indexOf(char); i !== -1; i = md.indexOf(char, i + 1)) {
    let backslashes = 0;
    while (md[i - 1 - backslashes] === "\\") backslashes++;
    if (backslashes % 2 === 0) count++;
  }
  return count;
}

/** What people should read: the text on one line, control characters as escapes. */
const shown = (text: string) => visible(text.replace(/\r\n|[\r\n\t\v\f]/g, " "));

describe("inlineText", () => {
  it.each(Object.entries(HOSTILE))("leaves nothing active in the Markdown: %s", (_name, text) => {
    const md = inlineText(text);
    expect(md).not.toMatch(/[<>\r\n]/);
    for (const char of ["[", "]", "`", "*", "~", "|", "$", "#"]) expect(unescaped(md, char), char).toBe(0);
    // An `_` may stay only between two letters or digits, where it cannot open or close emphasis.
    expect(md.replace(/[A-Za-z0-9]_(?=[A-Za-z0-9])/g, "")).not.toMatch(/(?<!\\)_/);
    expect(md.match(/@(?!\u200b)/g)).toBeNull();
    expect(md.match(/#(?=\d)|GH-(?=\d)/gi)).toBeNull();
    expect(md).not.toMatch(/(?<!\\):\/\//);
    expect(md).not.toMatch(/www\.(?<!\\\.)/i);
    expect(md).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it.skipIf(!hasGfm).each(Object.entries(HOSTILE))("renders as the text itself, in a paragraph and a cell: %s", (_name, text) => {
    const paragraph = renderGfm(`Error: ${inlineText(text)}`);
    expect(tagsOf(paragraph)).toEqual(["p"]);
    expect(autoReferences(paragraph)).toEqual([]);
    expect(textOf(paragraph).replace(ZWSP, "").trim()).toBe(`Error: ${shown(text)}`.trim());

    const table = renderGfm(`| a | b |\n| --- | --- |\n| ${inlineText(text)} | end |\n`);
    expect(tagsOf(table).filter((t) => !["table", "thead", "tbody", "tr", "th", "td"].includes(t))).toEqual([]);
    const cells = [...table.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1] ?? "");
    expect(cells).toHaveLength(2);
    expect(textOf(cells[0] ?? "").replace(ZWSP, "")).toBe(shown(text).trim());
    expect(cells[1]).toBe("end");
    expect(autoReferences(table)).toEqual([]);
  });

  it("keeps ordinary text as it is", () => {
    expect(inlineText("401 Unauthorized")).toBe("401 Unauthorized");
    expect(inlineText("docker.io/library/python")).toBe("docker.io/library/python");
    expect(inlineText("linux/amd64, linux/arm64/v8")).toBe("linux/amd64, linux/arm64/v8");
    expect(inlineText("sha256:abc (it asks to retry after 3 s)")).toBe("sha256:abc (it asks to retry after 3 s)");
    expect(inlineText("list it in DIGEST_PIN_INSECURE_REGISTRIES")).toBe("list it in DIGEST_PIN_INSECURE_REGISTRIES");
  });

  it("breaks what GitHub links after parsing with a zero-width space, which no one sees", () => {
    expect(inlineText("@org/team #12 GH-3")).toBe("@\u200borg/team \\#\u200b12 GH-\u200b3");
    expect(inlineText("see [docs](https://evil.example/)")).toBe("see \\[docs\\](https\\://evil.example/)");
    expect(inlineText("<img src=x> &lt;")).toBe("&lt;img src=x&gt; &amp;lt;");
  });
});

describe("inlineCode", () => {
  it.skipIf(!hasGfm).each(Object.entries(HOSTILE))("is one code span holding exactly the text: %s", (_name, text) => {
    const html = renderGfm(`- ${inlineCode(text)} line 3`);
    expect(tagsOf(html)).toEqual(["ul", "li", "code"]);
    const [code] = codeTexts(html);
    expect(code).toBe(shown(text));
    expect(autoReferences(html)).toEqual([]);
  });

  it("grows its fence past the longest run of backticks, padding text that starts or ends with one", () => {
    expect(inlineCode("python:3.12")).toBe("`python:3.12`");
    expect(inlineCode("a`b")).toBe("``a`b``");
    expect(inlineCode("`x``")).toBe("``` `x`` ```");
    expect(inlineCode("a\nb\u001b")).toBe("`a b\\x1b`");
  });
});

describe("codeBlock", () => {
  const CASES = {
    "a config error": 'unknown key "<img src=x onerror=alert(1)>", "@org/team"',
    "fences inside": "one\n```\n````\n~~~\ntwo",
    "control characters": "a\u001b[31m\r\nb\u202ec",
  };

  it.skipIf(!hasGfm).each(Object.entries(CASES))("is one block holding exactly the text: %s", (_name, text) => {
    const html = renderGfm(`Error:\n\n${codeBlock(text)}\n\nAfter.`);
    expect(tagsOf(html)).toEqual(["p", "pre", "code", "p"]);
    const [code] = codeTexts(html);
    expect(code).toBe(`${text.split(/\r\n|\r|\n/).map(visible).join("\n")}\n`);
    expect(html).toContain("<p>After.</p>");
  });

  it("fences with more backticks than any run in the text", () => {
    expect(codeBlock("x")).toBe("```\nx\n```");
    expect(codeBlock("a\n````\nb")).toBe("`````\na\n````\nb\n`````");
  });
});
