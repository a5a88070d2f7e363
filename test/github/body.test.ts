import { describe, expect, it } from "vitest";
import { BODY_LIMIT, commitMessage, renderBody, titleFor, TITLE_PIN, TITLE_UPDATE } from "../../src/github/body.js";
import { parseConfig } from "../../src/github/config.js";
import { markerFor, readMarker, renderMarker } from "../../src/github/marker.js";
import type { Change, Plan, PlanError } from "../../src/plan.js";
import { autoReferences, checkGfm, renderGfm, tagsOf, textOf } from "../helpers/gfm.js";

const D1 = `sha256:${"1".repeat(12)}${"a".repeat(52)}`;
const D2 = `sha256:${"2".repeat(12)}${"b".repeat(52)}`;
const R1 = "0123456789abcdef0123456789abcdef01234567";
const R2 = "fedcba9876543210fedcba9876543210fedcba98";

const pin = (over: Partial<Change> = {}): Change => ({
  path: "Dockerfile",
  line: 1,
  kind: "from",
  image: "docker.io/library/python",
  tag: "3.12",
  from: "python:3.12",
  to: `python:3.12@${D1}`,
  oldDigest: null,
  newDigest: D1,
  start: 5,
  end: 16,
  ...over,
});

const refresh = (over: Partial<Change> = {}): Change =>
  pin({ from: `python:3.12@${D1}`, to: `python:3.12@${D2}`, oldDigest: D1, newDigest: D2, ...over });

const planOf = (changes: Change[], errors: PlanError[] = [], skipped: Plan["skipped"] = []): Plan => ({ changes, errors, skipped, current: [] });

const MARKER = renderMarker(markerFor("c".repeat(40), { files: {}, changes: [pin()] }));

/** The data rows of the table under `heading`. */
function rows(body: string, heading: string): string[][] {
  const lines = body.slice(body.indexOf(heading)).split("\n");
  const header = lines.findIndex((l) => l.startsWith("| File |"));
  expect(header).toBeGreaterThanOrEqual(0);
  const out: string[][] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    out.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return out;
}

const item = (body: string, image: string) => body.split("\n").find((l) => l.startsWith("- ") && l.includes(image)) ?? "";

describe("titleFor", () => {
  it("says pin when any reference is newly pinned, update when every change refreshes a pin", () => {
    expect(titleFor([pin()])).toBe(TITLE_PIN);
    expect(titleFor([refresh(), pin(), refresh()])).toBe(TITLE_PIN);
    expect(titleFor([refresh()])).toBe(TITLE_UPDATE);
    expect(TITLE_PIN).toBe("Pin container images to digests");
    expect(TITLE_UPDATE).toBe("Update container image digests");
  });

  it("puts the configured prefix first", () => {
    expect(titleFor([pin()], "chore(deps):")).toBe("chore(deps): Pin container images to digests");
    expect(titleFor([refresh()], "  build:  ")).toBe("build: Update container image digests");
    expect(titleFor([pin()], "")).toBe(TITLE_PIN);
  });
});

