// Inline exclusions, on the real scanner's output: which comment excludes which reference, in every line-ending and
// encoding shape a Dockerfile comes in, and with the `//` sign of JSONC files.
import { describe, expect, it } from "vitest";
import { scanDockerfile } from "../src/dockerfile/scan.js";
import type { FoundReference } from "../src/dockerfile/types.js";
import { scanFile } from "../src/engine.js";
import { applyInlineIgnores, INLINE_IGNORE_REASON } from "../src/ignore-comments.js";

/** text → reason of each reference (null when it is kept), in order. */
function verdicts(text: string | Buffer): Array<[string, string | null]> {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  return applyInlineIgnores(bytes, scanDockerfile(bytes), "#").map((r) => [r.text, r.skip]);
}

describe("# digest-pin: ignore", () => {
  it("excludes the reference on the next line only", () => {
    expect(verdicts("FROM alpine:3.20 AS a\n# digest-pin: ignore\nFROM busybox:1 AS b\nFROM node:22\n")).toEqual([
      ["alpine:3.20", null],
      ["busybox:1", INLINE_IGNORE_REASON],
      ["node:22", null],
    ]);
  });

  it("counts at the end of the reference's line, and with a reason after it", () => {
    expect(verdicts("FROM alpine:3.20 # digest-pin: ignore\nFROM node:22\n")).toEqual([
      ["alpine:3.20", INLINE_IGNORE_REASON],
      ["node:22", null],
    ]);
    expect(verdicts("#digest-pin:ignore because dev only\nFROM alpine:3.20\n")).toEqual([["alpine:3.20", INLINE_IGNORE_REASON]]);
  });

  it("does not count two lines above, after a blank line, or spelled otherwise", () => {
    expect(verdicts("# digest-pin: ignore\n\nFROM alpine:3.20\n")).toEqual([["alpine:3.20", null]]);
    expect(verdicts("# digest-pin: ignore\nRUN true\nFROM alpine:3.20\n")).toEqual([["alpine:3.20", null]]);
    for (const other of ["# digest-pin: ignored", "# digest-pin: ignore-me", "# digest-pin ignore", "# renovate: ignore", "RUN echo '# digest-pin: ignore'x"]) {
      expect(verdicts(`${other}\nFROM alpine:3.20\n`), other).toEqual([["alpine:3.20", null]]);
    }
  });

  it("reads lines as BuildKit does: CRLF, a lone CR, a BOM before the comment", () => {
    expect(verdicts("# digest-pin: ignore\r\nFROM alpine:3.20\r\nFROM node:22\r\n")).toEqual([
      ["alpine:3.20", INLINE_IGNORE_REASON],
      ["node:22", null],
    ]);
    expect(verdicts("FROM node:22 AS n\r# digest-pin: ignore\rFROM alpine:3.20\r")).toEqual([
      ["node:22", null],
      ["alpine:3.20", INLINE_IGNORE_REASON],
    ]);
    expect(verdicts("\uFEFF# digest-pin: ignore\nFROM alpine:3.20\n")).toEqual([["alpine:3.20", INLINE_IGNORE_REASON]]);
  });

  it("excludes a global ARG default from the line above the ARG, and COPY --from and RUN --mount images", () => {
    const text =
      "# digest-pin: ignore\nARG BASE=python:3.12\nFROM ${BASE}\n" +
      "# digest-pin: ignore\nCOPY --from=busybox:1 /bin/sh /sh\n" +
      "RUN --mount=type=cache,from=ghcr.io/acme/cache:1,target=/c true # digest-pin: ignore\n";
    expect(verdicts(text)).toEqual([
      ["python:3.12", INLINE_IGNORE_REASON],
      ["busybox:1", INLINE_IGNORE_REASON],
      ["ghcr.io/acme/cache:1", INLINE_IGNORE_REASON],
    ]);
  });

  it("wins over a variable skip, keeps the parsed reference, and says where the comment was", () => {
    const bytes = Buffer.from("# digest-pin: ignore\nFROM node:${V}\nFROM alpine:3.20 # digest-pin: ignore\n");
    const [variable, trailing] = applyInlineIgnores(bytes, scanDockerfile(bytes), "#");
    expect(variable).toMatchObject({ skip: INLINE_IGNORE_REASON, skipDetail: '"# digest-pin: ignore" on the line above' });
    expect(trailing).toMatchObject({ skip: INLINE_IGNORE_REASON, skipDetail: '"# digest-pin: ignore" at the end of the line' });
    expect(trailing?.reference?.repository).toBe("library/alpine");
  });

  it("is applied by scanFile, which the CLI and the app both scan with", () => {
    const file = scanFile("Dockerfile", Buffer.from("# digest-pin: ignore\nFROM alpine:3.20\n"));
    expect(file.references.map((r) => r.skip)).toEqual([INLINE_IGNORE_REASON]);
  });

  it("takes the comment sign as a parameter: `//` for JSONC files", () => {
    const text = '{\n  // digest-pin: ignore\n  "image": "alpine:3.20",\n  "other": "node:22", // digest-pin: ignore\n  "x": "busybox:1" # digest-pin: ignore\n}\n';
    const bytes = Buffer.from(text);
    const at = (value: string, line: number): FoundReference => {
      const start = text.indexOf(`"${value}"`) + 1;
      return { kind: "from", line, start, end: start + value.length, text: value, reference: null, skip: null };
    };
    const out = applyInlineIgnores(bytes, [at("alpine:3.20", 3), at("node:22", 4), at("busybox:1", 5)], "//");
    expect(out.map((r) => r.skip)).toEqual([INLINE_IGNORE_REASON, INLINE_IGNORE_REASON, null]);
  });

  it("reads a long line once however many references share it (bounded work on hostile files)", () => {
    // 1 MiB on one line, 20,000 references on it, a marker after the last: linear, or this test times out.
    const item = '"alpine:3.20", ';
    const count = 20_000;
    const line = `images: [${item.repeat(count)}"x"] ${"#".repeat(1024 * 1024 - count * item.length)} # digest-pin: ignore\n`;
    const bytes = Buffer.from(`kind: list\n${line}`);
    const base = bytes.indexOf("[") + 2;
    const refs: FoundReference[] = Array.from({ length: count }, (_, i) => ({
      kind: "from", line: 2, start: base + i * item.length, end: base + i * item.length + 11, text: "alpine:3.20", reference: null, skip: null,
    }));
    const out = applyInlineIgnores(bytes, refs, "#");
    expect(out.every((r) => r.skip === INLINE_IGNORE_REASON)).toBe(true);
  });

  it("leaves references and their order alone when there is no comment", () => {
    const bytes = Buffer.from("FROM a:1 AS a\nFROM b:1 AS b\n");
    const refs = scanDockerfile(bytes);
    expect(applyInlineIgnores(bytes, refs, "#")).toEqual(refs);
  });
});
