// Hostile files: an odd corpus (megabyte lines, 100,000 lines, NUL bytes, invalid UTF-8, 20,000 continuation lines,
// unterminated heredocs, binary files named Dockerfile, …), random damage to real Dockerfiles, and random edit lists.
// The scanner never fails (an internal error is a ScanError now, no longer an empty result, so these tests see it),
// answers each file in bounded time, and pinning what it finds never changes a byte outside a reference. test/dockerfile/property.test.ts covers generated Dockerfiles, random bytes and token soup; this adds
// size, damage and the app's handling of such files.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, RewriteError } from "../../src/dockerfile/rewrite.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";
import { scanFile } from "../../src/engine.js";
import type { Edit, FoundReference } from "../../src/dockerfile/types.js";
import { pinnedTextFor } from "../../src/plan.js";
import { commented } from "../app/app-harness.js";
import { BadRegistry, INSTALLATION, OWNER, startHarness, type Harness } from "../faults/harness.js";

/** A sanity bound, not a benchmark: the slowest case here scans in about half a second alone. */
const PER_FILE_MS = 2_000;

const hex = (seed: string) => createHash("sha256").update(seed).digest("hex");

/** Deterministic pseudo-random bytes. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

const b = (...parts: Array<string | number[] | Buffer>) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

const MIB = 1024 * 1024;

/** name → bytes, and the references that must be found (as written), when the case says. */
const CORPUS: Record<string, { bytes: Buffer; found?: string[] }> = {
  "a 1 MiB RUN line between two FROMs": {
    bytes: b("FROM alpine:3\nRUN echo ", "a".repeat(MIB), "\nFROM python:3\n"),
    found: ["alpine:3", "python:3"],
  },
  "a 1 MiB image name": { bytes: b("FROM ", "a".repeat(MIB), ":1\n") },
  "a 1 MiB comment, then a FROM": { bytes: b("# ", "x".repeat(MIB), "\nFROM alpine:3\n"), found: ["alpine:3"] },
  "a 1 MiB syntax directive": { bytes: b("# syntax=", "s".repeat(MIB), "\nFROM alpine:3\n") },
  "a 1 MiB run of quotes": { bytes: b("FROM alpine:3\nRUN echo \"", "'".repeat(MIB), "\n"), found: ["alpine:3"] },
  "a 1 MiB run of backslashes": { bytes: b("FROM alpine:3\nRUN ", "\\".repeat(MIB), "\n"), found: ["alpine:3"] },
  "a 1 MiB run of dollars": { bytes: b("FROM ${", "$".repeat(MIB), "\n") },
  "170,000 flags before the image": { bytes: b("FROM ", "--a=b ".repeat(170_000), "alpine:3\n") },
  "a 1 MiB mount option list": { bytes: b("FROM a:1\nRUN --mount=", ",".repeat(MIB), "from=alpine:3 true\n") },
  "250,000 heredoc markers on one line": { bytes: b("FROM a:1\nRUN ", "<<A ".repeat(250_000), "\n") },
  "100,000 lines, 1,000 of them FROMs": {
    bytes: b(
      Array.from({ length: 100_000 }, (_, i) =>
        i % 100 === 0 ? `FROM alpine:${i}\n` : i % 100 === 50 ? `COPY --from=busybox:${i} /a /b\n` : `RUN echo ${i}\n`,
      ).join(""),
    ),
  },
  "10,000 FROMs": { bytes: b(Array.from({ length: 10_000 }, (_, i) => `FROM alpine:${i} AS s${i}\r\n`).join("")) },
  "10,000 mounts in one RUN": {
    bytes: b("FROM a:1\nRUN ", "--mount=type=bind,from=alpine:3,target=/x ".repeat(10_000), "true\n"),
  },
  "20,000 continuation lines inside a FROM": {
    bytes: b("FROM \\\n", "  \\\n".repeat(20_000), " alpine:3\n"),
    found: ["alpine:3"],
  },
  "20,000 continuation lines inside a RUN, then FROM": {
    bytes: b("FROM a:1\nRUN echo \\\n", " x \\\n".repeat(20_000), "true\nFROM python:3\n"),
    found: ["a:1", "python:3"],
  },
  "20,000 continuations with the backtick escape": {
    bytes: b("# escape=`\r\nFROM `\r\n", "  `\r\n".repeat(20_000), " alpine:3\r\n"),
    found: ["alpine:3"],
  },
  "an unterminated heredoc swallowing references": {
    bytes: b("FROM alpine:3\nRUN <<EOF\nFROM evil:1\nCOPY --from=evil:2 /a /b\n"),
    found: ["alpine:3"],
  },
  "10,000 unterminated heredocs": { bytes: b("FROM a:1\n", "RUN <<EOF\n".repeat(10_000)) },
  "a heredoc whose terminator differs only in case and spacing": {
    bytes: b("FROM alpine:3\nRUN <<EOF\nFROM evil:1\neof\n EOF\nEOF \n"),
    found: ["alpine:3"],
  },
  "NUL bytes everywhere": {
    bytes: b("FROM alpine:3\n", [0, 0, 0], "RUN \u0000 x\nFROM\u0000python:3\nFROM python:3.12\u0000\n\u0000"),
  },
  "invalid UTF-8 around references": {
    bytes: b(
      "FROM alpine:3 AS a\n",
      [0xff, 0xfe, 0x0a],
      "FROM caf",
      [0xc3, 0x28],
      ":1\n",
      [0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x0a],
      "RUN echo ",
      [0xf4, 0x90, 0x80, 0x80],
      "\nFROM python:3\n",
    ),
    found: ["alpine:3", "caf\ufffd(:1", "python:3"],
  },
  "a UTF-16 Dockerfile": { bytes: b([0xff, 0xfe], Buffer.from("FROM alpine:3\r\n", "utf16le")) },
  "CR-only line endings": { bytes: b("FROM alpine:3\rFROM python:3\r") },
  "a 1 MiB run of CRs": { bytes: b("FROM alpine:3", "\r".repeat(MIB), "FROM python:3") },
  "a 1 MiB run of newlines": { bytes: b("\n".repeat(MIB), "FROM python:3"), found: ["python:3"] },
  "50,000 nested variable expansions": { bytes: b("ARG A=", "${".repeat(50_000), "x", "}".repeat(50_000), "\nFROM $A\n") },
  "a chain of 10,000 global ARGs": {
    bytes: b(
      "ARG A0=alpine:3\n",
      Array.from({ length: 9_999 }, (_, i) => `ARG A${i + 1}=$A${i}\n`).join(""),
      "FROM $A9999\n",
    ),
  },
  "unbalanced quotes": { bytes: b("FROM \"alpine:3\nFROM 'python:3\nCOPY --from=\"x /a /b\n") },
  "a BOM alone": { bytes: b([0xef, 0xbb, 0xbf]) },
  "an empty file": { bytes: Buffer.alloc(0) },
  "a binary named Dockerfile (1 MiB of noise)": { bytes: noise(MIB, 7) },
  "a PNG named Dockerfile": { bytes: b([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], noise(64 * 1024, 11)) },
  "an ELF named Dockerfile": { bytes: b([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], noise(64 * 1024, 13), "\nFROM alpine:3\n") },
};