describe("renderBody sections", () => {
  const body = renderBody(
    planOf([
      pin({ path: "svc/api/Dockerfile", line: 3, platforms: ["linux/amd64", "linux/arm64/v8"] }),
      refresh({ path: "Containerfile", line: 12, image: "ghcr.io/acme/app", tag: "v1" }),
    ]),
    MARKER,
  );

  it("summarizes, then separates updates (new bytes) from pins (the same bytes)", () => {
    expect(body).toMatch(/^This pull request pins 1 image reference to its current digest and refreshes 1 pin whose tag has moved\.\n/);
    expect(body.indexOf("### Updated: new image bytes")).toBeLessThan(body.indexOf("### Pinned: builds exactly what they build today"));
    expect(rows(body, "### Updated")).toEqual([["Containerfile", "12", "ghcr.io/acme/app", "v1", "`sha256:111111111111`", "`sha256:222222222222`"]]);
    expect(rows(body, "### Pinned")).toEqual([
      ["svc/api/Dockerfile", "3", "docker.io/library/python", "3.12", "`sha256:111111111111`", "linux/amd64, linux/arm64/v8"],
    ]);
  });

  it("has only the sections it needs", () => {
    expect(renderBody(planOf([pin()]), MARKER)).not.toContain("### Updated");
    expect(renderBody(planOf([refresh()]), MARKER)).not.toContain("### Pinned");
  });

  it("explains the commands and the decline rule, and ends with the marker, which reads back", () => {
    expect(body).toContain("`/digest-pin rescan`");
    expect(body).toContain("`/digest-pin recreate`");
    expect(body).toContain("Closing this pull request without merging declines these digests");
    expect(body.endsWith(MARKER)).toBe(true);
    expect(readMarker(body)).toEqual(readMarker(MARKER));
  });

  it("says how to ignore this image or file, exactly", () => {
    expect(body).toContain("<details><summary>How to ignore an image or a file</summary>");
    expect(body).toContain('ignoreImages:\n  - "ghcr.io/acme/app"');
    expect(body).toContain('ignorePaths:\n  - "Containerfile"');
    expect(body).toContain("# digest-pin: ignore\nFROM python:3.12");
  });

  it("shows the effective config and where it came from, folded", () => {
    const parsed = parseConfig("labels: [deps]\nschedule: weekends\n");
    if (!parsed.ok) throw new Error(parsed.error);
    const withConfig = renderBody(planOf([pin()]), MARKER, {
      config: { effective: parsed.effective, sources: ["acme/.github: .github/digest-pin.yml", ".github/digest-pin.yml"] },
    });
    expect(withConfig).toContain("<details><summary>Effective configuration</summary>");
    expect(withConfig).toContain("From `acme/.github: .github/digest-pin.yml`, then `.github/digest-pin.yml`:");
    expect(withConfig).toMatch(/labels:\n {2}- deps\n/);
    expect(withConfig).toContain("schedule: weekends");
  });

  it("says what the schedule and the platforms held back", () => {
    const held = renderBody(
      planOf([pin()], [], [
        { path: "Dockerfile", line: 2, text: "x", reason: "schedule" },
        { path: "Dockerfile", line: 3, text: "y", reason: "schedule" },
        { path: "Dockerfile", line: 4, text: "z", reason: "platforms-unchanged" },
      ]),
      MARKER,
    );
    expect(held).toContain("- 2 refreshes wait for the configured schedule.");
    expect(held).toContain("- 1 refresh left out: the manifests for this repository's platforms did not change.");
  });

  it("lists the references that could not be resolved, on one line each, code spans intact", () => {
    const withErrors = renderBody(
      planOf([pin()], [
        { path: "svc/Dockerfile", line: 4, text: "ghcr.io/acme/private:1", error: "401 Unauthorized", code: "UNAUTHORIZED" },
        { path: "we`ird|/Dockerfile", line: 2, text: "x:1", error: "bad\nthing | here" },
      ]),
      MARKER,
    );
    expect(withErrors).toContain("**Could not be resolved**");
    expect(withErrors).toContain("- `svc/Dockerfile` line 4: `ghcr.io/acme/private:1`: 401 Unauthorized");
    expect(withErrors).toContain("- ``we`ird|/Dockerfile`` line 2: `x:1`: bad thing \\| here");
    expect(renderBody(planOf([pin()]), MARKER)).not.toContain("Could not be resolved");
  });
});

