import { describe, expect, it } from "vitest";
import { ScanError, scanDockerfile } from "../../src/dockerfile/scan.js";
import type { FoundReference } from "../../src/dockerfile/types.js";

const D = `sha256:${"c".repeat(64)}`;

/** Scan, and check every range against the bytes it claims to cover. */
function scan(input: string | Buffer): FoundReference[] {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const refs = scanDockerfile(bytes);
  for (const r of refs) {
    expect(r.start).toBeGreaterThanOrEqual(0);
    expect(r.end).toBeLessThanOrEqual(bytes.length);
    expect(bytes.subarray(r.start, r.end).toString("utf8")).toBe(r.text);
  }
  return refs;
}

/** [kind, line, text, skip] of each reference. */
function brief(input: string | Buffer): Array<[string, number, string, string | null]> {
  return scan(input).map((r) => [r.kind, r.line, r.text, r.skip]);
}

/** The byte offset of the n-th occurrence of `needle` (to assert exact ranges). */
function offset(input: string, needle: string, nth = 0): number {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = Buffer.from(input).indexOf(needle, at + 1);
  if (at === -1) throw new Error(`${needle} not in input`);
  return at;
}

describe("FROM", () => {
  it("finds the image with its exact byte range and parsed reference", () => {
    const file = "FROM python:3.12-slim\n";
    const [ref, ...rest] = scan(file);
    expect(rest).toEqual([]);
    expect(ref).toEqual({
      kind: "from",
      line: 1,
      start: 5,
      end: 21,
      text: "python:3.12-slim",
      reference: { registry: "docker.io", repository: "library/python", tag: "3.12-slim", digest: null },
      skip: null,
    });
  });

  it("reads any keyword case, extra spaces, tabs and AS", () => {
    const file = "from   python:3\t AS   build\nFrOm\tnode:20 as web\n  FROM ghcr.io/a/b@" + D + "\n";
    expect(brief(file)).toEqual([
      ["from", 1, "python:3", null],
      ["from", 2, "node:20", null],
      ["from", 3, `ghcr.io/a/b@${D}`, null],
    ]);
    expect(scan(file)[2]?.reference?.digest).toBe(D);
  });

  it("records a literal --platform, not one with variables", () => {
    const refs = scan(
      "FROM --platform=linux/arm64 a:1\nFROM --platform=$BUILDPLATFORM b:1\nFROM --platform=\"linux/amd64\" c:1 AS c\nFROM d:1\n",
    );
    expect(refs.map((r) => [r.text, r.platform])).toEqual([
      ["a:1", "linux/arm64"],
      ["b:1", undefined],
      ["c:1", "linux/amd64"],
      ["d:1", undefined],
    ]);
  });

  it("follows an instruction split by continuations", () => {
    const file = "FROM \\\n   --platform=linux/amd64 \\\n   python:3.12 \\\n   AS base\nFROM base\n";
    const refs = scan(file);
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatchObject({ line: 3, text: "python:3.12", platform: "linux/amd64", start: offset(file, "python") });
  });

  it("reports a reference split by a continuation as invalid instead of rewriting across it", () => {
    const file = "FROM python\\\n:3.12\n";
    const [ref] = scan(file);
    expect(ref).toMatchObject({ kind: "from", line: 1, skip: "invalid", reference: null, start: 5, end: 18 });
    expect(ref?.skipDetail).toMatch(/continuation/);
  });

  it("takes a quoted image inside its quotes", () => {
    const file = 'FROM "python:3" AS a\nFROM \'alpine:3\'\n';
    const refs = scan(file);
    expect(refs.map((r) => [r.text, r.start])).toEqual([
      ["python:3", 6],
      ["alpine:3", offset(file, "alpine")],
    ]);
  });

  it("skips scratch, earlier stages by name (any case) and stage indexes", () => {
    const file = [
      "FROM scratch",
      "FROM golang:1.22 AS Build",
      "FROM build",
      "FROM BUILD AS other",
      "FROM 0",
      "FROM later",
      "FROM alpine:3 AS later",
      "",
    ].join("\n");
    expect(brief(file)).toEqual([
      ["from", 2, "golang:1.22", null],
      // a stage can only be used by FROM after it is defined: here `later` is still an image
      ["from", 6, "later", null],
      ["from", 7, "alpine:3", null],
    ]);
  });

  it("expands variables with global ARG defaults, and skips those without one", () => {
    const file = "ARG VER=3.12\nFROM python:${VER}\nFROM ${REG}/app:1\nFROM $UNDEFINED\nFROM ${BASE:-python}\n";
    const refs = scan(file);
    expect(refs.map((r) => [r.line, r.text, r.skip, r.expanded])).toEqual([
      [2, "python:${VER}", null, "python:3.12"],
      [3, "${REG}/app:1", "variable", undefined],
      [4, "$UNDEFINED", "variable", undefined],
      [5, "${BASE:-python}", "variable", undefined],
    ]);
    expect(refs[0]?.reference?.tag).toBe("3.12");
    expect(refs.slice(1).every((r) => r.reference === null)).toBe(true);
    expect(refs[2]?.skipDetail).toMatch(/UNDEFINED has no default/);
  });

  it("reports an invalid reference with the parse error", () => {
    const [ref] = scan("FROM Python:3\n");
    expect(ref).toMatchObject({ skip: "invalid", text: "Python:3", reference: null });
    expect(ref?.skipDetail).toMatch(/lower case/);
  });
});

