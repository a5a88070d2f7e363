// The lexer: BuildKit's instruction boundaries and logical lines (parser.go), rule by rule, and dockerfile-ast as an
// oracle: on generated Dockerfiles our instructions (keyword, start, end) are exactly DockerfileParser.parse's, except
// for the dockerfile-ast bugs listed below, each checked to still be one (so a fixed dockerfile-ast shows up here).

import { DockerfileParser } from "dockerfile-ast";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateCorpus } from "../../bench/scan.js";
import { readParserDirectives } from "../../src/dockerfile/directives.js";
import { buildkitHeredocs } from "../../src/dockerfile/heredoc.js";
import { lexDockerfile, type Instruction } from "../../src/dockerfile/lexer.js";
import { lineAt, toSource } from "../../src/dockerfile/text.js";

const runs = (n: number) => ({ numRuns: Number(process.env.FC_RUNS ?? n) });

function lex(text: string | Buffer): Instruction[] {
  const src = toSource(typeof text === "string" ? Buffer.from(text, "utf8") : text);
  return lexDockerfile(src, readParserDirectives(src).escape);
}

/** [keyword, logical text] of each instruction. */
const logical = (text: string | Buffer) => lex(text).map((i) => [i.keyword, i.logical.text]);

/** Every logical character maps to the source character it is. */
function checkPositions(text: string): void {
  const src = toSource(Buffer.from(text, "latin1"));
  for (const i of lexDockerfile(src, readParserDirectives(src).escape)) {
    const pos = i.logical.pos;
    expect(pos.length).toBe(i.logical.text.length);
    for (let k = 0; k < pos.length; k++) expect(src.text[pos[k] as number]).toBe(i.logical.text[k]);
  }
}

describe("logical lines", () => {
  it.each([
    ["continuation, blanks after the escape", "RUN a \\  \n  b\n", [["run", "RUN a   b"]]],
    ["comment and empty lines inside a continuation", "RUN a \\\n# c\n\n   \n  # d\n b\nFROM x\n", [["run", "RUN a  b"], ["from", "FROM x"]]],
    ["an escaped escape does not continue", "RUN a \\\\\nFROM x\n", [["run", "RUN a \\\\"], ["from", "FROM x"]]],
    ["`\\ \\` continues", "RUN a \\ \\\nFROM x\n", [["run", "RUN a \\ FROM x"]]],
    ["a line of only the escape continues into the next", "\\\nFROM x\n", [["from", "FROM x"]]],
    ["a continuation at the end of the file", "FROM x \\", [["from", "FROM x "]]],
    ["leading white space, even Unicode's, is not part of the instruction", "\t FROM a\n\u00a0\u3000FROM b\n\vFROM c\n", [["from", "FROM a"], ["from", "FROM b"], ["from", "FROM c"]]],
    ["a comment after Unicode white space", "\u00a0# FROM a\nFROM b\n", [["from", "FROM b"]]],
    ["the backtick escape", "# escape=`\nRUN dir c:\\ `\n  /w\nFROM x\n", [["run", "RUN dir c:\\   /w"], ["from", "FROM x"]]],
    ["CRLF", "RUN a \\\r\n  b\r\nFROM x\r\n", [["run", "RUN a   b"], ["from", "FROM x"]]],
    ["a lone CR ends a line (see text.ts)", "FROM a\rFROM b\r", [["from", "FROM a"], ["from", "FROM b"]]],
    ["a keyword split by a continuation", "FR\\\nOM x\n", [["from", "FROM x"]]],
    ["ONBUILD", "ONBUILD RUN <<EOF\nFROM x\nEOF\n", [["onbuild", "ONBUILD RUN <<EOF"]]],
  ])("%s", (_name, text, expected) => {
    expect(logical(text)).toEqual(expected);
    checkPositions(text);
  });

  it("keeps exact offsets after a BOM, and the logical positions point into the file without it", () => {
    const bytes = Buffer.from("\uFEFFFROM a \\\n  AS b\n", "utf8");
    const [i] = lex(bytes);
    expect(i).toMatchObject({ keyword: "from", start: 0, firstLine: 0, lastLine: 1 });
    expect(i?.logical.text).toBe("FROM a   AS b");
    expect(i?.logical.pos[i.logical.text.indexOf("AS")]).toBe(bytes.indexOf("AS") - 3);
  });
});

