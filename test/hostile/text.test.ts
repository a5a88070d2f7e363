// Hostile text through the app: a registry whose error message carries a link, a team mention, an issue reference and
// HTML; an index whose platform strings do the same; a repository whose file path, config keys and comments do. What
// the bot writes (the pull request body, the command reply, the config issue) is rendered by cmark-gfm, GitHub's
// parser, and may hold no link, image, mention or reference that the app did not write itself. And a reader who
// posts commands again and again is told once an hour per issue, not once per comment.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_ISSUE_TITLE } from "../../src/github/config-issue.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { commented, installationCreated } from "../app/app-harness.js";
import { BadRegistry, INSTALLATION, OWNER, startHarness, type Harness } from "../faults/harness.js";
import { autoReferences, checkGfm, codeTexts, renderGfm, tagsOf, textOf } from "../helpers/gfm.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping hostile text through the app: ${availability.reason}`);
const hasGfm = checkGfm("hostile text through the app");

const EVIL = "see [docs](https://evil.example/) @acme/admins #1 <img src=x onerror=alert(1)>";
const BOT = "digest-pin[bot]";
/** Tags the app's own words use: its section headings, bold, code, lists, its <details>, the table. */
const OWN_TAGS = new Set(["h3", "p", "strong", "code", "pre", "ul", "li", "details", "summary", "table", "thead", "tbody", "tr", "th", "td"]);

describe.skipIf(!availability.available || !hasGfm)("hostile text in what the app writes", () => {
  let h: Harness;
  let bad: BadRegistry;
  let local: LocalRegistry;
  let ops: number;
  const PATH = "svc/<details> @acme #1/Dockerfile";

  beforeAll(async () => {
    bad = await BadRegistry.start();
    local = await LocalRegistry.start();
    h = await startHarness({ registry: { insecureRegistries: [bad.host, local.host] } });
    // A registry that answers HEAD and GET with an OCI error whose message is hostile Markdown.
    bad.set("evil/app", {
      kind: "status",
      status: 405,
      body: JSON.stringify({ errors: [{ code: "DENIED", message: EVIL }] }),
    });
    // An index whose platform strings are hostile Markdown (os / architecture / variant).
    await local.pushImage("library/multi", "1", {
      kind: "oci-index",
      platforms: ["<img src=x onerror=alert(1)>/@acme/admins", "linux/[x](https:"],
    });
    h.gh.addRepo(INSTALLATION, {
      name: "shady",
      files: { [PATH]: `FROM ${local.host}/library/multi:1\nFROM ${bad.host}/evil/app:1\n` },
    });
    h.gh.setPermission(OWNER, "shady", "writer", "write");
    h.gh.setPermission(OWNER, "shady", "reader", "read");
    ops = h.gh.openIssue(OWNER, "shady", { title: "ops", user: "writer" }).number;
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    await bad?.close();
    await local?.stop();
  });

  const say = async (body: string, login = "writer", issue = ops) => {
    await h.deliver("issue_comment", commented(h.gh, "shady", issue, body, login));
    await h.idle();
  };
  const botReplies = (issue = ops) => h.gh.comments(OWNER, "shady", issue).filter((c) => c.user === BOT);
  /**
   * Rendered, the bot's Markdown holds only tags its own words use, links only to `links` (its own pull request) and
   * no mention or reference but `refs` (its own `#N`). Returns the text people read.
   */
  const expectInert = (markdown: string, { refs = [] as string[], links = [] as string[] } = {}) => {
    const html = renderGfm(markdown);
    expect(tagsOf(html).filter((t) => !OWN_TAGS.has(t) && t !== "a")).toEqual([]);
    expect([...html.matchAll(/<a\b[^>]*>/g)].map((m) => m[0])).toEqual(links.map((url) => `<a href="${url}">`));
    expect(autoReferences(html).filter((r) => !refs.includes(r))).toEqual([]);
    return textOf(html).replace(/\u200b/g, "");
  };

  it("the pull request body shows the registry's message, the platforms and the path as text", async () => {
    await h.deliver("installation", installationCreated(h.gh, ["shady"]));
    await h.idle();
    const [pull] = h.gh.pulls(OWNER, "shady");
    const body = pull?.body ?? "";
    expect(body).toMatch(/Could not be resolved/);
    const text = expectInert(body);
    expect(text).toContain(`DENIED: ${EVIL}`);
    expect(text).toContain("<img src=x onerror=alert(1)>/@acme/admins, linux/[x](https:");
    expect(text).toContain(PATH);
  });

  it("the command reply shows the registry's message as text", async () => {
    await say("/digest-pin rescan");
    const reply = botReplies().at(-1)?.body ?? "";
    expect(reply).toMatch(/scanned 1 Dockerfile/);
    const [pull] = h.gh.pulls(OWNER, "shady");
    // The app's own words link its pull request: `#N (url)`.
    const url = new RegExp(`#${pull?.number} \\((\\S+)\\)`).exec(reply)?.[1] ?? "";
    expect(url).toMatch(new RegExp(`/${OWNER}/shady/pull/${pull?.number}$`));
    const text = expectInert(reply, { refs: [`#${pull?.number}`], links: [url] });
    expect(text).toContain(`DENIED: ${EVIL}`);
  });

  it("an unknown command is echoed in one code span, whatever backticks it holds", async () => {
    const command = "/digest-pin x` @acme/admins #1 <img src=x> `";
    await say(command);
    const reply = botReplies().at(-1)?.body ?? "";
    expect(reply).toMatch(/^Unknown command/);
    expect(expectInert(reply)).toContain(`Unknown command ${command}.`);
  });

  it("a config error quoting the file stays inside its code block, in the issue and in the reply", async () => {
    const config = "\"``` @acme/admins <img src=x>\": 1\n";
    h.gh.pushFiles(OWNER, "shady", "main", { ".github/digest-pin.yml": config });
    await say("/digest-pin rescan");
    const [issue] = h.gh.issues(OWNER, "shady").filter((i) => i.title === CONFIG_ISSUE_TITLE);
    for (const markdown of [issue?.body ?? "", botReplies().at(-1)?.body ?? ""]) {
      const html = renderGfm(markdown);
      expect(tagsOf(html)).toContain("pre");
      expect(codeTexts(html).some((code) => code.includes('unknown key "``` @acme/admins <img src=x>"'))).toBe(true);
      expectInert(markdown, { refs: [`#${issue?.number}`] });
    }
    h.gh.pushFiles(OWNER, "shady", "main", { ".github/digest-pin.yml": null });
  });

  it("tells a reader once an hour per issue that commands need write access, however often they ask", async () => {
    const other = h.gh.openIssue(OWNER, "shady", { title: "another", user: "reader" }).number;
    const before = botReplies().length;
    await say("/digest-pin rescan", "reader");
    await say("/digest-pin rescan", "reader");
    await say("/digest-pin recreate", "reader");
    const told = botReplies().slice(before);
    expect(told).toHaveLength(1);
    expect(told[0]?.body).toMatch(/^@reader digest-pin commands need write access/);
    expect(h.logs.filter((l) => /already told within the hour/.test(l.msg))).toHaveLength(2);
    // Another issue gets its own reply; a writer on the first issue is still answered.
    await say("/digest-pin rescan", "reader", other);
    expect(botReplies(other)).toHaveLength(1);
    await say("/digest-pin rescan", "writer");
    expect(botReplies().slice(before)).toHaveLength(2);
  });
});