describe("COPY --from", () => {
  it("finds the image whatever the flag order", () => {
    const file = [
      "FROM alpine:3 AS build",
      "COPY --link --chmod=755 --from=golang:1.22 /a /b",
      "COPY --from=node:20 --link /a /b",
      "COPY --chown=1:1 --from=ghcr.io/x/y:2 --chmod=644 /a /b",
      "",
    ].join("\n");
    const refs = scan(file);
    expect(refs.map((r) => [r.kind, r.line, r.text])).toEqual([
      ["from", 1, "alpine:3"],
      ["copy-from", 2, "golang:1.22"],
      ["copy-from", 3, "node:20"],
      ["copy-from", 4, "ghcr.io/x/y:2"],
    ]);
    expect(refs[1]?.start).toBe(offset(file, "golang"));
  });

  it("skips stages (any case, even defined later), indexes and scratch", () => {
    const file = [
      "FROM alpine:3 AS build",
      "COPY --from=build /a /b",
      "COPY --from=BUILD /a /b",
      "COPY --from=0 /a /b",
      "COPY --from=later /a /b",
      "COPY --from=scratch /a /b",
      "FROM alpine:3 AS later",
      "",
    ].join("\n");
    expect(brief(file).map((r) => r[2])).toEqual(["alpine:3", "alpine:3"]);
  });

  it("stops reading flags at the first source", () => {
    expect(brief("FROM a:1\nCOPY src --from=b:1 /dst\nCOPY -- --from=c:1 /dst\n").map((r) => r[2])).toEqual(["a:1"]);
  });

  it("takes a quoted value inside its quotes", () => {
    const file = 'FROM a:1\nCOPY --from="golang:1.22" /a /b\n';
    const ref = scan(file)[1];
    expect(ref).toMatchObject({ text: "golang:1.22", start: offset(file, "golang") });
  });

  it("is no reference when it uses a variable (BuildKit rejects variables in --from)", () => {
    expect(brief("ARG X=3\nFROM a:1\nCOPY --from=repo/${X}:1 /a /b\nCOPY --from=$X /a /b\n")).toEqual([["from", 2, "a:1", null]]);
  });
});

describe("RUN --mount from=", () => {
  it("finds from= in any mount type, several mounts a line, and across continuations", () => {
    const file = [
      "FROM a:1 AS builder",
      "RUN --mount=type=bind,from=alpine:3.19,source=/x,target=/y --mount=type=cache,target=/c,from=ghcr.io/c/d:1 make",
      "RUN --mount=type=cache,target=/root/.cache \\",
      "    --mount=from=golang:1.22,target=/go \\",
      "    --network=none \\",
      "    go build",
      "RUN --mount=type=cache,from=builder,target=/c --mount=type=secret,id=tok cat /run/secrets/tok",
      "RUN --mount=type=bind,FROM=node:20,target=/n true",
      "",
    ].join("\n");
    const refs = scan(file);
    expect(refs.map((r) => [r.kind, r.line, r.text])).toEqual([
      ["from", 1, "a:1"],
      ["mount-from", 2, "alpine:3.19"],
      ["mount-from", 2, "ghcr.io/c/d:1"],
      ["mount-from", 4, "golang:1.22"],
      ["mount-from", 8, "node:20"],
    ]);
    expect(refs[1]?.start).toBe(offset(file, "alpine"));
    expect(refs[1]?.end).toBe(offset(file, "alpine") + "alpine:3.19".length);
  });

  it("handles quotes around the whole mount value or around from=", () => {
    const file = 'FROM a:1\nRUN --mount="type=bind,from=b:2,target=/x" --mount=type=bind,from="c:3",target=/y true\n';
    const refs = scan(file);
    expect(refs.slice(1).map((r) => [r.text, r.start])).toEqual([
      ["b:2", offset(file, "b:2")],
      ["c:3", offset(file, "c:3")],
    ]);
  });

  it("ignores mounts after the command starts and mounts without from", () => {
    expect(brief("FROM a:1\nRUN echo --mount=from=b:1\nRUN --mount=type=tmpfs,target=/t true\n")).toHaveLength(1);
  });
});

