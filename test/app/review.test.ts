// What a reviewer sees, end to end: the real app (Probot, real example webhooks) against the stand-in GitHub, which
// refuses bodies over 65,536 characters as GitHub does, and a real Distribution registry whose images carry OCI
// labels, created times and platforms. Pins and updates in separate sections, ages, dropped platforms, source and
// compare links from labels (and none from hostile labels), a 400-change plan that still opens, a marker lost to an
// edit that is rebuilt without a notice or a new commit, and a foreign push named with its author and a link.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_LIMIT } from "../../bench/harness/fake-github.js";
import { registryAvailability } from "../../bench/harness/registry.js";
import { readMarker } from "../../src/github/marker.js";
import { checkGfm, renderGfm, textOf } from "../helpers/gfm.js";
import { commented, INSTALLATION, installationCreated, OWNER, startApp, type AppHarness } from "./app-harness.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping pull request review tests: ${availability.reason}`);
const hasGfm = checkGfm("rendering review pull request bodies with cmark-gfm");

const BRANCH = "digest-pin/main";
const REV1 = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const REV2 = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SOURCE = "org.opencontainers.image.source";
const REVISION = "org.opencontainers.image.revision";
const VERSION = "org.opencontainers.image.version";

describe.skipIf(!availability.available)("pull requests a reviewer can approve", () => {
  let h: AppHarness;
  let host: string;
  let v2: string;
  let tool: string;
  let ops: number;

  const pullOf = (repo: string) => h.gh.pulls(OWNER, repo).find((p) => p.state === "open");
  const rescan = async (repo: string, issue: number) => {
    await h.deliver("issue_comment", commented(h.gh, repo, issue, "/digest-pin rescan", "writer"));
    await h.idle();
    return h.gh.comments(OWNER, repo, issue).at(-1)?.body ?? "";
  };

  beforeAll(async () => {
    h = await startApp();
    host = h.registry.host;
    const v1 = (
      await h.registry.pushImage("acme/app", "1", {
        kind: "oci-index",
        platforms: ["linux/amd64", "linux/arm64", "linux/arm/v7"],
        salt: "v1",
        created: "2024-04-01T10:00:00Z",
        labels: { [SOURCE]: "https://github.com/acme/app.git", [REVISION]: REV1, [VERSION]: "1.0.0" },
      })
    ).digest;
    const evil1 = (await h.registry.pushImage("acme/evil", "1", { kind: "oci-index", salt: "e1" })).digest;
    tool = (await h.registry.pushImage("library/tool", "2", { kind: "oci-index" })).digest;
    h.gh.addRepo(INSTALLATION, {
      name: "reviewed",
      files: {
        Dockerfile: `FROM ${host}/acme/app:1@${v1}\nFROM ${host}/library/tool:2\nFROM ${host}/acme/evil:1@${evil1}\n`,
      },
    });
    h.gh.setPermission(OWNER, "reviewed", "writer", "write");
    ops = h.gh.openIssue(OWNER, "reviewed", { title: "ops", user: "writer" }).number;
    // The tags move: a new build of acme/app that drops linux/arm/v7, and one of acme/evil whose labels are hostile.
    v2 = (
      await h.registry.pushImage("acme/app", "1", {
        kind: "oci-index",
        platforms: ["linux/amd64", "linux/arm64"],
        salt: "v2",
        created: "2024-05-01T12:30:00Z",
        labels: { [SOURCE]: "https://github.com/acme/app", [REVISION]: REV2, [VERSION]: "1.1.0" },
      })
    ).digest;
    await h.registry.pushImage("acme/evil", "1", {
      kind: "oci-index",
      salt: "e2",
      labels: {
        [SOURCE]: "https://user:secret@evil.example/acme/evil",
        [REVISION]: "javascript:alert(1)",
        [VERSION]: "[x](https://evil.example/) @acme/admins #1 <img src=x>",
      },
    });
    await h.deliver("installation", installationCreated(h.gh, ["reviewed"]));
    await h.idle();
  }, 30_000);
  afterAll(async () => h?.close());

  it("puts pins and updates in separate sections, with ages, dropped platforms and the source's compare view", () => {
    const body = pullOf("reviewed")?.body ?? "";
    const updated = body.indexOf("### Updated: new image bytes");
    const pinned = body.indexOf("### Pinned: builds exactly what they build today");
    expect(updated).toBeGreaterThan(0);
    expect(pinned).toBeGreaterThan(updated);
    const updates = body.slice(updated, pinned);
    const pins = body.slice(pinned);
    expect(updates).toContain(`${host}/acme/app:1`);
    expect(updates).not.toContain("library/tool");
    expect(pins.split("\n").filter((l) => l.includes(`${host}/library/tool`) && l.startsWith("|"))).toHaveLength(1);
    const item = updates.split("\n").find((l) => l.startsWith("- ") && l.includes("acme/app:1")) ?? "";
    expect(item).toContain("built 2024-05-01 12:30 UTC; the old image was built 2024-04-01 10:00 UTC, 30 days earlier");
    expect(item).toContain("⚠️ **dropped linux/arm/v7**");
    expect(item).toContain(`[source: github.com/acme/app](https://github.com/acme/app)`);
    expect(item).toContain(`[compare 1111111…2222222](https://github.com/acme/app/compare/${REV1}...${REV2})`);
    expect(item).toContain("version 1.0.0 → 1.1.0");
    // How to ignore, and the effective config, folded away.
    expect(body).toContain("<details><summary>How to ignore an image or a file</summary>");
    expect(body).toContain(`  - "${host}/acme/app"`);
    expect(body).toContain("# digest-pin: ignore");
    expect(body).toMatch(/<details><summary>Effective configuration<\/summary>[\s\S]*labels:\n {2}- dependencies/);
  });

  it.skipIf(!hasGfm)("links only to the sources the labels name validly, and shows hostile labels as text", () => {
    const html = renderGfm(pullOf("reviewed")?.body ?? "");
    const hrefs = [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.sort()).toEqual(["https://github.com/acme/app", `https://github.com/acme/app/compare/${REV1}...${REV2}`].sort());
    const text = textOf(html).replace(/\u200b/g, "");
    expect(text).toContain("version [x](https://evil.example/) @acme/admins #1 <img src=x>");
    expect(text).toContain("no source known");
    expect(html).not.toContain("<img");
  });

  it("writes the summary into the commit message, and nothing machine-readable", () => {
    const head = h.gh.getRef(OWNER, "reviewed", BRANCH) ?? "";
    const message = h.gh.getCommit(OWNER, "reviewed", head)?.message ?? "";
    expect(message.split("\n")[0]).toBe("Pin container images to digests");
    expect(message).toContain("This pull request pins 1 image reference to its current digest and refreshes 2 pins");
    expect(message).toContain(`- update Dockerfile:1 ${host}/acme/app:1 from `);
    expect(message).toContain(`to ${v2}`);
    expect(message).toContain(`- pin Dockerfile:2 ${host}/library/tool:2 to ${tool}`);
    expect(message).not.toMatch(/digest-pin:plan|<!--/);
  });

  it("rebuilds a marker an edit removed from GitHub's data: no notice, no new commit, the marker back", async () => {
    const pull = pullOf("reviewed");
    const head = h.gh.getRef(OWNER, "reviewed", BRANCH);
    // A summary bot rewrites the description and the marker goes with it.
    h.gh.editItem(OWNER, "reviewed", pull?.number ?? 0, { body: "## Summary\nThis PR updates some images.\n" });
    const reply = await rescan("reviewed", ops);
    expect(reply).toContain("is already current");
    expect(h.gh.comments(OWNER, "reviewed", pull?.number ?? 0).filter((c) => c.body.includes("Someone else pushed"))).toEqual([]);
    expect(h.gh.getRef(OWNER, "reviewed", BRANCH)).toBe(head);
    expect(readMarker(pullOf("reviewed")?.body)?.commit).toBe(head);
    expect(pullOf("reviewed")?.body).toContain("### Updated: new image bytes");
  });

  it("names who pushed which commit, with a link, when someone else pushes to the branch", async () => {
    const pull = pullOf("reviewed");
    const theirs = h.gh.pushFiles(OWNER, "reviewed", BRANCH, { "notes.txt": "mine\n" }, { author: "writer" });
    await rescan("reviewed", ops);
    const [notice] = h.gh.comments(OWNER, "reviewed", pull?.number ?? 0).filter((c) => c.body.includes("Someone else pushed"));
    expect(notice?.body).toContain(`[${theirs.slice(0, 7)}](${pull ? `${h.gh.url}/${OWNER}/reviewed/pull/${pull.number}` : ""}/commits/${theirs})`);
    expect(notice?.body).toContain("was made by writer, not by digest-pin");
    expect(notice?.body).toContain("`/digest-pin recreate`");
  });

  it("opens a pull request of 400 changes whose body fits GitHub's limit", async () => {
    const images = 40;
    for (let k = 0; k < images; k++) await h.registry.pushImage(`bulk/img${k}`, "1", { kind: "oci-manifest" });
    const files: Record<string, string> = {};
    for (let f = 0; f < 20; f++) {
      const lines = Array.from({ length: 20 }, (_, j) => `FROM ${host}/bulk/img${(f + j) % images}:1 AS stage${j}`);
      files[`services/service-${f}/Dockerfile`] = `${lines.join("\n")}\n`;
    }
    h.gh.addRepo(INSTALLATION, { name: "huge", files });
    await h.deliver("installation", installationCreated(h.gh, ["huge"]));
    await h.idle();
    const pull = pullOf("huge");
    expect(pull).toBeDefined();
    const body = pull?.body ?? "";
    expect([...body].length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(body).toMatch(/<details><summary>and \d+ more<\/summary>/);
    expect(readMarker(body)?.refs).toHaveLength(400);
    // Every one of the 400 references is pinned on the branch.
    const pinnedLines = Object.keys(files).flatMap((path) =>
      (h.gh.readFile(OWNER, "huge", BRANCH, path)?.toString() ?? "").split("\n").filter((l) => l.includes(":1@sha256:")),
    );
    expect(pinnedLines).toHaveLength(400);
  });
});
