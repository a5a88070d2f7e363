import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyEdits } from "../../src/dockerfile/rewrite.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";
import { scanFile } from "../../src/engine.js";
import type { FoundReference, ReferenceKind } from "../../src/dockerfile/types.js";
import { pinnedTextFor } from "../../src/plan.js";
import { hex, imageArbitrary } from "../helpers/images.js";
import { outside } from "../helpers/outside.js";

/** Stands for the continuation character until the file is rendered with its escape character. */
const C = "\u0001";

interface Expected {
  /** Line within its block, 0-based. */
  line: number;
  text: string;
  kind: ReferenceKind;
  arg?: string;
}

interface Block {
  lines: string[];
  refs: Expected[];
}

const ws = fc.constantFrom(" ", "  ", "\t", " \t ");
const trailing = fc.constantFrom("", "", " ", "\t ");
const keyword = (k: string) => fc.constantFrom(k, k.toLowerCase(), k[0] + k.slice(1).toLowerCase());

// `[::1]:5000` cannot start a plain YAML scalar, but is fine in a Dockerfile.
const image = imageArbitrary(["ghcr.io", "localhost:5000", "[::1]:5000", "registry.example.com", "index.docker.io", "docker.io"]);

/** More runs on demand: FC_RUNS=100000 npx vitest run test/dockerfile/property.test.ts */
const runs = (n: number) => ({ numRuns: Number(process.env.FC_RUNS ?? n) });

const one = (line: string, ref?: Omit<Expected, "line">): Block => ({ lines: [line], refs: ref ? [{ line: 0, ...ref }] : [] });
const plain = (...lines: string[]): Block => ({ lines, refs: [] });

const fromBlock = fc
  .record({ kw: keyword("FROM"), a: ws, b: ws, img: image, platform: fc.boolean(), stage: fc.option(fc.nat(9)), t: trailing })
  .map(({ kw, a, b, img, platform, stage, t }) =>
    one(`${kw}${a}${platform ? `--platform=linux/arm64${b}` : ""}${img}${stage === null ? "" : `${b}AS${a}st-${stage}`}${t}`, {
      text: img,
      kind: "from",
    }),
  );

const fromContinued = fc.record({ img: image, comment: fc.boolean(), t: trailing }).map(({ img, comment, t }) => ({
  lines: [`FROM ${C}${t}`, ...(comment ? ["# FROM evil:0", ""] : []), `    ${img} AS st-9`],
  refs: [{ line: comment ? 3 : 1, text: img, kind: "from" as const }],
}));

const copyBlock = fc
  .record({
    kw: keyword("COPY"),
    img: image,
    link: fc.boolean(),
    chmod: fc.boolean(),
    chown: fc.boolean(),
    quoted: fc.boolean(),
    t: trailing,
  })
  .map(({ kw, img, link, chmod, chown, quoted, t }) =>
    one(
      `${kw} ${link ? "--link " : ""}${chmod ? "--chmod=755 " : ""}--from=${quoted ? `"${img}"` : img}` +
        `${chown ? " --chown=1:1" : ""} /src /dst${t}`,
      { text: img, kind: "copy-from" },
    ),
  );

const mountBlock = fc
  .record({ img: image, second: fc.boolean(), continued: fc.boolean() })
  .map(({ img, second, continued }): Block => {
    if (!continued) {
      return one(`RUN --mount=type=bind,from=${img},target=/x${second ? " --mount=type=cache,target=/c" : ""} echo hi`, {
        text: img,
        kind: "mount-from",
      });
    }
    return {
      lines: [`RUN --mount=type=cache,target=/c ${C}`, `    --mount=type=bind,source=/,from=${img},target=/m ${C}`, "    make"],
      refs: [{ line: 1, text: img, kind: "mount-from" }],
    };
  });

const noise = fc.oneof(
  trailing.map((t) => one(`# FROM evil:1${t}`)),
  fc.constant(one("")),
  fc.constant(plain(`RUN echo hi ${C}`, "# COPY --from=evil:2 a b", "", "  && true")),
  fc.constant(plain("RUN <<EOF", "FROM evil:3", "COPY --from=evil:4 a b", "EOF")),
  fc.constant(plain("RUN <<-EOF", "\tFROM evil:5", "\tEOF")),
  fc.constant(plain("COPY <<'EOT' /etc/x", "FROM evil:6", "EOT")),
  fc.constant(plain("RUN cat <<A <<\"B\"", "FROM evil:7", "A", "FROM evil:8", "B")),
  fc.constantFrom(
    one("WORKDIR /app"),
    one("ENV A=b C=d"),
    one('CMD ["x", "y"]'),
    one("FROM scratch"),
    one("FROM st-0 AS st-1"),
    one("COPY --from=st-0 /a /b"),
    one("COPY --from=0 /a /b"),
    one("RUN --mount=type=cache,from=st-0,target=/x true"),
    one("RUN --mount=type=secret,id=tok true"),
  ),
);