describe("renderBody update details", () => {
  const labels = (revision: string, version: string) => ({
    "org.opencontainers.image.source": "https://github.com/acme/app",
    "org.opencontainers.image.revision": revision,
    "org.opencontainers.image.version": version,
  });
  const reviewed = refresh({
    image: "ghcr.io/acme/app",
    tag: "1",
    review: {
      old: { created: "2024-04-01T10:00:00.000Z", labels: labels(R1, "1.0"), platforms: ["linux/amd64", "linux/arm/v7"] },
      new: { created: "2024-05-01T12:30:00.000Z", labels: labels(R2, "1.1"), platforms: ["linux/amd64", "linux/arm64"] },
    },
  });

  it("gives when each image was built, the platforms added and dropped, and links to the registry, source and compare view", () => {
    const line = item(renderBody(planOf([reviewed]), MARKER), "ghcr.io/acme/app:1");
    expect(line).toBe(
      "- `ghcr.io/acme/app:1` `sha256:111111111111` → `sha256:222222222222`: built 2024-05-01 12:30 UTC; the old image was " +
        "built 2024-04-01 10:00 UTC, 30 days earlier; platforms: ⚠️ **dropped linux/arm/v7** (builds for it will fail); " +
        "added linux/arm64 — [registry](https://ghcr.io/acme/app) · [source: github.com/acme/app](https://github.com/acme/app) · " +
        `[compare 0123456…fedcba9](https://github.com/acme/app/compare/${R1}...${R2}) · version 1.0 → 1.1`,
    );
  });

  it("links the commit when only the new revision is known, the official-image definition, or says no source is known", () => {
    const oneRevision = refresh({ image: "ghcr.io/acme/app", tag: "1", review: { new: { labels: labels(R2, "1.1") } } });
    expect(item(renderBody(planOf([oneRevision]), MARKER), "ghcr.io")).toContain(`[commit fedcba9](https://github.com/acme/app/commit/${R2})`);
    const official = refresh({ review: { new: { labels: {} }, old: { labels: {} } } });
    expect(item(renderBody(planOf([official]), MARKER), "python:3.12")).toContain(
      "[Docker Official Image definition](https://github.com/docker-library/official-images/blob/master/library/python)",
    );
    const unknown = refresh({ image: "registry.internal:5000/app", tag: "1" });
    expect(item(renderBody(planOf([unknown]), MARKER), "registry.internal")).toContain("no source known");
  });

  it("lists each distinct update once, however many references share it", () => {
    const body = renderBody(planOf([reviewed, { ...reviewed, path: "b/Dockerfile" }, { ...reviewed, line: 9 }]), MARKER);
    expect(body.split("\n").filter((l) => l.startsWith("- `ghcr.io/acme/app:1`"))).toHaveLength(1);
    expect(rows(body, "### Updated")).toHaveLength(3);
  });
});

describe("renderBody size", () => {
  it("folds a long table after 10 rows", () => {
    const changes = Array.from({ length: 25 }, (_, i) => pin({ line: i + 1 }));
    const body = renderBody(planOf(changes), MARKER);
    expect(rows(body, "### Pinned")).toHaveLength(10);
    expect(body).toContain("<details><summary>and 15 more</summary>");
  });

  it.each([400, 5_000, 50_000])("fits GitHub's limit with %d changes, long paths and errors, and counts what it leaves out", (n) => {
    const long = "deeply/nested/".repeat(40);
    const changes = Array.from({ length: n }, (_, i) =>
      i % 2 === 0 ? pin({ path: `${long}${i}/Dockerfile`, line: i }) : refresh({ path: `${long}${i}/Dockerfile`, line: i, tag: `t${i}` }),
    );
    const errors = Array.from({ length: n / 10 }, (_, i) => ({ path: `${long}${i}`, line: i, text: "x:1", error: "e".repeat(500) }));
    const marker = renderMarker(markerFor("c".repeat(40), { files: {}, changes }));
    const body = renderBody(planOf(changes, errors), marker);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(BODY_LIMIT);
    expect(body.endsWith(marker)).toBe(true);
    expect(readMarker(body)?.commit).toBe("c".repeat(40));
    if (n > 400) expect(body).toMatch(/…and [\d,]+ references? more, not listed here/);
  });

  it("keeps a body of huge single lines under the limit too", () => {
    const changes = [pin({ path: `${"x".repeat(70_000)}/Dockerfile` }), pin({ line: 2 })];
    const body = renderBody(planOf(changes), MARKER);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(BODY_LIMIT);
  });
});