describe("# syntax directive", () => {
  it.each([
    ["# syntax=docker/dockerfile:1\nFROM a:1\n", 1],
    ["#syntax=docker/dockerfile:1\nFROM a:1\n", 1],
    ["# SYNTAX = docker/dockerfile:1   \nFROM a:1\n", 1],
    ["# escape=`\n# syntax=docker/dockerfile:1\nFROM a:1\n", 2],
    ["# check=skip=all\n#syntax=docker/dockerfile:1\nFROM a:1\n", 2],
    ["#!/usr/bin/env buildctl-daemonless.sh\n# syntax=docker/dockerfile:1\nFROM a:1\n", 2],
    ["# syntax=docker/dockerfile:1 ignored words\nFROM a:1\n", 1],
    ["# syntax=docker/dockerfile:1\r\nFROM a:1\r\n", 1],
    ["\uFEFF# syntax=docker/dockerfile:1\nFROM a:1\n", 1],
  ])("is honoured in %j", (file, line) => {
    const [syntax] = scan(file);
    expect(syntax).toMatchObject({ kind: "syntax", line, text: "docker/dockerfile:1", skip: null });
    expect(syntax?.reference?.repository).toBe("docker/dockerfile");
  });

  it.each([
    "# a comment\n# syntax=docker/dockerfile:1\nFROM a:1\n",
    "\n# syntax=docker/dockerfile:1\nFROM a:1\n",
    "FROM a:1\n# syntax=docker/dockerfile:1\n",
    "# foo=bar\n# syntax=docker/dockerfile:1\nFROM a:1\n",
    "  # syntax=docker/dockerfile:1\nFROM a:1\n",
    "# syntax=\nFROM a:1\n",
  ])("is not a directive in %j", (file) => {
    expect(scan(file).filter((r) => r.kind === "syntax")).toEqual([]);
  });

  it("uses the first of two syntax directives", () => {
    expect(brief("# syntax=a/b:1\n# syntax=c/d:1\nFROM a:1\n")[0]).toEqual(["syntax", 1, "a/b:1", null]);
  });

  it("has exact offsets after a BOM", () => {
    const file = Buffer.from("\uFEFF# syntax=docker/dockerfile:1\nFROM a:1\n", "utf8");
    const [syntax, from] = scan(file);
    expect(syntax?.start).toBe(3 + "# syntax=".length);
    expect(from?.start).toBe(file.indexOf("a:1"));
  });
});

