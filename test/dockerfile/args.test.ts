// References built from global ARG defaults (issue: "Every image reference of an organization", §3), the BuildKit
// details of COPY --from, mounts and ONBUILD, and the inline ignore comment.

import { describe, expect, it } from "vitest";
import { expandWord, UNKNOWN } from "../../src/dockerfile/expand.js";
import { applyEdits } from "../../src/dockerfile/rewrite.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";
import type { FoundReference } from "../../src/dockerfile/types.js";
import { editsFor, plan, pinnedTextFor, resolveRequestFor } from "../../src/plan.js";
import type { Resolution } from "../../src/registry/types.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

function scan(text: string, buildArgs?: Map<string, string>): FoundReference[] {
  const bytes = Buffer.from(text, "utf8");
  const refs = scanDockerfile(bytes, buildArgs ? { buildArgs } : {});
  for (const r of refs) expect(bytes.subarray(r.start, r.end).toString("utf8")).toBe(r.text);
  return refs;
}

/** Pin every pinnable reference to `digest` the way the plan writes it; the new file's bytes. */
function pinAll(text: string, digest = D1): string {
  const refs = scanDockerfile(Buffer.from(text));
  const edits = refs.filter((r) => r.skip === null).map((r) => ({ start: r.start, end: r.end, replacement: pinnedTextFor(r, digest) }));
  return applyEdits(Buffer.from(text), edits).toString("utf8");
}

describe("expandWord (BuildKit's shell lexer)", () => {
  const env = new Map<string, string | typeof UNKNOWN>([
    ["V", "1.22"],
    ["EMPTY", ""],
    ["TARGETARCH", UNKNOWN],
  ]);
  it.each([
    ["golang:${V}-alpine", "golang:1.22-alpine"],
    ["golang:$V", "golang:1.22"],
    ["${V:-x}", "1.22"],
    ["${EMPTY:-x}", "x"],
    ["${EMPTY-x}", ""],
    ["${V:+set}", "set"],
    ["${EMPTY:+set}", ""],
    ["${EMPTY+set}", "set"],
    ["${UNSET:-${V}}", "1.22"],
    ['"quoted:${V}"', "quoted:1.22"],
    ["'single:${V}'", "single:${V}"],
    ["a\\$V", "a$V"],
    ["$", "$"],
    ["a$/b", "a$/b"],
  ])("%s → %s", (word, value) => {
    const out = expandWord(word, env, 92);
    expect(out.error).toBeNull();
    expect(out.value).toBe(value);
  });

  it("records what was set, what was not, and what only the build knows", () => {
    const out = expandWord("${V}-${UNSET:-x}-$TARGETARCH", env, 92);
    expect([...out.matched].sort()).toEqual(["TARGETARCH", "V"]);
    expect([...out.unmatched]).toEqual(["UNSET"]);
    expect([...out.unknown]).toEqual(["TARGETARCH"]);
  });

  it.each([
    ["${V", "missing '}'"],
    ["${}", "bad substitution"],
    ["${V:x}", "unsupported modifier"],
    ["${UNSET:?needed}", "UNSET: needed"],
    ['"open', "double-quote"],
  ])("rejects %s as BuildKit does", (word, message) => {
    expect(expandWord(word, env, 92).error).toContain(message);
  });

  it("notes the pattern forms without evaluating them", () => {
    expect(expandWord("${V%.*}", env, 92).unsupported).toBe("${V%…}");
    expect(expandWord("${V/1/2}", env, 92).unsupported).toBe("${V/…}");
  });
});

describe("deeply nested expansions", () => {
  it("reports a default nested thousands deep as invalid, where the recursion used to overflow the stack", () => {
    const deep = (n: number) => `ARG B=\nARG A=${"${B:-".repeat(n)}x${"}".repeat(n)}\nFROM $A\n`;
    expect(scan(deep(1_000)).map((r) => [r.skip, r.expanded])).toEqual([[null, "x"]]);
    const [ref] = scan(deep(5_000));
    expect(ref).toMatchObject({ kind: "from", arg: "A", skip: "invalid" });
    expect(ref?.skipDetail).toMatch(/nested more than 1000 deep/);
  });
});

