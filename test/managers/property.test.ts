// Byte-exact edits in YAML and JSON, as for Dockerfiles (test/dockerfile/property.test.ts): on generated files with
// every quoting style, comments, anchors and aliases, merge keys, flow style, values on the next line, compose
// defaults, multiple documents, CRLF and a BOM, a manager finds exactly the references written, and pinning them all
// changes no byte outside them, keeps the file's meaning (the same data with only the references pinned) and gives
// the same references again with the new digests.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parse as parseJsonc } from "jsonc-parser";
import { applyEdits } from "../../src/dockerfile/rewrite.js";
import type { FoundReference } from "../../src/dockerfile/types.js";
import { composeManager } from "../../src/managers/compose.js";
import { devcontainerManager } from "../../src/managers/devcontainer.js";
import { githubActionsManager } from "../../src/managers/github-actions.js";
import { kubernetesManager } from "../../src/managers/kubernetes.js";
import type { Manager } from "../../src/managers/types.js";
import { pinnedTextFor } from "../../src/plan.js";
import { hex, imageArbitrary } from "../helpers/images.js";
import { checkInvariants, outside } from "./helpers.js";

/** More runs on demand: FC_RUNS=20000 npx vitest run test/managers/property.test.ts */
const runs = (n: number) => ({ numRuns: Number(process.env.FC_RUNS ?? n) });

const image = imageArbitrary(["ghcr.io", "localhost:5000", "registry.example.com", "docker.io"]);

type Style = "plain" | "single" | "double";
const style = fc.constantFrom<Style>("plain", "single", "double");
const quote = (text: string, s: Style) => (s === "single" ? `'${text}'` : s === "double" ? `"${text}"` : text);
const comment = fc.constantFrom("", "", " # a comment", "   # image: evil:9", " #");

/** Lines of a file, and the references in it (by line within the block, as written). */
interface Block {
  lines: string[];
  refs: Array<{ line: number; text: string }>;
  /** Lines that must come before every service (anchors). */
  head?: string[];
  headRefs?: Array<{ line: number; text: string }>;
}

/** Lines that hold no reference, whatever they look like. */
const noise = fc.constantFrom<string[]>(
  ["    # image: evil:1"],
  ['    command: ["image: evil:2", "--flag"]'],
  ["    entrypoint: |", "      image: evil:3", "      run it"],
  ["    environment:", "      IMAGE: evil:4", "      OTHER: 'x'"],
  ["    labels: {image: evil:5}"],
  [""],
  ["    ports:", '      - "8080:80"'],
);

function service(i: number) {
  return fc
    .record({
      img: image,
      s: style,
      layout: fc.constantFrom("block", "flow", "next-line", "anchor", "merge", "default", "spaced"),
      c: comment,
      before: fc.array(noise, { maxLength: 2 }),
      after: fc.array(noise, { maxLength: 2 }),
    })
    .map(({ img, s, layout, c, before, after }): Block => {
      const name = `  s${i}:`;
      const tail = after.flat();
      const lead = before.flat();
      switch (layout) {
        case "flow":
          return { lines: [`  s${i}: {image: ${quote(img, s)}, restart: always}${c}`], refs: [{ line: 0, text: img }] };
        case "next-line":
          return { lines: [name, ...lead, "    image:", `      ${quote(img, s)}${c}`, ...tail], refs: [{ line: lead.length + 2, text: img }] };
        case "anchor":
          return { lines: [name, ...lead, `    image: *img${i}${c}`, ...tail], refs: [], head: [`x-img${i}: &img${i} ${quote(img, s)}${c}`], headRefs: [{ line: 0, text: img }] };
        case "merge":
          return {
            lines: [name, `    <<: *base${i}`, ...tail],
            refs: [],
            head: [`x-base${i}: &base${i}`, `  image: ${quote(img, s)}${c}`, "  restart: always"],
            headRefs: [{ line: 1, text: img }],
          };
        case "default":
          return { lines: [name, ...lead, `    image: ${quote(`\${IMG_${i}:-${img}}`, s === "single" ? "double" : s)}${c}`, ...tail], refs: [{ line: lead.length + 1, text: img }] };
        case "spaced":
          return { lines: [name, ...lead, `    image:     ${quote(img, s)}   ${c}`, ...tail], refs: [{ line: lead.length + 1, text: img }] };
        default:
          return { lines: [name, ...lead, `    image: ${quote(img, s)}${c}`, ...tail], refs: [{ line: lead.length + 1, text: img }] };
      }
    });
}