describe("global ARG defaults", () => {
  it("reports the ARG's default once, however many FROMs use it", () => {
    const file = "ARG BASE=python:3.12-slim\nFROM ${BASE} AS a\nFROM $BASE\nCOPY --from=${BASE} /a /b\n";
    const refs = scan(file);
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatchObject({ kind: "from", line: 1, text: "python:3.12-slim", arg: "BASE", start: 9, end: 25 });
    expect(refs[0]?.reference?.tag).toBe("3.12-slim");
  });

  it("is no reference when only COPY --from or a mount uses it (BuildKit expands no variables there)", () => {
    expect(brief("ARG IMG=golang:1\nFROM a:1\nCOPY --from=$IMG /a /b\n")).toEqual([["from", 2, "a:1", null]]);
    expect(brief("ARG IMG=golang:1\nFROM a:1\nRUN --mount=from=${IMG} x\n")).toEqual([["from", 2, "a:1", null]]);
  });

  it("reads quoted defaults inside the quotes", () => {
    const file = 'ARG BASE="python:3.12"\nARG OTHER=\'node:20\'\nFROM $BASE\nFROM ${OTHER}\n';
    const refs = scan(file);
    expect(refs.map((r) => [r.text, r.start, r.arg])).toEqual([
      ["python:3.12", offset(file, "python"), "BASE"],
      ["node:20", offset(file, "node"), "OTHER"],
    ]);
  });

  it("uses BuildKit's scope: the last default before the first FROM", () => {
    const file = "ARG BASE=a:1\nARG BASE=b:2\nARG BASE\nFROM $BASE\nARG BASE=c:3\nFROM $BASE\n";
    expect(brief(file)).toEqual([["from", 2, "b:2", null]]);
  });

  it("reads several ARGs on one line", () => {
    expect(brief("ARG A=a:1 B=b:2\nFROM $B\n")).toEqual([["from", 1, "b:2", null]]);
  });

  it("sets the platform when every FROM using it agrees", () => {
    const same = scan("ARG B=b:1\nFROM --platform=linux/arm64 $B\nFROM --platform=linux/arm64 $B\n");
    expect(same[0]?.platform).toBe("linux/arm64");
    const differ = scan("ARG B=b:1\nFROM --platform=linux/arm64 $B\nFROM $B\n");
    expect(differ[0]?.platform).toBeUndefined();
  });

  it("skips a variable without a global default", () => {
    const refs = scan("ARG BASE\nFROM ${BASE}\nFROM a:1\nARG IN_STAGE=b:1\nFROM $IN_STAGE\n");
    expect(refs.map((r) => [r.line, r.text, r.skip])).toEqual([
      [2, "${BASE}", "variable"],
      [3, "a:1", null],
      [5, "$IN_STAGE", "variable"],
    ]);
  });

  it("expands a default that uses earlier ARGs, and reports a bad default once at the ARG", () => {
    const refs = scan("ARG REG=ghcr.io\nARG BASE=${REG}/app:1\nARG BAD=Nope\nFROM $BASE\nFROM $BAD\nFROM $BAD\n");
    expect(refs.map((r) => [r.line, r.text, r.skip, r.arg, r.expanded])).toEqual([
      [2, "${REG}/app:1", null, "BASE", "ghcr.io/app:1"],
      [3, "Nope", "invalid", "BAD", undefined],
    ]);
  });

  it("does not treat a default naming a stage or scratch as an image", () => {
    const file = "ARG S=build\nARG E=scratch\nFROM alpine:3 AS build\nFROM ${S}\nFROM $E\nCOPY --from=$S /a /b\n";
    expect(brief(file)).toEqual([["from", 3, "alpine:3", null]]);
  });

  it("ignores ARGs inside a stage: they name no image", () => {
    expect(brief("ARG X=a:1\nFROM b:1\nARG X=c:1\nCOPY --from=$X /a /b\n")).toEqual([["from", 2, "b:1", null]]);
  });
});

describe("BuildKit's reading of the file", () => {
  it("honours `# escape=` (backtick continuations; backslash is then literal)", () => {
    const file = "# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022 AS base\nRUN dir c:\\\nFROM b:1\n";
    expect(brief(file)).toEqual([
      ["from", 3, "mcr.microsoft.com/windows/servercore:ltsc2022", null],
      ["from", 5, "b:1", null],
    ]);
  });

  it("does not honour `# escape=` after a line that is not a directive (dockerfile-ast does)", () => {
    const file = "# foo=bar\n# escape=`\nFROM a:1 `\nFROM b:1\n";
    expect(brief(file).map((r) => r[2])).toEqual(["a:1", "b:1"]);
  });

  it("skips comments and blank lines inside continuations", () => {
    const file = "FROM a:1\nRUN --mount=from=m:1,target=/m \\\n# FROM not:1\n\n   # COPY --from=not:2 x y\n  make\nFROM b:1\n";
    expect(brief(file)).toEqual([
      ["from", 1, "a:1", null],
      ["mount-from", 2, "m:1", null],
      ["from", 7, "b:1", null],
    ]);
  });

  it("does not continue a line ending with an escaped escape (dockerfile-ast does)", () => {
    expect(brief("FROM a:1\nRUN echo \\\\\nFROM b:1\n").map((r) => r[2])).toEqual(["a:1", "b:1"]);
    expect(brief("FROM a:1\nRUN echo \\\\ \\\nFROM b:1\n").map((r) => r[2])).toEqual(["a:1"]);
  });

  it("keeps exact byte offsets with CRLF line endings", () => {
    const file = "FROM a:1 AS x\r\nRUN --mount=from=m:1,target=/m \\\r\n  true\r\nCOPY --from=c:1 /a /b\r\nFROM \\\r\n  d:1\r\n";
    const refs = scan(file);
    expect(refs.map((r) => [r.line, r.text, r.start])).toEqual([
      [1, "a:1", 5],
      [2, "m:1", offset(file, "m:1")],
      [4, "c:1", offset(file, "c:1")],
      [6, "d:1", offset(file, "d:1")],
    ]);
  });

  it("counts a BOM in the offsets", () => {
    const file = Buffer.from("\uFEFFFROM a:1\nFROM b:1\n", "utf8");
    expect(scan(file).map((r) => r.start)).toEqual([8, 17]);
  });

  it("numbers lines after a lone CR as dockerfile-ast and editors do", () => {
    const refs = scan("FROM a:1\rFROM b:1\r");
    expect(refs.map((r) => [r.line, r.text])).toEqual([
      [1, "a:1"],
      [2, "b:1"],
    ]);
  });

  it("decodes the text as UTF-8 while offsets stay byte offsets", () => {
    const file = "# é\nFROM pythön:3\nFROM a:1\n";
    const refs = scan(file);
    expect(refs[0]).toMatchObject({ text: "pythön:3", skip: "invalid" });
    expect(refs[0]!.end - refs[0]!.start).toBe(Buffer.byteLength("pythön:3"));
    expect(refs[1]?.start).toBe(offset(file, "a:1"));
  });

  it("returns references in file order", () => {
    const refs = scan("ARG B=b:1\nFROM a:1\nFROM $B\nCOPY --from=c:1 x y\n# syntax=no\n");
    const starts = refs.map((r) => r.start);
    expect(starts).toEqual([...starts].sort((x, y) => x - y));
    expect(refs.map((r) => r.text)).toEqual(["b:1", "a:1", "c:1"]);
  });
});