/** Invariants of any scan: ranges inside the file, texts equal to their bytes, file order, no overlap. */
function checkInvariants(bytes: Uint8Array, refs: readonly FoundReference[]): void {
  const broken: string[] = [];
  let last = 0;
  for (const r of refs) {
    if (r.start < last || r.end < r.start || r.end > bytes.length) broken.push(`range [${r.start}, ${r.end}) after ${last}`);
    else if (Buffer.from(bytes.subarray(r.start, r.end)).toString("utf8") !== r.text) broken.push(`text of [${r.start}, ${r.end})`);
    if ((r.skip === null) !== (r.reference !== null)) broken.push(`skip/reference of [${r.start}, ${r.end})`);
    last = r.end;
  }
  expect(broken.slice(0, 5)).toEqual([]);
}

/** Pin every pinnable reference; the bytes between them must be exactly the original's. */
function pinAndCompare(bytes: Uint8Array, refs: readonly FoundReference[], seed: string): Buffer {
  const pinnable = refs.filter((r) => r.skip === null);
  const edits: Edit[] = pinnable.map((r, i) => ({
    start: r.start,
    end: r.end,
    replacement: pinnedTextFor(r, `sha256:${hex(`${seed}:${i}`)}`),
  }));
  const out = applyEdits(bytes, edits);
  const original = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const broken: string[] = [];
  let cursor = 0;
  let at = 0;
  for (const [i, r] of pinnable.entries()) {
    const gap = r.start - cursor;
    if (!out.subarray(at, at + gap).equals(original.subarray(cursor, r.start))) broken.push(`bytes before [${r.start}`);
    at += gap;
    const replacement = Buffer.from(edits[i]?.replacement ?? "", "utf8");
    if (!out.subarray(at, at + replacement.length).equals(replacement)) broken.push(`replacement of [${r.start}`);
    at += replacement.length;
    cursor = r.end;
  }
  if (!out.subarray(at).equals(original.subarray(cursor))) broken.push("the bytes after the last reference");
  expect(broken.slice(0, 5)).toEqual([]);
  return out;
}