const eol = fc.constantFrom("\n", "\r\n");
const bom = fc.boolean();

/** Render blocks (heads first) into bytes, with the expected references and their lines. */
function render(header: string[], blocks: Block[], newline: string, withBom: boolean, finalEol: boolean) {
  const lines: string[] = [];
  const expected: Array<{ line: number; text: string }> = [];
  for (const b of blocks) {
    for (const r of b.headRefs ?? []) expected.push({ line: lines.length + r.line + 1, text: r.text });
    lines.push(...(b.head ?? []));
  }
  lines.push(...header);
  for (const b of blocks) {
    for (const r of b.refs) expected.push({ line: lines.length + r.line + 1, text: r.text });
    lines.push(...b.lines);
  }
  const text = lines.join(newline) + (finalEol ? newline : "");
  const bytes = Buffer.concat([Buffer.from(withBom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text, "utf8")]);
  return { bytes, expected };
}

const composeFile = fc
  .record({ n: fc.integer({ min: 1, max: 6 }), newline: eol, withBom: bom, finalEol: fc.boolean(), top: fc.constantFrom([], ["# the stack", 'name: "shop"'], ["version: '3.9'"]) })
  .chain(({ n, newline, withBom, finalEol, top }) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => service(i))).map((blocks) => render([...top, "services:"], blocks, newline, withBom, finalEol)),
  );

/** A Deployment per document, containers in block or flow style, documents separated by `---` (with comments). */
const container = (i: number) =>
  fc.record({ img: image, s: style, c: comment, flow: fc.boolean(), env: fc.boolean() }).map(({ img, s, c, flow, env }): Block =>
    flow
      ? { lines: [`        - {name: c${i}, image: ${quote(img, s)}, ports: [{containerPort: 80}]}${c}`], refs: [{ line: 0, text: img }] }
      : {
          lines: [`        - name: c${i}`, `          image: ${quote(img, s)}${c}`, ...(env ? ["          env:", "            - {name: IMAGE, value: 'evil:1'}"] : [])],
          refs: [{ line: 1, text: img }],
        },
  );
const deployment = fc
  .record({ n: fc.integer({ min: 1, max: 3 }), init: fc.boolean(), kind: fc.constantFrom("Deployment", "StatefulSet", "Job") })
  .chain(({ n, init, kind }) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => container(i))).map((containers): Block => {
      const lines = ["apiVersion: apps/v1", `kind: ${kind}`, "metadata:", "  name: the-app  # the app", "spec:", "  template:", "    spec:", init ? "      initContainers:" : "      containers:"];
      const refs: Block["refs"] = [];
      for (const c of containers) {
        for (const r of c.refs) refs.push({ line: lines.length + r.line, text: r.text });
        lines.push(...c.lines);
      }
      return { lines, refs };
    }),
  );
const manifest = fc
  .record({ docs: fc.array(deployment, { minLength: 1, maxLength: 3 }), newline: eol, withBom: bom, sep: fc.constantFrom("---", "--- # next", "---\n# a comment") })
  .map(({ docs, newline, withBom, sep }) => {
    const blocks: Block[] = docs.map((d, i) => (i === 0 ? d : { lines: [...sep.split("\n"), ...d.lines], refs: d.refs.map((r) => ({ ...r, line: r.line + sep.split("\n").length })) }));
    return render([], blocks, newline, withBom, true);
  });

