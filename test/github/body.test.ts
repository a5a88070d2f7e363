import { describe, expect, it } from "vitest";
import { renderBody, titleFor, TITLE_PIN, TITLE_UPDATE } from "../../src/github/body.js";
import { readMarker, renderMarker, type Marker } from "../../src/github/marker.js";
import type { Change, Plan, PlanError } from "../../src/plan.js";
import { autoReferences, checkGfm, renderGfm, tagsOf, textOf } from "../helpers/gfm.js";

const D1 = `sha256:${"1".repeat(12)}${"a".repeat(52)}`;
const D2 = `sha256:${"2".repeat(12)}${"b".repeat(52)}`;

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

const planOf = (changes: Change[], errors: PlanError[] = []): Plan => ({ changes, errors, skipped: [], current: [] });

const MARKER = "<!-- digest-pin:plan e30= -->";

/** The table's data rows. */
function rows(body: string): string[] {
  const lines = body.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| File |"));
  expect(header).toBeGreaterThanOrEqual(0);
  expect(lines[header + 1]).toBe("| --- | ---: | --- | --- | --- | --- | --- |");
  const out: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    out.push(line);
  }
  return out;
}

/** The cells of a row, splitting only on pipes that are not escaped. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe("titleFor", () => {
  it("says pin when any reference is newly pinned", () => {
    expect(titleFor([pin()])).toBe(TITLE_PIN);
    expect(titleFor([refresh(), pin(), refresh()])).toBe(TITLE_PIN);
  });

  it("says update when every change refreshes an existing pin", () => {
    expect(titleFor([refresh()])).toBe(TITLE_UPDATE);
    expect(titleFor([refresh(), refresh({ line: 2 })])).toBe(TITLE_UPDATE);
  });

  it("uses the documented titles", () => {
    expect(TITLE_PIN).toBe("Pin container images to digests");
    expect(TITLE_UPDATE).toBe("Update container image digests");
  });
});

describe("renderBody", () => {
  it("has one table row per change with file, line, image, tag, short digests and platforms", () => {
    const body = renderBody(
      planOf([
        pin({ path: "svc/api/Dockerfile", line: 3, platforms: ["linux/amd64", "linux/arm64/v8"] }),
        refresh({ path: "Containerfile", line: 12, image: "ghcr.io/acme/app", tag: "v1" }),
      ]),
      MARKER,
    );
    expect(rows(body).map(cells)).toEqual([
      ["svc/api/Dockerfile", "3", "docker.io/library/python", "3.12", "—", "`sha256:111111111111`", "linux/amd64, linux/arm64/v8"],
      ["Containerfile", "12", "ghcr.io/acme/app", "v1", "`sha256:111111111111`", "`sha256:222222222222`", ""],
    ]);
  });

  it("escapes pipes and flattens line breaks so a cell cannot break the table", () => {
    const body = renderBody(planOf([pin({ path: "a|b/x\ny/Dockerfile" })]), MARKER);
    const [row] = rows(body);
    expect(row).toContain("a\\|b/x y/Dockerfile");
    expect(cells(row!)).toHaveLength(7);
    expect(cells(row!)[0]).toBe("a\\|b/x y/Dockerfile");
  });

  it("summarizes what it pins and refreshes", () => {
    expect(renderBody(planOf([pin()]), MARKER)).toMatch(
      /^This pull request pins 1 image reference to its current digest\.\n/,
    );
    expect(renderBody(planOf([pin(), pin({ line: 2 })]), MARKER)).toMatch(
      /^This pull request pins 2 image references to their current digest\.\n/,
    );
    expect(renderBody(planOf([refresh()]), MARKER)).toMatch(/^This pull request refreshes 1 pin whose tag has moved\.\n/);
    expect(renderBody(planOf([pin(), refresh(), refresh({ line: 2 })]), MARKER)).toMatch(
      /^This pull request pins 1 image reference to its current digest and refreshes 2 pins whose tag has moved\.\n/,
    );
  });

  it("lists the references that could not be resolved", () => {
    const body = renderBody(
      planOf(
        [pin()],
        [
          { path: "svc/Dockerfile", line: 4, text: "ghcr.io/acme/private:1", error: "401 Unauthorized", code: "UNAUTHORIZED" },
          { path: "Dockerfile", line: 9, text: "node:20", error: "429 Too Many Requests" },
        ],
      ),
      MARKER,
    );
    expect(body).toContain("**Could not be resolved**");
    expect(body).toContain("- `svc/Dockerfile` line 4: `ghcr.io/acme/private:1`: 401 Unauthorized");
    expect(body).toContain("- `Dockerfile` line 9: `node:20`: 429 Too Many Requests");
    // Errors are not table rows.
    expect(rows(body)).toHaveLength(1);
  });

  it("keeps error items on one line and their code spans intact", () => {
    const body = renderBody(
      planOf([pin()], [{ path: "we`ird|/Dockerfile", line: 2, text: "x:1", error: "bad\nthing | here" }]),
      MARKER,
    );
    const item = body.split("\n").find((l) => l.startsWith("- "));
    // Backslashes do not escape inside code spans: a longer fence keeps the backtick, the pipe stays as written.
    expect(item).toBe("- ``we`ird|/Dockerfile`` line 2: `x:1`: bad thing \\| here");
  });

  it("has no error section when everything resolved", () => {
    expect(renderBody(planOf([pin()]), MARKER)).not.toContain("Could not be resolved");
  });

  it("explains the commands and the decline rule", () => {
    const body = renderBody(planOf([pin()]), MARKER);
    expect(body).toContain("`/digest-pin rescan`");
    expect(body).toContain("`/digest-pin recreate`");
    expect(body).toContain("Closing this pull request without merging declines these digests");
  });

  it("ends with the marker, which reads back", () => {
    const marker: Marker = { v: 1, commit: "c".repeat(40), files: { Dockerfile: "f".repeat(40) }, changes: [] };
    const body = renderBody(planOf([pin()]), renderMarker(marker));
    expect(body.endsWith(renderMarker(marker))).toBe(true);
    expect(readMarker(body)).toEqual(marker);
  });
});

describe("renderBody with text from a hostile registry and repository", () => {
  const hasGfm = checkGfm("rendering pull request bodies with cmark-gfm");
  const EVIL = "see [docs](https://evil.example/) @acme/admins #1 <img src=x onerror=alert(1)> `x`";
  const body = () =>
    renderBody(
      planOf(
        [
          pin({
            path: "svc/<details>@acme|x/Dockerfile",
            platforms: ["<img src=x onerror=alert(1)>/@acme/admins", "linux/amd64 [x](https://evil.example/)"],
          }),
        ],
        [{ path: "a/@acme/Dockerfile", line: 2, text: "x:1", error: EVIL }],
      ),
      MARKER,
    );

  it("escapes paths, platforms and registry messages in the Markdown", () => {
    const md = body();
    // The app's own <details> and the marker are the only HTML: as many `<` as in a body without hostile text.
    expect(md.match(/</g)).toHaveLength(renderBody(planOf([pin()]), MARKER).match(/</g)?.length ?? 0);
    expect(md).toContain("<details><summary>Why digests?</summary>");
    const [row] = rows(md);
    expect(cells(row ?? "")).toHaveLength(7);
    expect(cells(row ?? "")[6]).toBe(
      "&lt;img src=x onerror=alert(1)&gt;/@\u200bacme/admins, linux/amd64 \\[x\\](https\\://evil.example/)",
    );
    const item = md.split("\n").find((l) => l.startsWith("- `a/"));
    expect(item).toBe(
      "- `a/@acme/Dockerfile` line 2: `x:1`: see \\[docs\\](https\\://evil.example/) @\u200bacme/admins \\#\u200b1 " +
        "&lt;img src=x onerror=alert(1)&gt; \\`x\\`",
    );
  });

  it.skipIf(!hasGfm)("renders no link, image, mention or reference, and shows the text as it came", () => {
    const html = renderGfm(body());
    expect(tagsOf(html).filter((t) => ["a", "img", "script"].includes(t))).toEqual([]);
    expect(tagsOf(html).filter((t) => t === "details")).toHaveLength(1);
    expect(autoReferences(html)).toEqual([]);
    const text = textOf(html).replace(/\u200b/g, "");
    expect(text).toContain("<img src=x onerror=alert(1)>/@acme/admins, linux/amd64 [x](https://evil.example/)");
    expect(text).toContain(`a/@acme/Dockerfile line 2: x:1: ${EVIL}`);
    expect(text).toContain("svc/<details>@acme|x/Dockerfile");
  });
});