const dockerfile = fc
  .record({
    escape: fc.constantFrom("\\", "`"),
    escapeDirective: fc.boolean(),
    syntax: fc.option(image),
    syntaxFirst: fc.boolean(),
    comment: fc.boolean(),
    args: fc.array(fc.record({ img: image, quoted: fc.boolean() }), { maxLength: 2 }),
    // References built from ARGs: `FROM repo:${TAGn}`, pinned in the FROM.
    tagArgs: fc.array(
      fc.record({ repo: fc.constantFrom("python", "ghcr.io/a/b", "localhost:5000/x"), tag: fc.constantFrom("3", "1.22-alpine", "v1") }),
      { maxLength: 2 },
    ),
    tagUses: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
    first: fromBlock,
    body: fc.array(fc.oneof(fromBlock, fromContinued, copyBlock, mountBlock, noise, noise), { maxLength: 25 }),
    argUses: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
    eol: fc.constantFrom("\n", "\r\n"),
    bom: fc.boolean(),
    finalEol: fc.boolean(),
  })
  .map((spec) => {
    const blocks: Block[] = [];
    const directives: Block[] = [];
    if (spec.escape === "`" || spec.escapeDirective) directives.push(one(`# escape=${spec.escape}`));
    if (spec.syntax !== null) directives.push(one(`# syntax=${spec.syntax}`, { text: spec.syntax, kind: "syntax" }));
    if (spec.syntaxFirst) directives.reverse();
    blocks.push(...directives);
    if (spec.comment) blocks.push(one("# global arguments"));
    spec.args.forEach((a, i) =>
      blocks.push(one(`ARG BASE${i}=${a.quoted ? `"${a.img}"` : a.img}`, { text: a.img, kind: "from", arg: `BASE${i}` })),
    );
    spec.tagArgs.forEach((a, i) => blocks.push(one(`ARG TAG${i}=${a.tag}`)));
    // A stage st-0 comes first, so that the stage references in the noise are stages.
    blocks.push(spec.first, one("FROM alpine:3 AS st-0", { text: "alpine:3", kind: "from" }));
    const body = [...spec.body];
    spec.args.forEach((_, i) => {
      const at = Math.min(spec.argUses[i] ?? 0, body.length);
      body.splice(at, 0, one(i % 2 ? `FROM $BASE${i} AS st-${7 + i}` : `FROM \${BASE${i}}`));
    });
    spec.tagArgs.forEach((a, i) => {
      const at = Math.min(spec.tagUses[i] ?? 0, body.length);
      const text = `${a.repo}:\${TAG${i}}`;
      body.splice(at, 0, one(`FROM ${text} AS built-${i}`, { text, kind: "from" }));
    });
    blocks.push(...body);

    const lines: string[] = [];
    const expected: Array<Expected & { line: number }> = [];
    for (const block of blocks) {
      for (const ref of block.refs) expected.push({ ...ref, line: lines.length + ref.line + 1 });
      lines.push(...block.lines.map((l) => l.split(C).join(spec.escape)));
    }
    const text = lines.join(spec.eol) + (spec.finalEol ? spec.eol : "");
    const bytes = Buffer.concat([Buffer.from(spec.bom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text, "utf8")]);
    return { bytes, expected, text };
  });

/** Invariants of any scan: ranges inside the file, texts equal to their bytes, file order, no overlap. */
function checkInvariants(bytes: Uint8Array, refs: readonly FoundReference[]): void {
  let last = 0;
  for (const r of refs) {
    expect(r.start).toBeGreaterThanOrEqual(last);
    expect(r.end).toBeGreaterThanOrEqual(r.start);
    expect(r.end).toBeLessThanOrEqual(bytes.length);
    expect(Buffer.from(bytes.subarray(r.start, r.end)).toString("utf8")).toBe(r.text);
    expect(r.line).toBeGreaterThanOrEqual(1);
    expect(r.skip === null).toBe(r.reference !== null);
    last = r.end;
  }
}