/** A workflow: job containers (string or map), services, docker:// steps. */
const workflow = fc
  .record({ jobs: fc.array(fc.record({ img: image, s: style, c: comment, form: fc.constantFrom("string", "map", "service", "step") }), { minLength: 1, maxLength: 4 }), newline: eol, withBom: bom })
  .map(({ jobs, newline, withBom }) => {
    const blocks: Block[] = jobs.map(({ img, s, c, form }, i): Block => {
      const head = [`  j${i}:`, "    runs-on: ubuntu-latest"];
      if (form === "string") return { lines: [...head, `    container: ${quote(img, s)}${c}`], refs: [{ line: 2, text: img }] };
      if (form === "map") return { lines: [...head, "    container:", `      image: ${quote(img, s)}${c}`, "      options: --cpus 1"], refs: [{ line: 3, text: img }] };
      if (form === "service") return { lines: [...head, "    services:", "      db:", `        image: ${quote(img, s)}${c}`], refs: [{ line: 4, text: img }] };
      return { lines: [...head, "    steps:", "      - uses: actions/checkout@v4", `      - uses: ${quote(`docker://${img}`, s)}${c}`], refs: [{ line: 4, text: img }] };
    });
    return render(["name: ci", "on: [push]", "jobs:"], blocks, newline, withBom, true);
  });

/** The data of a YAML stream with every reference replaced by its pinned text. */
function yamlData(text: string): unknown {
  return parseAllDocuments(text.replace(/^\uFEFF/, ""), { merge: true }).map((d) => d.toJS({ maxAliasCount: -1 }));
}

function replaceAll(value: unknown, from: ReadonlyMap<string, string>): unknown {
  if (typeof value === "string") {
    let out = value;
    for (const [a, b] of from) {
      if (out === a || out === `docker://${a}`) return out.replace(a, b);
      if (out.includes(`:-${a}}`)) out = out.replace(`:-${a}}`, `:-${b}}`);
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => replaceAll(v, from));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceAll(v, from)]));
  return value;
}

/** One digest per distinct reference text (the same image written twice gets the same pin). */
const digestFor = (seed: number, text: string) => `sha256:${hex(`${seed}:${text}`)}`;

function checkPinning(manager: Manager, path: string, bytes: Buffer, expected: Array<{ line: number; text: string }>, seed: number, data: (t: string) => unknown) {
  const refs = manager.extract(bytes, { path }).references;
  checkInvariants(bytes, refs);
  expect(refs.map((r) => ({ line: r.line, text: r.text }))).toEqual(expected);
  expect(refs.every((r) => r.skip === null && r.kind === "image")).toBe(true);

  const pins = new Map(refs.map((r) => [r.text, pinnedTextFor(r, digestFor(seed, r.text))]));
  const out = applyEdits(bytes, refs.map((r) => ({ start: r.start, end: r.end, replacement: pins.get(r.text) as string })));
  const again = manager.extract(out, { path }).references;
  checkInvariants(out, again);
  expect(again.map((r) => [r.line, r.text])).toEqual(refs.map((r) => [r.line, pins.get(r.text)]));
  expect(again.map((r) => r.reference?.digest)).toEqual(refs.map((r) => digestFor(seed, r.text)));
  expect(outside(out, again)).toEqual(outside(bytes, refs));
  // The file still means the same, but for the references.
  expect(data(out.toString("utf8"))).toEqual(replaceAll(data(bytes.toString("utf8")), pins));
}