describe("heredocs", () => {
  it.each([
    ["RUN <<EOF\nFROM x\nEOF\n", "plain"],
    ["RUN <<-EOF\n\tFROM x\n\t\tEOF\n", "tabs stripped with <<-"],
    ['RUN <<"EOF"\nFROM x\nEOF\n', "double-quoted"],
    ["COPY <<'EOF' /a\nFROM x\nEOF\n", "single-quoted, COPY"],
    ["ADD <<EOF /a\nFROM x\nEOF\n", "ADD"],
    ["RUN cat 3<<EOF\nFROM x\nEOF\n", "fd prefix"],
    ["RUN cat << EOF\nFROM x\nEOF\n", "blanks after << (dockerfile frontend 1.16)"],
    ["RUN <<A <<B\nFROM x\nA\nFROM y\nB\n", "two, in order"],
    ["RUN a <<EOF \\\n  && b\nFROM x\nEOF\n", "on a continued line"],
    ["ONBUILD RUN <<EOF\nFROM x\nEOF\n", "under ONBUILD"],
  ])("%j: the body is not instructions (%s)", (text) => {
    expect(lex(`FROM a\n${text}FROM b\n`).map((i) => i.keyword)).toEqual(["from", text.startsWith("ONBUILD") ? "onbuild" : i0(text), "from"]);
  });

  it.each([
    ['RUN echo "x <<EOF"\n', "quoted"],
    ["RUN echo \\<<EOF\n", "escaped"],
    ['RUN ["cat", "<<EOF"]\n', "JSON form"],
    ["RUN <<- EOF\n", "`<<-` then blanks"],
    ["RUN x<<EOF\n", "`<<` inside a word"],
    ["RUN echo ${} <<EOF\n", "a lexing error elsewhere on the line"],
    ["LABEL a=<<EOF\n", "not RUN, COPY or ADD"],
  ])("%j opens no heredoc (%s)", (line) => {
    expect(lex(`${line}FROM b\nEOF\n`).map((i) => i.keyword)).toEqual([i0(line), "from", "eof"]);
  });

  it("chomps per heredoc: `<<-A <<B` strips tabs before A's terminator only", () => {
    expect(lex("RUN <<-A <<B\n\tA\n\tB\nFROM x\nB\nFROM y\n").map((i) => i.keyword)).toEqual(["run", "from"]);
  });

  it("an unterminated body takes the rest of the file, and an indented terminator does not end a plain one", () => {
    expect(lex("RUN <<EOF\n  EOF\nFROM x\n").map((i) => [i.keyword, i.lastLine])).toEqual([["run", 3]]);
  });

  it.each([
    ["RUN <<EOF", ["EOF"]],
    ["RUN <<-'A B' <<\"C\"", ["A B", "C"]],
    ["RUN <<E\"O\"F", ["EOF"]],
    ["RUN <<  EOF  > foo", ["EOF"]],
    ["RUN << -EOF", ["-EOF"]],
    ["RUN <<$EOF", ["$EOF"]],
    ["RUN 4<<EOF", ["EOF"]],
    ["RUN '<<EOF'", []],
    ["RUN <<'EOF", []],
    ["RUN <<EOF sh", ["EOF"]],
    ["RUN <<<EOF", []],
    ["RUN pre${A:-x}<<EOF", []],
  ])("names in %j", (line, names) => {
    expect(buildkitHeredocs(line).map((h) => h.name)).toEqual(names);
  });
});

function i0(text: string): string {
  return text.slice(0, text.search(/[ \t]/)).toLowerCase();
}

/** dockerfile-ast's instructions as [keyword, [line, character] of start, of end]. */
function astShape(text: string) {
  const parsed = DockerfileParser.parse(text);
  return {
    escape: parsed.getEscapeCharacter(),
    instructions: parsed.getInstructions().map((i) => {
      const r = i.getRange();
      return [i.getKeyword().toLowerCase(), [r.start.line, r.start.character], [r.end.line, r.end.character]];
    }),
  };
}

function ourShape(text: string) {
  const src = toSource(Buffer.from(text, "latin1"));
  const escape = readParserDirectives(src).escape;
  const at = (offset: number) => {
    const line = lineAt(src.lineStarts, offset);
    return [line, offset - (src.lineStarts[line] as number)];
  };
  return {
    escape: String.fromCharCode(escape),
    instructions: lexDockerfile(src, escape).map((i) => [i.keyword, at(i.start), at(i.end)]),
  };
}