describe("an odd corpus", () => {
  it.each(Object.entries(CORPUS))("%s: no crash, bounded time, nothing changed outside a reference", (name, { bytes, found }) => {
    const started = performance.now();
    const scanned = scanFile(name, bytes);
    const ms = performance.now() - started;
    expect(scanned.error).toBeUndefined();
    const refs = scanned.references;
    expect(ms, `${name} took ${Math.round(ms)} ms`).toBeLessThan(PER_FILE_MS);
    checkInvariants(bytes, refs);
    if (found) expect(refs.map((r) => r.text)).toEqual(found);
    const out = pinAndCompare(bytes, refs, name);
    // Pinned output scans back to the same references, now carrying digests.
    const again = scanDockerfile(out).filter((r) => r.skip === null);
    expect(again.map((r) => r.line)).toEqual(refs.filter((r) => r.skip === null).map((r) => r.line));
    expect(again.every((r) => r.reference?.digest?.startsWith("sha256:"))).toBe(true);
  });

  it("finds the references of the big cases, so that no case passes by silently finding nothing", () => {
    const count = (name: string) => scanDockerfile(CORPUS[name]?.bytes ?? Buffer.alloc(0)).filter((r) => r.skip === null).length;
    expect(count("100,000 lines, 1,000 of them FROMs")).toBe(2_000);
    expect(count("10,000 FROMs")).toBe(10_000);
    expect(count("10,000 mounts in one RUN")).toBe(10_001);
    expect(count("an ELF named Dockerfile")).toBe(1);
  });
});

/** Fragments that break things: NULs, invalid UTF-8, continuations, heredoc openers, quotes, expansions, CRs. */
const DAMAGE = [
  [0],
  [0xff],
  [0xc3],
  [0xed, 0xa0, 0x80],
  [0xef, 0xbb, 0xbf],
  "\\\n",
  "`\r\n",
  "\r",
  "\n",
  "<<EOF\n",
  "<<-'X'",
  "EOF\n",
  '"',
  "'",
  "${",
  "}",
  "$",
  " AS ",
  "--from=",
  "--mount=from=",
  "@sha256:",
  "# escape=`\n",
  "# syntax=",
  "FROM ",
].map((f) => (typeof f === "string" ? Buffer.from(f, "utf8") : Buffer.from(f)));

const SEEDS = [
  "# syntax=docker/dockerfile:1.7\nARG BASE=python:3.12-slim\nFROM ${BASE} AS build\nRUN --mount=type=cache,from=ghcr.io/a/cache:1,target=/c pip install x\nFROM gcr.io/distroless/base:nonroot\nCOPY --from=build /app /app\nCOPY --from=busybox:1.36 /bin/sh /sh\n",
  "\uFEFFFROM --platform=linux/arm64 alpine:3.20@sha256:" + "a".repeat(64) + " AS a\r\nRUN <<EOF\r\nFROM evil:1\r\nEOF\r\nFROM a\r\n",
  "# escape=`\nFROM `\n  node:20 AS n\nCOPY --link --from=n /a /b\nRUN echo `\n  hi\n",
];