describe("byte-exact YAML edits", () => {
  it("compose files: every style and layout, pinned in place", () => {
    fc.assert(
      fc.property(composeFile, fc.integer(), ({ bytes, expected }, seed) => checkPinning(composeManager, "docker-compose.yml", bytes, expected, seed, yamlData)),
      runs(150),
    );
  });

  it("Kubernetes manifests: several documents, block and flow containers", () => {
    fc.assert(
      fc.property(manifest, fc.integer(), ({ bytes, expected }, seed) => checkPinning(kubernetesManager, "k8s/app.yaml", bytes, expected, seed, yamlData)),
      runs(100),
    );
  });

  it("workflows: containers, services and docker:// steps", () => {
    fc.assert(
      fc.property(workflow, fc.integer(), ({ bytes, expected }, seed) => checkPinning(githubActionsManager, ".github/workflows/ci.yml", bytes, expected, seed, yamlData)),
      runs(150),
    );
  });
});

/** devcontainer.json: comments of both kinds, trailing commas, any spacing, other keys, CRLF, a BOM. */
const devcontainer = fc
  .record({
    img: image,
    before: fc.array(fc.constantFrom('"name": "x",', "// a comment", '/* "image": "evil:1" */', '"features": {"image": "evil:2"},', ""), { maxLength: 3 }),
    after: fc.array(fc.constantFrom('"runArgs": ["--image", "evil:3"],', "// image", '"x": 1,'), { maxLength: 3 }),
    sp: fc.constantFrom("", " ", "\t", "  "),
    trailingComma: fc.boolean(),
    newline: eol,
    withBom: bom,
  })
  .map(({ img, before, after, sp, trailingComma, newline, withBom }) => {
    const lines = ["{", ...before.map((l) => `  ${l}`), `  "image"${sp}:${sp}"${img}"${trailingComma || after.length > 0 ? "," : ""}`, ...after.map((l) => `  ${l}`), "}"];
    // JSON with comments allows one trailing comma before the closing brace, not a missing one between members.
    if (after.length > 0 && !trailingComma) lines[lines.length - 2] = (lines[lines.length - 2] as string).replace(/,$/, "");
    const text = lines.join(newline) + newline;
    return {
      bytes: Buffer.concat([Buffer.from(withBom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text, "utf8")]),
      expected: [{ line: before.length + 2, text: img }],
    };
  });

describe("byte-exact JSON edits", () => {
  it("devcontainer.json", () => {
    const data = (t: string) => parseJsonc(t.replace(/^\uFEFF/, ""), [], { allowTrailingComma: true }) as unknown;
    fc.assert(
      fc.property(devcontainer, fc.integer(), ({ bytes, expected }, seed) => checkPinning(devcontainerManager, ".devcontainer/devcontainer.json", bytes, expected, seed, data)),
      runs(300),
    );
  });
});

describe("arbitrary input", () => {
  const soup = fc
    .array(fc.constantFrom("services:", "\n", "  ", "image: ", "alpine:3", "'", '"', "&a ", "*a", "<<: ", "{", "}", "[", "]", ", ", "# c", "- ", "---\n", "${X:-", "\r\n", "\t", "é", "containers:", "apiVersion: v1\nkind: Pod\n"), { maxLength: 60 })
    .map((t) => Buffer.from(t.join("")));
  it.each([composeManager, kubernetesManager, githubActionsManager, devcontainerManager].map((m) => [m.id, m] as const))(
    "%s never throws, and pinning what it finds keeps it found",
    (_id, manager: Manager) => {
      fc.assert(
        fc.property(fc.oneof(soup, fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b))), (bytes) => {
          const refs: FoundReference[] = manager.extract(bytes, { path: "deploy/x.yaml" }).references;
          checkInvariants(bytes, refs);
          const pinned = refs.filter((r) => r.skip === null);
          const out = applyEdits(bytes, pinned.map((r) => ({ start: r.start, end: r.end, replacement: pinnedTextFor(r, digestFor(1, r.text)) })));
          const again = manager.extract(out, { path: "deploy/x.yaml" }).references.filter((r) => r.skip === null);
          expect(again.map((r) => r.reference?.digest)).toEqual(pinned.map((r) => digestFor(1, r.text)));
        }),
        runs(300),
      );
    },
  );
});