// Lines that dockerfile-ast reads as BuildKit does: none of the exceptions below.
const C = "\u0001"; // the escape character, filled in per file
const WORDS = ["FROM alpine:3", "from a AS b", "RUN make", "COPY --from=x /a /b", "ARG A=1", "ENV A=b", "WORKDIR /w",
  "ONBUILD RUN true", "RUN --mount=type=cache,target=/c go build", 'CMD ["x"]', "LABEL a=b", "EXPOSE 80"];
const line = fc.oneof(
  fc.record({ indent: fc.constantFrom("", " ", "\t", "  "), word: fc.constantFrom(...WORDS), t: fc.constantFrom("", " ", "\t") })
    .map(({ indent, word, t }) => [`${indent}${word}${t}`]),
  fc.constantFrom(["# comment"], ["  # FROM x"], [""], ["   "]),
  fc.record({ word: fc.constantFrom(...WORDS), inner: fc.array(fc.constantFrom("  x", "# c", "", "  ", "  && y", `  z ${C}`), { maxLength: 4 }), t: fc.constantFrom("", " ", "  ") })
    .map(({ word, inner, t }) => [`${word} ${C}${t}`, ...inner.map((l) => (l.endsWith(C) || l === "" || l.trim().startsWith("#") || l.trim() === "" ? l : `${l} ${C}`)), "  end"]),
  fc.constantFrom(
    ["RUN <<EOF", "FROM evil", "echo \\", "EOF"],
    ["RUN <<-EOF", "\tFROM evil", "\t\tEOF"],
    ["COPY <<'EOT' /x", "# not a comment", "EOT"],
    ["RUN cat <<A <<B", "FROM a", "A", "FROM b", "B"],
    ["ONBUILD RUN <<EOF", "FROM evil", "EOF"],
    ["RUN <<EOF", "never ends"],
  ),
);
const dockerfile = fc
  .record({
    backtick: fc.boolean(),
    lines: fc.array(line, { maxLength: 30 }),
    eol: fc.constantFrom("\n", "\r\n"),
    final: fc.boolean(),
  })
  .map(({ backtick, lines, eol, final }) => {
    const body = lines.flat().join(eol).split(C).join(backtick ? "`" : "\\");
    return (backtick ? `# escape=\`${eol}` : "") + body + (final ? eol : "");
  });

describe("dockerfile-ast as an oracle", () => {
  it("splits generated Dockerfiles into the same instructions, at the same offsets", () => {
    fc.assert(
      fc.property(dockerfile, (text) => {
        expect(ourShape(text)).toEqual(astShape(text));
      }),
      runs(500),
    );
  });

  it("splits the benchmark's corpus into the same instructions", () => {
    for (const file of generateCorpus(200, 3)) {
      const text = file.toString("latin1");
      expect(ourShape(text)).toEqual(astShape(text));
    }
  });

  // dockerfile-ast 0.7.1 bugs: where it and BuildKit disagree, the lexer follows BuildKit.
  it.each([
    ["reads directives after a comment that is not one", "# foo=bar\n# escape=`\nFROM a `\nFROM b\n"],
    ["continues a line that ends with an escaped escape", "RUN a \\\\\nFROM b\n"],
    ["does not continue `\\ \\`", "RUN a \\ \\\nFROM b\n"],
    ["misses a heredoc with a file descriptor", "RUN cat 3<<EOF\nFROM b\nEOF\n"],
    ["misses blanks after << (dockerfile frontend 1.16)", "RUN cat << EOF\nFROM b\nEOF\n"],
    ["opens a heredoc inside quotes", 'RUN echo "x <<EOF"\nFROM b\nEOF\n'],
    ["opens a heredoc for an escaped <<", "RUN echo \\<\\<EOF\nFROM b\nEOF\n"],
    ["chomps every heredoc of a line when one has <<-", "RUN <<-A <<B\n\tA\n\tB\nFROM b\nB\n"],
    ["takes `\\#` after a continuation for a comment", "RUN a \\ \\\n \\#x\nFROM b\n"],
    ["does not take \\v or \\f (nor Unicode white space) for white space", "\vFROM a\n\fFROM b\n"],
    ["makes a line of only the escape an instruction", "\\\nFROM a\n"],
  ])("%s", (_name, text) => {
    expect(ourShape(text)).not.toEqual(astShape(text));
  });
});