describe("FROM built from global ARGs", () => {
  it("pins in the FROM, appending the digest to the reference as written", () => {
    const file = "ARG GO_VERSION=1.22\nARG REPO=mcr.microsoft.com/dotnet/sdk\nFROM golang:${GO_VERSION}-alpine AS build\nFROM $REPO:8.0-alpine\n";
    const refs = scan(file);
    expect(refs.map((r) => [r.line, r.text, r.expanded, r.skip])).toEqual([
      [3, "golang:${GO_VERSION}-alpine", "golang:1.22-alpine", null],
      [4, "$REPO:8.0-alpine", "mcr.microsoft.com/dotnet/sdk:8.0-alpine", null],
    ]);
    expect(refs[0]?.reference).toEqual({ registry: "docker.io", repository: "library/golang", tag: "1.22-alpine", digest: null });
    expect(pinAll(file)).toBe(
      `ARG GO_VERSION=1.22\nARG REPO=mcr.microsoft.com/dotnet/sdk\nFROM golang:\${GO_VERSION}-alpine@${D1} AS build\nFROM $REPO:8.0-alpine@${D1}\n`,
    );
  });

  it("does not pin the ARG line when some use of the ARG is not a whole reference (it would break the build)", () => {
    // Before: `ARG IMG=alpine:latest@sha256:…`, which makes line 3 `alpine:latest@sha256:…:3.19`, an invalid reference.
    const file = "ARG IMG=alpine\nFROM $IMG\nFROM $IMG:3.19\n";
    const pinned = pinAll(file);
    expect(pinned).toBe(`ARG IMG=alpine\nFROM $IMG:latest@${D1}\nFROM $IMG:3.19@${D1}\n`);
    const again = scanDockerfile(Buffer.from(pinned));
    expect(again.map((r) => [r.expanded, r.skip])).toEqual([
      [`alpine:latest@${D1}`, null],
      [`alpine:3.19@${D1}`, null],
    ]);
  });

  it("keeps pinning in the ARG line when every use is a whole reference", () => {
    const file = "ARG BASE=python:3.12-slim\nFROM ${BASE} AS a\nFROM $BASE\n";
    expect(pinAll(file)).toBe(`ARG BASE=python:3.12-slim@${D1}\nFROM \${BASE} AS a\nFROM $BASE\n`);
  });

  it("pins a default built from other ARGs in its ARG line, and counts that as a partial use of those", () => {
    const file = "ARG IMG=alpine\nARG FULL=${IMG}:3.19\nFROM $FULL\nFROM $IMG\n";
    const refs = scan(file);
    expect(refs.map((r) => [r.line, r.text, r.arg, r.expanded])).toEqual([
      [2, "${IMG}:3.19", "FULL", "alpine:3.19"],
      [4, "$IMG", undefined, "alpine"],
    ]);
    expect(pinAll(file)).toBe(`ARG IMG=alpine\nARG FULL=\${IMG}:3.19@${D1}\nFROM $FULL\nFROM $IMG:latest@${D1}\n`);
  });

  it("refreshes a digest written after the variables, and sees a changed default as drift", () => {
    const pinned = `ARG GO=1.22\nFROM golang:\${GO}-alpine@${D1}\n`;
    const [ref] = scan(pinned);
    expect(ref?.reference).toMatchObject({ tag: "1.22-alpine", digest: D1 });
    expect(pinnedTextFor(ref as FoundReference, D2)).toBe(`golang:\${GO}-alpine@${D2}`);

    // The default moves on: the pinned digest no longer belongs to the expanded tag.
    const moved = pinned.replace("GO=1.22", "GO=1.23");
    const refs = scan(moved);
    const request = resolveRequestFor(refs[0] as FoundReference);
    expect(request?.reference.tag).toBe("1.23-alpine");
    expect(request?.options.currentDigest).toBe(D1);
    const resolutions = new Map<string, Resolution>([[request?.key as string, { digest: D2, mediaType: "x" }]]);
    const p = plan([{ path: "Dockerfile", references: refs }], resolutions, { pinUnpinned: true });
    expect(p.changes.map((c) => [c.tag, c.oldDigest, c.newDigest])).toEqual([["1.23-alpine", D1, D2]]);
    expect(applyEdits(Buffer.from(moved), editsFor(p.changes, "Dockerfile")).toString()).toBe(
      `ARG GO=1.23\nFROM golang:\${GO}-alpine@${D2}\n`,
    );
  });

  it("pins inside double quotes, and skips other quoting", () => {
    const file = 'ARG V=3\nFROM "python:${V}"\nARG X=1\n';
    expect(pinAll(file)).toBe(`ARG V=3\nFROM "python:\${V}@${D1}"\nARG X=1\n`);
    expect(scan("ARG V=3\nFROM python:'${V}'\n")[0]).toMatchObject({ skip: "invalid" });
    expect(scan('ARG V=3\nARG IMG="python:${V}"\nFROM $IMG\n')[0]).toMatchObject({ text: "python:${V}", arg: "IMG" });
  });

  it.each([
    ["FROM base-${TARGETARCH}\n", /TARGETARCH, which depends on the build/],
    ["FROM python:${NOPE}\n", /NOPE has no default/],
    ["ARG V\nFROM python:${V}\n", /V has no default/],
    ["ARG V=3.12\nFROM python:${V%.*}\n", /does not expand/],
    ["ARG V=${TARGETOS}\nFROM python:$V\n", /TARGETOS, which depends on the build \(in the default of ARG V\)/],
    [`ARG D=${D1}\nFROM python:3@\${D}\n`, /the digest comes from a build variable/],
  ])("skips %j as variable", (file, detail) => {
    const [ref] = scan(file);
    expect(ref?.skip).toBe("variable");
    expect(ref?.skipDetail).toMatch(detail);
  });

  it("reports a syntax error in the expansion as invalid", () => {
    expect(scan("ARG V=1\nFROM python:${V\n")[0]).toMatchObject({ skip: "invalid" });
  });

  it("treats an expansion naming a stage or scratch as no image", () => {
    expect(scan("ARG S=build\nFROM alpine:3 AS build\nFROM ${S}\nFROM ${S:+scratch}\n").map((r) => r.text)).toEqual(["alpine:3"]);
  });

  it("keeps a literal --platform on references built from ARGs", () => {
    expect(scan("ARG V=1\nFROM --platform=linux/arm64 app:${V}\n")[0]?.platform).toBe("linux/arm64");
  });
});