describe("heredocs: bodies are never instructions", () => {
  it.each([
    ["RUN <<EOF\nFROM evil:1\nEOF\n", "plain"],
    ["RUN <<-EOF\n\tFROM evil:1\n\tEOF\n", "tab-stripped"],
    ['RUN <<"EOF"\nFROM evil:1\nEOF\n', "double-quoted delimiter"],
    ["RUN <<'EOF'\nFROM evil:1\nEOF\n", "single-quoted delimiter"],
    ["COPY <<EOF /etc/x\nFROM evil:1\nEOF\n", "COPY"],
    ["ADD <<EOF /etc/x\nFROM evil:1\nEOF\n", "ADD"],
    ["RUN <<A <<B\nFROM evil:1\nA\nFROM evil:2\nB\n", "two heredocs"],
    ["RUN python3 <<EOF > /out \\\n  && true\nFROM evil:1\nEOF\n", "continued line"],
    ["ONBUILD RUN <<EOF\nFROM evil:1\nEOF\n", "ONBUILD"],
    ["RUN cat 3<<EOF\nFROM evil:1\nEOF\n", "fd prefix (dockerfile-ast misses it)"],
    ["RUN <<EOF\r\nFROM evil:1\r\nEOF\r\n", "CRLF"],
  ])("%j (%s)", (body) => {
    const file = `FROM a:1\n${body}FROM b:1\n`;
    expect(brief(file).map((r) => r[2])).toEqual(["a:1", "b:1"]);
  });

  it("does not end a body at an indented terminator without <<-", () => {
    const file = "FROM a:1\nRUN <<EOF\n  EOF\nFROM evil:1\nEOF\nFROM b:1\n";
    expect(brief(file).map((r) => r[2])).toEqual(["a:1", "b:1"]);
  });

  it.each([
    ['RUN echo "x <<EOF"\n', "quoted <<"],
    ["RUN echo <<-\n", "<<- alone"],
    ['RUN ["cat", "<<EOF"]\n', "JSON form"],
    ["RUN echo \\<<EOF\n", "escaped <"],
    ["RUN echo \\<\\<EOF\n", "escaped < <"],
  ])("does not open a heredoc for %j (%s; dockerfile-ast may)", (line) => {
    const file = `FROM a:1\n${line}FROM b:1\nEOF\nFROM c:1\n`;
    expect(brief(file).map((r) => r[2])).toEqual(["a:1", "b:1", "c:1"]);
  });
});

