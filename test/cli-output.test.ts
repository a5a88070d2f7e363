import { describe, expect, it } from "vitest";
import { planJson, renderPlan, renderScan, scanJson, shortDigests, table } from "../src/cli-output.js";
import type { FoundReference } from "../src/dockerfile/types.js";
import type { Plan, ScannedFile } from "../src/plan.js";
import { parseReference } from "../src/reference.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

function ref(text: string, line: number, extra: Partial<FoundReference> = {}): FoundReference {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return { kind: "from", line, start: 0, end: text.length, text, reference: parsed.value, skip: null, ...extra };
}

function skippedRef(text: string, line: number, skip: "variable" | "invalid", skipDetail?: string): FoundReference {
  const out: FoundReference = { kind: "from", line, start: 0, end: text.length, text, reference: null, skip };
  if (skipDetail) out.skipDetail = skipDetail;
  return out;
}

const scanned: ScannedFile[] = [
  {
    path: "services/api/Dockerfile",
    references: [
      ref("python:3.12-slim", 3),
      ref(`ghcr.io/acme/base:1@${D1}`, 7, { kind: "copy-from", platform: "linux/arm64", arg: "BASE" }),
      ref(`alpine@${D2}`, 9, { kind: "mount-from" }),
    ],
  },
  { path: "empty/Dockerfile", references: [] },
  {
    path: "Containerfile",
    references: [
      ref("docker/dockerfile:1", 1, { kind: "syntax" }),
      skippedRef("${BASE}", 4, "variable", "uses the build variable BASE"),
      skippedRef("Bad Ref", 5, "invalid"),
    ],
  },
];

const plan: Plan = {
  changes: [
    {
      path: "services/api/Dockerfile",
      line: 3,
      kind: "from",
      image: "docker.io/library/python",
      tag: "3.12-slim",
      from: "python:3.12-slim",
      to: `python:3.12-slim@${D1}`,
      oldDigest: null,
      newDigest: D1,
      platforms: ["linux/amd64"],
      start: 5,
      end: 21,
    },
    {
      path: "Containerfile",
      line: 2,
      kind: "copy-from",
      image: "ghcr.io/acme/base",
      tag: "1",
      from: `ghcr.io/acme/base:1@${D1}`,
      to: `ghcr.io/acme/base:1@${D2}`,
      oldDigest: D1,
      newDigest: D2,
      start: 12,
      end: 100,
    },
  ],
  skipped: [
    { path: "Containerfile", line: 4, text: "${BASE}", reason: "variable", detail: "uses BASE" },
    { path: "dev/Dockerfile", line: 1, text: "node:20", reason: "ignored" },
  ],
  errors: [
    { path: "private/Dockerfile", line: 6, text: "ghcr.io/acme/secret:1", error: "401 Unauthorized", code: "UNAUTHORIZED" },
  ],
  current: [{ path: "ok/Dockerfile", line: 2, text: `node:20@${D2}`, image: "docker.io/library/node", tag: "20", digest: D2 }],
};

describe("scanJson", () => {
  it("has exactly the documented shape, nulls included, files without references left out", () => {
    expect(scanJson(scanned)).toStrictEqual({
      files: [
        {
          path: "services/api/Dockerfile",
          references: [
            {
              kind: "from",
              line: 3,
              text: "python:3.12-slim",
              image: "docker.io/library/python",
              tag: "3.12-slim",
              digest: null,
              skip: null,
            },
            {
              kind: "copy-from",
              line: 7,
              text: `ghcr.io/acme/base:1@${D1}`,
              image: "ghcr.io/acme/base",
              tag: "1",
              digest: D1,
              skip: null,
            },
            {
              kind: "mount-from",
              line: 9,
              text: `alpine@${D2}`,
              image: "docker.io/library/alpine",
              tag: null,
              digest: D2,
              skip: null,
            },
          ],
        },
        {
          path: "Containerfile",
          references: [
            {
              kind: "syntax",
              line: 1,
              text: "docker/dockerfile:1",
              image: "docker.io/docker/dockerfile",
              tag: "1",
              digest: null,
              skip: null,
            },
            { kind: "from", line: 4, text: "${BASE}", image: null, tag: null, digest: null, skip: "variable" },
            { kind: "from", line: 5, text: "Bad Ref", image: null, tag: null, digest: null, skip: "invalid" },
          ],
        },
      ],
      skippedFiles: [],
    });
  });

  it("serializes nulls rather than dropping keys", () => {
    const json = JSON.parse(JSON.stringify(scanJson(scanned))) as ReturnType<typeof scanJson>;
    expect(Object.keys(json.files[1]!.references[1]!)).toEqual(["kind", "line", "text", "image", "tag", "digest", "skip"]);
  });

  it("gives an empty list when nothing was found", () => {
    expect(scanJson([])).toStrictEqual({ files: [], skippedFiles: [] });
    expect(scanJson([{ path: "Dockerfile", references: [] }])).toStrictEqual({ files: [], skippedFiles: [] });
  });

  it("lists a file that could not be scanned with its error, in JSON and in the table", () => {
    const failed = [{ path: "Dockerfile", references: [], error: "could not be scanned: internal error: x" }];
    expect(scanJson(failed)).toStrictEqual({
      files: [{ path: "Dockerfile", error: "could not be scanned: internal error: x", references: [] }],
      skippedFiles: [],
    });
    expect(renderScan(failed)).toMatch(/^Dockerfile:1 +- +- +error \(could not be scanned: internal error: x\)$/m);
    expect(renderScan(failed)).toMatch(/1 Dockerfiles, 0 references: 0 pinned, 0 unpinned, 0 other; 1 could not be scanned\.\n$/);
  });
});