describe("ARGs passed at build time", () => {
  const where = ".github/workflows/build.yml line 40 (docker/build-push-action build-args)";

  it("skips references built from them, saying where they are passed", () => {
    const file = "ARG GO=1.22\nARG BASE=python:3\nFROM golang:${GO}\nFROM $BASE\nFROM alpine:3\n";
    const refs = scan(file, new Map([["GO", where], ["BASE", where]]));
    expect(refs.map((r) => [r.text, r.skip])).toEqual([
      ["python:3", "build-arg"],
      ["golang:${GO}", "build-arg"],
      ["alpine:3", null],
    ]);
    expect(refs[1]?.skipDetail).toContain(where);
  });

  it("follows the ARGs a default is built from", () => {
    const refs = scan("ARG GO=1.22\nARG IMG=golang:${GO}\nFROM $IMG\n", new Map([["GO", where]]));
    expect(refs.map((r) => [r.text, r.skip])).toEqual([["golang:${GO}", "build-arg"]]);
  });
});

describe("BuildKit's reading of --from, mounts and ONBUILD", () => {
  it("reads a mount's from=0 as an image named 0 (mounts have no stage indexes), COPY --from=0 as a stage", () => {
    const refs = scan("FROM a:1\nRUN --mount=from=0,target=/x true\nCOPY --from=0 /a /b\n");
    expect(refs.map((r) => [r.kind, r.text])).toEqual([
      ["from", "a:1"],
      ["mount-from", "0"],
    ]);
    expect(refs[1]?.reference?.repository).toBe("library/0");
  });

  it("scans ONBUILD triggers", () => {
    const file = "FROM a:1 AS build\nONBUILD COPY --from=golang:1.22 /a /b\nonbuild RUN --mount=type=bind,from=node:20,target=/n true\nONBUILD COPY --from=build /a /b\n";
    expect(scan(file).map((r) => [r.kind, r.line, r.text])).toEqual([
      ["from", 1, "a:1"],
      ["copy-from", 2, "golang:1.22"],
      ["mount-from", 3, "node:20"],
    ]);
    expect(pinAll(file)).toContain(`ONBUILD COPY --from=golang:1.22@${D1} /a /b`);
  });
});

describe("# digest-pin: ignore", () => {
  it("leaves the reference on the next line alone, reported as ignored-inline", () => {
    const file = [
      "# syntax=docker/dockerfile:1 # digest-pin: ignore",
      "# digest-pin: ignore (we follow nightly on purpose)",
      "FROM nightly/app:edge",
      "FROM alpine:3",
      "  #digest-pin:ignore",
      "COPY --from=golang:1 /a /b",
      "# digest-pin: ignore",
      "",
      "FROM node:20",
      "",
    ].join("\n");
    const refs = scan(file);
    expect(refs.map((r) => [r.line, r.text, r.skip])).toEqual([
      [1, "docker/dockerfile:1", "ignored-inline"],
      [3, "nightly/app:edge", "ignored-inline"],
      [4, "alpine:3", null],
      [6, "golang:1", "ignored-inline"],
      [9, "node:20", null],
    ]);
    expect(refs[1]?.reference).toBeNull();
    expect(pinAll(file)).toBe(file.replace("alpine:3", `alpine:3@${D1}`).replace("node:20", `node:20@${D1}`));
  });

  it("applies to an ARG-default reference at the ARG line", () => {
    expect(scan("# digest-pin: ignore\nARG BASE=python:3\nFROM $BASE\n")[0]?.skip).toBe("ignored-inline");
  });
});
