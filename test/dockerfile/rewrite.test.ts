import { describe, expect, it } from "vitest";
import { applyEdits, RewriteError } from "../../src/dockerfile/rewrite.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";
import type { Edit } from "../../src/dockerfile/types.js";
import { pinnedText } from "../../src/reference.js";

const D = `sha256:${"d".repeat(64)}`;

function thrown(fn: () => unknown): RewriteError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RewriteError);
    return e as RewriteError;
  }
  throw new Error("expected a RewriteError");
}

describe("applyEdits", () => {
  it("replaces the ranges and keeps every other byte, in any order", () => {
    const input = Buffer.from("0123456789");
    const edits: Edit[] = [
      { start: 7, end: 9, replacement: "ab" },
      { start: 1, end: 2, replacement: "XYZ" },
      { start: 4, end: 4, replacement: "+" },
      { start: 5, end: 6, replacement: "" },
    ];
    expect(applyEdits(input, edits).toString()).toBe("0XYZ23+46ab9");
    expect(applyEdits(input, [...edits].reverse()).toString()).toBe("0XYZ23+46ab9");
  });

  it("refuses an edit whose range no longer holds the text it was planned for (CHANGED)", () => {
    const edit = { start: 5, end: 8, replacement: `a:1@${D}`, expected: "a:1" };
    expect(applyEdits(Buffer.from("FROM a:1\n"), [edit]).toString()).toBe(`FROM a:1@${D}\n`);
    // One line added above: the same offsets now cover other bytes.
    expect(thrown(() => applyEdits(Buffer.from("# x\nFROM a:1\n"), [edit])).code).toBe("CHANGED");
    expect(thrown(() => applyEdits(Buffer.from("FROM b:1\n"), [edit])).message).toMatch(/no longer "a:1"/);
    // UTF-8 text compares as bytes.
    const accented = Buffer.from("FROM é/x:1\n", "utf8");
    expect(applyEdits(accented, [{ start: 5, end: 11, replacement: "y", expected: "é/x:1" }]).toString()).toBe("FROM y\n");
  });

  it("writes replacements as UTF-8", () => {
    expect(applyEdits(Buffer.from("a-b"), [{ start: 1, end: 2, replacement: "é→" }])).toEqual(
      Buffer.from("aé→b", "utf8"),
    );
  });

  it("keeps BOM, CRLF, trailing spaces and invalid UTF-8 byte for byte", () => {
    const input = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from("FROM a:1  \r\n# \xff\r\n", "latin1"),
      Buffer.from([0xc3, 0x28, 0x0d]),
    ]);
    const out = applyEdits(input, [{ start: 8, end: 11, replacement: `a:1@${D}` }]);
    expect(out.subarray(0, 8)).toEqual(input.subarray(0, 8));
    expect(out.subarray(8, 8 + 4 + D.length).toString()).toBe(`a:1@${D}`);
    expect(out.subarray(8 + 4 + D.length)).toEqual(input.subarray(11));
  });

  it("returns an equal copy when there is nothing to do", () => {
    const input = new Uint8Array([1, 2, 3, 0xff]);
    const out = applyEdits(input, []);
    expect(out).toEqual(Buffer.from(input));
    out[0] = 9;
    expect(input[0]).toBe(1);
  });

  it("respects the offset of a Uint8Array view", () => {
    const backing = Buffer.from("xxxxFROM a:1\nyyyy");
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 9);
    expect(applyEdits(view, [{ start: 5, end: 8, replacement: "b:2" }]).toString()).toBe("FROM b:2\n");
  });

  it("allows adjacent edits", () => {
    expect(
      applyEdits(Buffer.from("abcd"), [
        { start: 0, end: 2, replacement: "X" },
        { start: 2, end: 4, replacement: "Y" },
      ]).toString(),
    ).toBe("XY");
  });

  it.each([
    [[{ start: 0, end: 3, replacement: "" }, { start: 2, end: 4, replacement: "" }], "overlapping"],
    [[{ start: 1, end: 3, replacement: "" }, { start: 0, end: 5, replacement: "" }], "nested"],
    [[{ start: 2, end: 2, replacement: "a" }, { start: 2, end: 2, replacement: "b" }], "two insertions at one point"],
    [[{ start: 2, end: 2, replacement: "a" }, { start: 2, end: 3, replacement: "b" }], "insertion at a replacement's start"],
    [[{ start: 2, end: 3, replacement: "a" }, { start: 2, end: 3, replacement: "a" }], "identical"],
  ] as Array<[Edit[], string]>)("rejects %j (%s)", (edits) => {
    expect(thrown(() => applyEdits(Buffer.from("0123456789"), edits)).code).toBe("OVERLAP");
  });

  it.each([
    [{ start: -1, end: 1, replacement: "" }, "OUT_OF_RANGE"],
    [{ start: 5, end: 11, replacement: "" }, "OUT_OF_RANGE"],
    [{ start: 11, end: 11, replacement: "" }, "OUT_OF_RANGE"],
    [{ start: 4, end: 3, replacement: "" }, "OUT_OF_RANGE"],
    [{ start: 1.5, end: 3, replacement: "" }, "INVALID_EDIT"],
    [{ start: Number.NaN, end: 3, replacement: "" }, "INVALID_EDIT"],
    [{ start: 1, end: 3, replacement: 5 as unknown as string }, "INVALID_EDIT"],
  ] as Array<[Edit, string]>)("rejects %j", (edit, code) => {
    const error = thrown(() => applyEdits(Buffer.from("0123456789"), [edit]));
    expect(error.code).toBe(code);
    expect(error.name).toBe("RewriteError");
    expect(error.edit).toBe(edit);
  });

  it("accepts an edit at the very end of the file", () => {
    expect(applyEdits(Buffer.from("ab"), [{ start: 2, end: 2, replacement: "c" }]).toString()).toBe("abc");
  });
});

describe("scan → pin → rewrite", () => {
  it("pins every reference and changes nothing else", () => {
    const input = Buffer.from(
      "\uFEFF# syntax=docker/dockerfile:1\r\nARG BASE=\"python:3.12\"\r\nFROM ${BASE} AS b  \r\n" +
        "RUN --mount=type=bind,from=alpine:3,target=/a \\\r\n  true\r\nCOPY --from=ghcr.io/x/y /a /b\r\n",
      "utf8",
    );
    const refs = scanDockerfile(input);
    expect(refs.map((r) => r.text)).toEqual(["docker/dockerfile:1", "python:3.12", "alpine:3", "ghcr.io/x/y"]);
    const out = applyEdits(
      input,
      refs.map((r) => ({ start: r.start, end: r.end, replacement: pinnedText(r.text, D) })),
    );
    expect(out.toString("utf8")).toBe(
      `\uFEFF# syntax=docker/dockerfile:1@${D}\r\nARG BASE="python:3.12@${D}"\r\nFROM \${BASE} AS b  \r\n` +
        `RUN --mount=type=bind,from=alpine:3@${D},target=/a \\\r\n  true\r\nCOPY --from=ghcr.io/x/y:latest@${D} /a /b\r\n`,
    );
    expect(scanDockerfile(out).map((r) => r.reference?.digest)).toEqual([D, D, D, D]);
  });
});