describe("planJson", () => {
  const context = {
    files: 4,
    skippedFiles: [{ path: "big/Dockerfile", reason: "too-large" as const, detail: "larger than 1 MiB" }],
    config: { path: ".github/digest-pin.yml", enabled: true },
  };

  it("has exactly the documented shape", () => {
    expect(planJson(plan, context)).toStrictEqual({
      changes: [
        {
          path: "services/api/Dockerfile",
          line: 3,
          kind: "from",
          image: "docker.io/library/python",
          tag: "3.12-slim",
          from: "python:3.12-slim",
          to: `python:3.12-slim@${D1}`,
          oldDigest: null,
          newDigest: D1,
        },
        {
          path: "Containerfile",
          line: 2,
          kind: "copy-from",
          image: "ghcr.io/acme/base",
          tag: "1",
          from: `ghcr.io/acme/base:1@${D1}`,
          to: `ghcr.io/acme/base:1@${D2}`,
          oldDigest: D1,
          newDigest: D2,
        },
      ],
      skipped: [
        { path: "Containerfile", line: 4, text: "${BASE}", reason: "variable", detail: "uses BASE" },
        { path: "dev/Dockerfile", line: 1, text: "node:20", reason: "ignored" },
      ],
      errors: [{ path: "private/Dockerfile", line: 6, text: "ghcr.io/acme/secret:1", error: "401 Unauthorized", code: "UNAUTHORIZED" }],
      current: [{ path: "ok/Dockerfile", line: 2, text: `node:20@${D2}`, image: "docker.io/library/node", tag: "20", digest: D2 }],
      skippedFiles: [{ path: "big/Dockerfile", reason: "too-large", detail: "larger than 1 MiB" }],
      summary: { files: 4, references: 6, pin: 1, refresh: 1, current: 1, skipped: 2, errors: 1, skippedFiles: 1 },
      config: { path: ".github/digest-pin.yml", enabled: true },
    });
  });

  it("gives every error a code, UNEXPECTED when the failure was not a known one", () => {
    const bare = { ...plan, errors: [{ path: "Dockerfile", line: 1, text: "x:1", error: "boom" }] };
    expect(planJson(bare, context).errors).toEqual([{ path: "Dockerfile", line: 1, text: "x:1", error: "boom", code: "UNEXPECTED" }]);
  });

  it("keeps oldDigest as null in the JSON text", () => {
    expect(JSON.stringify(planJson(plan))).toContain('"oldDigest":null');
  });

  it("gives empty lists for an empty plan", () => {
    expect(planJson({ changes: [], skipped: [], errors: [], current: [] })).toStrictEqual({
      changes: [],
      skipped: [],
      errors: [],
      current: [],
      skippedFiles: [],
      summary: { files: 0, references: 0, pin: 0, refresh: 0, current: 0, skipped: 0, errors: 0, skippedFiles: 0 },
      config: { path: null, enabled: true },
    });
  });
});