describe("BuildKit's reading where dockerfile-ast's used to win", () => {
  it.each([
    ["RUN cat << EOF\nFROM evil:1\nEOF\n", "blanks after << open a heredoc (dockerfile frontend 1.16)"],
    ["RUN <<-A <<B\n\tA\n\tB\nFROM evil:1\nB\n", "<<- strips tabs for its own heredoc only"],
    ['RUN <<"A B"\nFROM evil:1\nA B\n', "a quoted name with a space"],
    ["RUN <<E\\\nOF\nFROM evil:1\nEOF\n", "a heredoc word split by a continuation"],
  ])("%j is a heredoc body (%s)", (body) => {
    expect(brief(`FROM a:1\n${body}FROM b:1\n`).map((r) => r[2])).toEqual(["a:1", "b:1"]);
  });

  it.each([
    ["\vFROM b:1\n", "a vertical tab before the keyword"],
    ["\u00a0\u3000FROM b:1\n", "Unicode white space before the keyword"],
    ["RUN a \\ \\\n \\#x\nFROM b:1\n", "`\\#` after a continuation is no comment"],
    ["RUN echo ${} <<EOF\nFROM b:1\nEOF\n", "a line BuildKit's lexer rejects opens no heredoc"],
  ])("%j: FROM b:1 is an instruction (%s)", (text) => {
    expect(brief(`FROM a:1\n${text}`).map((r) => r[2])).toEqual(["a:1", "b:1"]);
  });

  it("reads every instruction of a file where each line has a quoted <<, however many", () => {
    const refs = scan('RUN echo "x <<EOF"\nFROM a:1\n'.repeat(600));
    expect(refs).toHaveLength(600);
  });

  it("comment and empty lines inside a continuation may start with Unicode white space", () => {
    expect(brief("FROM \\\n\u00a0# note\n\f\n  b:1\n").map((r) => [r[1], r[2], r[3]])).toEqual([[4, "b:1", null]]);
  });
});

describe("robustness", () => {
  it.each([
    ["empty", Buffer.alloc(0)],
    ["BOM only", Buffer.from([0xef, 0xbb, 0xbf])],
    ["NUL bytes", Buffer.from("FROM a:1\0\nFROM \0b\n\0\0\0")],
    ["invalid UTF-8", Buffer.from([0x46, 0x52, 0x4f, 0x4d, 0x20, 0xff, 0xfe, 0x0a, 0xc3, 0x28])],
    ["binary", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
    ["a lone backslash", Buffer.from("\\")],
    ["unterminated quote", Buffer.from('FROM "python:3\nCOPY --from="x /a /b\nARG A="b\nFROM $A\n')],
    ["unterminated heredoc", Buffer.from("RUN <<EOF\nFROM x:1\n")],
  ])("does not throw on %s", (_name, bytes) => {
    expect(() => scan(bytes)).not.toThrow();
  });

  it("reports invalid UTF-8 in a reference as invalid, with exact byte offsets", () => {
    const bytes = Buffer.concat([Buffer.from("FROM a"), Buffer.from([0xff]), Buffer.from(":1\nFROM b:1\n")]);
    const refs = scanDockerfile(bytes);
    expect(refs.map((r) => [r.start, r.end, r.skip])).toEqual([
      [5, 9, "invalid"],
      [15, 18, null],
    ]);
  });

  it.each([
    ["a one-line file of `#`", "#".repeat(300_000)],
    ["backslashes", "\\".repeat(300_000)],
    ["heredoc openers", "RUN <<EOF\n".repeat(30_000)],
    ["quoted << on many lines", 'RUN echo "x <<EOF"\nFROM a:1\n'.repeat(600)],
    ["continuation lines", "RUN a \\\n".repeat(50_000)],
  ])("stays fast on %s", (_name, text) => {
    const started = performance.now();
    expect(() => scanDockerfile(Buffer.from(text))).not.toThrow();
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("throws a ScanError on an internal error instead of finding nothing", () => {
    // No bytes are known to break the scanner (the fuzz tests look for some); input it cannot read stands in.
    const error = (() => {
      try {
        scanDockerfile(undefined as unknown as Uint8Array);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ScanError);
    expect(error).toMatchObject({ code: "SCAN_FAILED", cause: expect.any(TypeError) });
    expect((error as Error).message).toMatch(/^internal error: /);
  });

  it("handles a huge line quickly", () => {
    const file = `FROM a:1\nRUN ${"x ".repeat(500_000)}\nFROM b:1 AS ${"y".repeat(100_000)}\n`;
    const started = performance.now();
    expect(brief(file).map((r) => r[2])).toEqual(["a:1", "b:1"]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