describe("commitMessage", () => {
  it("carries the title and the summary, change by change, and nothing machine-readable", () => {
    const message = commitMessage(planOf([pin(), refresh({ path: "svc/Dockerfile", line: 4 })]), "chore(deps):");
    expect(message).toBe(
      [
        "chore(deps): Pin container images to digests",
        "",
        "This pull request pins 1 image reference to its current digest and refreshes 1 pin whose tag has moved.",
        "",
        `- pin Dockerfile:1 docker.io/library/python:3.12 to ${D1}`,
        `- update svc/Dockerfile:4 docker.io/library/python:3.12 from ${D1} to ${D2}`,
      ].join("\n"),
    );
  });

  it("is bounded, and shows control characters from paths as escapes", () => {
    const changes = Array.from({ length: 500 }, (_, i) => pin({ line: i, path: "a\nb\u001b[2J/Dockerfile" }));
    const message = commitMessage(planOf(changes));
    expect(message.split("\n")).toHaveLength(4 + 50 + 1);
    expect(message).toContain("…and 450 more");
    expect(message).toContain("a\\nb\\x1b[2J/Dockerfile");
  });
});

describe("renderBody with text from a hostile registry and repository", () => {
  const hasGfm = checkGfm("rendering pull request bodies with cmark-gfm");
  const EVIL = "see [docs](https://evil.example/) @acme/admins #1 <img src=x onerror=alert(1)> `x`";
  const body = () =>
    renderBody(
      planOf(
        [
          pin({ path: "svc/<details>@acme|x/Dockerfile", platforms: ["<img src=x onerror=alert(1)>/@acme/admins", "linux/amd64 [x](https://evil.example/)"] }),
          refresh({
            image: "ghcr.io/acme/app",
            review: {
              old: { labels: { "org.opencontainers.image.version": EVIL }, platforms: ["<b>old</b>"] },
              new: {
                labels: {
                  "org.opencontainers.image.source": "javascript:alert(1)//github.com/acme/app",
                  "org.opencontainers.image.revision": "<img src=x>",
                  "org.opencontainers.image.version": EVIL,
                },
                platforms: ["@acme/admins #2"],
              },
            },
          }),
        ],
        [{ path: "a/@acme/Dockerfile", line: 2, text: "x:1", error: EVIL }],
      ),
      MARKER,
    );

  it("escapes paths, platforms, labels and registry messages in the Markdown", () => {
    const md = body();
    expect(rows(md, "### Pinned")[0]?.[5]).toBe(
      "&lt;img src=x onerror=alert(1)&gt;/@\u200bacme/admins, linux/amd64 \\[x\\](https\\://evil.example/)",
    );
    expect(item(md, "a/@acme")).toBe(
      "- `a/@acme/Dockerfile` line 2: `x:1`: see \\[docs\\](https\\://evil.example/) @\u200bacme/admins \\#\u200b1 " +
        "&lt;img src=x onerror=alert(1)&gt; \\`x\\`",
    );
  });

  it.skipIf(!hasGfm)("renders no link but the app's own, no image, mention or reference, and shows the text as it came", () => {
    const html = renderGfm(body());
    expect([...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1])).toEqual(["https://ghcr.io/acme/app"]);
    expect(tagsOf(html).filter((t) => ["img", "script", "b"].includes(t))).toEqual([]);
    expect(tagsOf(html).filter((t) => t === "details")).toHaveLength(2);
    expect(autoReferences(html)).toEqual([]);
    const text = textOf(html).replace(/\u200b/g, "");
    expect(text).toContain("<img src=x onerror=alert(1)>/@acme/admins, linux/amd64 [x](https://evil.example/)");
    expect(text).toContain(`a/@acme/Dockerfile line 2: x:1: ${EVIL}`);
    expect(text).toContain("svc/<details>@acme|x/Dockerfile");
    expect(text).toContain(`version ${EVIL.slice(0, 64)} → ${EVIL.slice(0, 64)}`);
    expect(text).toContain("dropped <b>old</b>");
  });
});