describe("renderScan", () => {
  const out = renderScan(scanned);

  it("mentions each reference as path:line with its text", () => {
    for (const file of scanned) {
      for (const r of file.references) {
        const row = out.split("\n").find((l) => l.startsWith(`${file.path}:${r.line} `));
        expect(row, `${file.path}:${r.line}`).toBeDefined();
        expect(row).toContain(shortDigests(r.text)); // digests cut to 12 hex digits unless --wide
        expect(row).toContain(r.kind);
      }
    }
  });

  it("gives each reference a status", () => {
    const row = (at: string) => out.split("\n").find((l) => l.startsWith(`${at} `)) ?? "";
    expect(row("services/api/Dockerfile:3")).toMatch(/ unpinned$/);
    expect(row("services/api/Dockerfile:7")).toMatch(/ pinned$/);
    expect(row("services/api/Dockerfile:9")).toMatch(/ digest only$/);
    expect(row("Containerfile:4")).toMatch(/skipped \(variable: uses the build variable BASE\)$/);
    expect(row("Containerfile:5")).toMatch(/skipped \(invalid\)$/);
  });

  it("aligns columns and ends with a count", () => {
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^FILE:LINE\s+KIND\s+REFERENCE\s+STATUS$/);
    const kindColumn = lines[0]!.indexOf("KIND");
    for (const line of lines.slice(1, 7)) expect(line[kindColumn - 1]).toBe(" ");
    expect(lines.at(-1)).toBe("3 Dockerfiles, 6 references: 1 pinned, 2 unpinned, 3 other.");
    expect(out.endsWith("\n")).toBe(true);
  });

  it("says so when nothing was found", () => {
    expect(renderScan([{ path: "Dockerfile", references: [] }])).toBe(
      "No image references found (1 Dockerfiles scanned).\n",
    );
  });
});

describe("renderPlan", () => {
  it("mentions every change, error and skip as path:line", () => {
    const out = renderPlan(plan, "check");
    for (const at of [
      "services/api/Dockerfile:3",
      "Containerfile:2",
      "Containerfile:4",
      "dev/Dockerfile:1",
      "private/Dockerfile:6",
    ]) {
      expect(out.split("\n").some((l) => l.startsWith(`${at} `)), at).toBe(true);
    }
  });

  it("shows what each change replaces and with what", () => {
    const out = renderPlan(plan, "pin");
    const row = out.split("\n").find((l) => l.startsWith("services/api/Dockerfile:3 "));
    expect(row).toContain("python:3.12-slim ");
    expect(row).toContain(`python:3.12-slim@sha256:${"1".repeat(12)}…`);
    expect(row).not.toContain(D1);
    expect(renderPlan(plan, "pin", { wide: true })).toContain(`python:3.12-slim@${D1}`);
    expect(out).toContain("401 Unauthorized");
    expect(out).toMatch(/Containerfile:4\s+\$\{BASE\}\s+variable/);
  });

  it("says changed for pin and would change for check", () => {
    expect(renderPlan(plan, "pin")).toMatch(/^Changed:\n/);
    expect(renderPlan(plan, "check")).toMatch(/^Would change:\n/);
  });

  it("ends with the counts", () => {
    expect(renderPlan(plan, "check")).toMatch(/\n1 to pin, 1 to refresh, 1 current, 2 skipped, 1 errors\.\n$/);
  });

  it("prints only the counts when there is nothing to report", () => {
    expect(renderPlan({ changes: [], skipped: [], errors: [], current: [] }, "check")).toBe(
      "0 to pin, 0 to refresh, 0 current, 0 skipped, 0 errors.\n",
    );
  });
});

describe("shortDigests", () => {
  it("cuts each sha256 digest to 12 hex digits and leaves everything else", () => {
    expect(shortDigests(`a:1@${D1}`)).toBe(`a:1@sha256:${"1".repeat(12)}…`);
    expect(shortDigests(`${D1} and ${D2}`)).toBe(`sha256:${"1".repeat(12)}… and sha256:${"2".repeat(12)}…`);
    expect(shortDigests("sha256:abc")).toBe("sha256:abc");
    expect(shortDigests(`a@${D1}f`)).toBe(`a@${D1}f`);
  });

  it("shows in scan's table unless wide", () => {
    expect(renderScan(scanned)).toContain(`ghcr.io/acme/base:1@sha256:${"1".repeat(12)}… `);
    expect(renderScan(scanned, { wide: true })).toContain(`ghcr.io/acme/base:1@${D1} `);
  });
});

describe("renderPlan's hint", () => {
  it("names the command that makes check's changes, and only when there are some", () => {
    expect(renderPlan(plan, "check", { fix: "digest-pin pin svc" })).toMatch(/\nRun "digest-pin pin svc" to make these 2 changes\.\n$/);
    expect(renderPlan({ ...plan, changes: [] }, "check", { fix: "digest-pin pin svc" })).not.toContain("Run ");
    expect(renderPlan(plan, "pin", { fix: "digest-pin pin svc" })).not.toContain("Run ");
  });
});

describe("table", () => {
  it("pads every column but the last to its widest cell", () => {
    expect(table(["A", "B", "C"], [["long", "x", "tail"], ["s", "yy", ""]])).toBe(
      "A     B   C\nlong  x   tail\ns     yy\n",
    );
  });
});