describe("damaged Dockerfiles", () => {
  it("random damage to real Dockerfiles never breaks the scanner or the byte-exact rewrite", () => {
    const damaged = fc
      .record({
        seed: fc.constantFrom(...SEEDS.map((s) => Buffer.from(s, "utf8"))),
        cuts: fc.array(
          fc.record({ at: fc.nat(), fragment: fc.constantFrom(...DAMAGE), drop: fc.nat(3), repeat: fc.integer({ min: 1, max: 50 }) }),
          { maxLength: 12 },
        ),
      })
      .map(({ seed, cuts }) => {
        let bytes = seed;
        for (const { at, fragment, drop, repeat } of cuts) {
          const i = at % (bytes.length + 1);
          bytes = Buffer.concat([bytes.subarray(0, i), Buffer.concat(Array(repeat).fill(fragment)), bytes.subarray(i + drop)]);
        }
        return bytes;
      });
    fc.assert(
      fc.property(damaged, fc.integer(), (bytes, seed) => {
        const refs = scanDockerfile(bytes);
        checkInvariants(bytes, refs);
        pinAndCompare(bytes, refs, String(seed));
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 400) },
    );
  });

  it("applyEdits applies any valid edit list exactly and refuses any other with a RewriteError", () => {
    const input = fc.record({
      content: fc.uint8Array({ maxLength: 200 }),
      edits: fc.array(
        fc.record({ start: fc.integer({ min: -2, max: 210 }), length: fc.integer({ min: -1, max: 20 }), replacement: fc.string() }),
        { maxLength: 8 },
      ),
    });
    fc.assert(
      fc.property(input, ({ content, edits: raw }) => {
        const edits: Edit[] = raw.map((e) => ({ start: e.start, end: e.start + e.length, replacement: e.replacement }));
        const sorted = [...edits].sort((x, y) => x.start - y.start || x.end - y.end);
        const valid =
          sorted.every((e) => e.start >= 0 && e.end >= e.start && e.end <= content.length) &&
          sorted.every((e, i) => i === 0 || (e.start >= (sorted[i - 1] as Edit).end && e.start !== (sorted[i - 1] as Edit).start));
        if (!valid) {
          expect(() => applyEdits(content, edits)).toThrow(RewriteError);
          return;
        }
        const expected: Buffer[] = [];
        let cursor = 0;
        for (const e of sorted) {
          expected.push(Buffer.from(content.subarray(cursor, e.start)), Buffer.from(e.replacement, "utf8"));
          cursor = e.end;
        }
        expected.push(Buffer.from(content.subarray(cursor)));
        expect(applyEdits(content, edits).equals(Buffer.concat(expected))).toBe(true);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 1000) },
    );
  });
});

describe("hostile files in a repository, through the app", () => {
  let h: Harness;
  let bad: BadRegistry;
  beforeAll(async () => {
    bad = await BadRegistry.start();
    h = await startHarness({ registry: { insecureRegistries: [bad.host] } });
  });
  afterAll(async () => {
    await h?.close();
    await bad?.close();
  });

  it("skips binary and oversized Dockerfiles, and pins a file with invalid UTF-8 byte for byte", async () => {
    const digest = bad.image("team/app", "1");
    const odd = b(`FROM ${bad.host}/team/app:1 AS a\r\n`, [0xff, 0xfe, 0xc3, 0x28], "\r\nRUN echo \\\n", [0xed, 0xa0, 0x80], "\n");
    const binary = b(`FROM ${bad.host}/team/app:1\n`, [0], noise(4096, 3));
    const heredoc = `FROM ${bad.host}/team/app:1\nRUN <<EOF\nFROM ${bad.host}/evil/app:1\n`;
    const oversized = b(`FROM ${bad.host}/team/app:1\n# `, "x".repeat(2 * MIB), "\n");
    h.gh.addRepo(INSTALLATION, {
      name: "odd",
      files: { "odd.Dockerfile": odd, Dockerfile: binary, "big/Dockerfile": oversized, "heredoc/Dockerfile": heredoc },
    });
    h.gh.setPermission(OWNER, "odd", "writer", "write");
    const issue = h.gh.openIssue(OWNER, "odd", { title: "ops", user: "writer" }).number;
    await h.deliver("issue_comment", commented(h.gh, "odd", issue, "/digest-pin rescan", "writer"));
    await h.idle();
    const reply = h.gh.comments(OWNER, "odd", issue).at(-1)?.body ?? "";
    expect(reply).toMatch(/scanned 2 Dockerfiles/);
    expect(h.gh.pulls(OWNER, "odd")).toHaveLength(1);
    const branch = "digest-pin/main";
    expect(h.gh.readFile(OWNER, "odd", branch, "odd.Dockerfile")?.equals(
      b(`FROM ${bad.host}/team/app:1@${digest} AS a\r\n`, [0xff, 0xfe, 0xc3, 0x28], "\r\nRUN echo \\\n", [0xed, 0xa0, 0x80], "\n"),
    )).toBe(true);
    expect(h.gh.readFile(OWNER, "odd", branch, "Dockerfile")?.equals(binary)).toBe(true);
    expect(h.gh.readFile(OWNER, "odd", branch, "big/Dockerfile")?.equals(oversized)).toBe(true);
    expect(h.gh.readFile(OWNER, "odd", branch, "heredoc/Dockerfile")?.toString()).toBe(
      heredoc.replace("team/app:1\n", `team/app:1@${digest}\n`),
    );
    // The invalid UTF-8 needed a blob of its own; the valid text went inside the tree (one write less).
    expect(h.gh.calls.filter((c) => c.route === "POST /repos/{owner}/{repo}/git/blobs")).toHaveLength(1);
    // Only the registry was contacted, and only for the one image.
    expect(new Set(bad.requests.map((r) => r.path))).toEqual(new Set(["/v2/team/app/manifests/1"]));
  });
});
