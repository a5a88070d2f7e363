import { describe, expect, it } from "vitest";
import { scanFile } from "../src/engine.js";
import { ignoredLines } from "../src/ignore-comment.js";
import { plan } from "../src/plan.js";

const lines = (text: string) => ignoredLines(Buffer.from(text));

describe("ignoredLines", () => {
  it("covers the next instruction, with its continuations, comments and blank lines inside it", () => {
    expect(lines("# digest-pin: ignore\nFROM alpine:3 \\\n  # a comment\n\n  AS base\nFROM busybox\n")).toEqual([2, 3, 4, 5]);
  });

  it("skips blank lines and other comments between the comment and the instruction", () => {
    expect(lines("FROM a\n#   Digest-Pin:Ignore  \n\n# why: vendored\nFROM b\nFROM c\n")).toEqual([5]);
  });

  it("follows the escape directive", () => {
    expect(lines("# escape=`\n# digest-pin: ignore\nFROM a `\n  AS b\nFROM c\n")).toEqual([3, 4]);
    // Not a directive once another line came first.
    expect(lines("FROM x\n# escape=`\n# digest-pin: ignore\nFROM a `\nFROM c\n")).toEqual([4]);
  });

  it("ignores other comments, and CRLF files read the same", () => {
    expect(lines("# digest-pin: ignored\nFROM a\n")).toEqual([]);
    expect(lines("# digest-pin ignore\nFROM a\n")).toEqual([]);
    expect(lines("# digest-pin: ignore\r\nFROM a\r\nFROM b\r\n")).toEqual([2]);
    expect(lines("FROM a\n")).toEqual([]);
  });
});

describe("the ignore comment in a plan", () => {
  it("skips the references of the instruction after it, with the reason", () => {
    const file = scanFile("Dockerfile", Buffer.from("# digest-pin: ignore\nFROM alpine:3.20\nFROM busybox:1\n"));
    const p = plan([file], new Map(), { pinUnpinned: true });
    expect(p.skipped).toEqual([{ path: "Dockerfile", line: 2, text: "alpine:3.20", reason: "ignored", detail: "a # digest-pin: ignore comment" }]);
    expect(p.errors.map((e) => e.text)).toEqual(["busybox:1"]);
  });
});