/** Pin every pinnable reference with a digest derived from `seed`. */
function pinAll(bytes: Uint8Array, refs: readonly FoundReference[], seed: number) {
  const pinned = refs.filter((r) => r.skip === null);
  const digests = pinned.map((_, i) => `sha256:${hex(`${seed}:${i}`)}`);
  const edits = pinned.map((r, i) => ({ start: r.start, end: r.end, replacement: pinnedTextFor(r, digests[i] as string) }));
  return { pinned, digests, edits, out: applyEdits(bytes, edits) };
}

describe("generated Dockerfiles", () => {
  it("finds exactly the generated references, and pinning them changes nothing else", () => {
    fc.assert(
      fc.property(dockerfile, fc.integer(), ({ bytes, expected }, seed) => {
        const refs = scanDockerfile(bytes);
        checkInvariants(bytes, refs);
        expect(refs.map((r) => ({ line: r.line, text: r.text, kind: r.kind, ...(r.arg ? { arg: r.arg } : {}) }))).toEqual(
          expected,
        );
        expect(refs.every((r) => r.skip === null)).toBe(true);

        const { digests, out } = pinAll(bytes, refs, seed);
        const again = scanDockerfile(out);
        checkInvariants(out, again);
        expect(again.map((r) => [r.kind, r.line, r.arg])).toEqual(refs.map((r) => [r.kind, r.line, r.arg]));
        expect(again.map((r) => r.text)).toEqual(refs.map((r, i) => pinnedTextFor(r, digests[i] as string)));
        expect(again.map((r) => r.reference?.digest)).toEqual(digests);
        expect(outside(out, again)).toEqual(outside(bytes, refs));
      }),
      runs(300),
    );
  });
});

/** Whole instructions, so that the soup has references in it… */
const LINES = [
  "FROM python:3\n", "FROM alpine AS st\n", "from ghcr.io/a/b:1 as x\n", "FROM --platform=linux/amd64 node\n",
  "COPY --from=alpine /a /b\n", "COPY --link --from=st /a /b\n", "RUN --mount=type=bind,from=python:3,target=/x true\n",
  "ARG B=python:3\n", "ARG B=\"alpine\"\n", "FROM $B\n", "FROM ${B}\n", "COPY --from=$B /a /b\n", "RUN <<EOF\n",
  "EOF\n", "# syntax=a/b\n", "# escape=`\n", "FROM \\\n", "FROM `\n", "ONBUILD COPY --from=x /a /b\n",
];
/** …and fragments that cut them up. */
const FRAGMENTS = [
  "FROM ", "COPY ", "RUN ", "ARG ", " AS ", "--from=", "--mount=", "from=", ",", "python:3", "alpine", "st", "scratch",
  "0", "$B", "${B}", "=", '"', "'", "\\", "`", "\n", "\r\n", "\r", " ", "\t", "#", "<<", "<<-", "EOF", "\tEOF", "-- ",
  "@sha256:" + "e".repeat(64), "é", "\u0000",
];
const soup = fc
  .array(fc.oneof({ arbitrary: fc.constantFrom(...LINES), weight: 2 }, { arbitrary: fc.constantFrom(...FRAGMENTS), weight: 3 }), {
    maxLength: 60,
  })
  .map((tokens) => Buffer.from(tokens.join(""), "utf8"));

describe("arbitrary input", () => {
  it("never makes the scanner throw, and its results are always consistent", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        // Through scanFile, as the CLI and the app scan: an internal error would be the file's error, not "no references".
        const scanned = scanFile("Dockerfile", bytes);
        expect(scanned.error).toBeUndefined();
        checkInvariants(bytes, scanned.references);
      }),
      runs(500),
    );
  });

  it("on Dockerfile-like token soup: consistent results, and pinning keeps every reference in place", () => {
    fc.assert(
      fc.property(soup, fc.integer(), (bytes, seed) => {
        const refs = scanDockerfile(bytes);
        checkInvariants(bytes, refs);
        const { pinned, digests, out } = pinAll(bytes, refs, seed);
        const again = scanDockerfile(out).filter((r) => r.skip === null);
        expect(again.map((r) => [r.kind, r.line, r.reference?.digest])).toEqual(
          pinned.map((r, i) => [r.kind, r.line, digests[i]]),
        );
        expect(outside(out, again)).toEqual(outside(bytes, pinned));
      }),
      runs(1000),
    );
  });
});
