// Hostile YAML and JSON: repository content controls these files. Every manager answers each one in bounded time,
// never throws, and says why it did not read a file it refused.

import { describe, expect, it } from "vitest";
import { MANAGERS } from "../../src/managers/index.js";
import { MAX_REFERENCES, MAX_YAML_DOCUMENTS, MAX_YAML_NODES } from "../../src/managers/limits.js";
import type { Manager } from "../../src/managers/types.js";
import { checkInvariants } from "./helpers.js";

/** A sanity bound, not a benchmark: the slowest case here takes about a tenth of it alone. */
const PER_FILE_MS = 2_000;
const KIB = 1024;

const PATHS: Record<string, string> = {
  compose: "docker-compose.yml",
  kubernetes: "deploy/app.yaml",
  "github-actions": ".github/workflows/ci.yml",
  "gitlab-ci": ".gitlab-ci.yml",
  devcontainer: ".devcontainer/devcontainer.json",
  dockerfile: "Dockerfile",
};

/** Billion laughs: nine levels of nine aliases, reached from every place a manager looks for an image. */
function laughs(): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`);
  lines.push(
    "services: {x: {image: *a9}, y: *a9, z: {<<: [*a9, *a9]}}",
    "jobs: {j: {container: *a9, services: *a9, steps: *a9}}",
    "default: {image: *a9, services: *a9}",
    "apiVersion: v1",
    "kind: List",
    "items: *a9",
    "images: *a9",
  );
  return `${lines.join("\n")}\n`;
}

/** Merge keys that would fan out 10^10 times if followed blindly. */
function mergeBomb(): string {
  const lines = ["m0: &m0 {image: 'alpine:3'}"];
  for (let i = 1; i <= 10; i++) lines.push(`m${i}: &m${i} {<<: [${Array(10).fill(`*m${i - 1}`).join(", ")}]}`);
  lines.push("services: {a: *m10, b: {<<: *m10}}");
  return `${lines.join("\n")}\n`;
}

const CASES: Record<string, string | Buffer> = {
  "billion laughs": laughs(),
  "a merge-key bomb": mergeBomb(),
  "100,000 nested flow sequences": `image: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
  "50,000 nested flow maps": `services: ${"{a: ".repeat(50_000)}${"}".repeat(50_000)}\n`,
  "700 lines each indented one more": Array.from({ length: 700 }, (_, i) => `${" ".repeat(i)}image:`).join("\n"),
  "a 1 MiB line": `image: ${"a".repeat(1024 * KIB)}\n`,
  "a 250 KiB line": `services: {a: {image: "${"a".repeat(250 * KIB)}"}}\n`,
  "a 250 KiB flow sequence of one-letter items": `image: [${"a,".repeat(125 * KIB)}a]\n`,
  "flow items just under the bound": `image: [${"a,".repeat(MAX_YAML_NODES - 10)}a]\n`,
  "a block mapping just under the bound": `services:\n${Array.from({ length: MAX_YAML_NODES - 10 }, (_, i) => `  s${i}: {}`).join("\n")}\n`,
  "a 250 KiB line of dashes": `${"- ".repeat(125 * KIB)}image\n`,
  "documents past the bound": `${"image: a\n---\n".repeat(MAX_YAML_DOCUMENTS + 10)}`,
  "references past the bound": `services:\n${Array.from({ length: MAX_REFERENCES + 5 }, (_, i) => `  s${i}: {image: "a:${i}"}`).join("\n")}\n`,
  "invalid UTF-8": Buffer.from([0x69, 0x6d, 0x61, 0x67, 0x65, 0x3a, 0x20, 0xc3, 0x28, 0x0a]),
  "NUL bytes": Buffer.from("services:\n  a:\n    image: \"al\u0000pine:3\"\n"),
  "an unterminated quote": 'services:\n  a:\n    image: "alpine:3\n',
  "tabs as indentation": "services:\n\ta:\n\t\timage: alpine:3\n",
  "JSON nested 100,000 deep": `{"image": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
  "a 1 MiB JSON string": `{"image": "${"a".repeat(1024 * KIB)}"}`,
};

function run(manager: Manager, bytes: Buffer) {
  const started = performance.now();
  const out = manager.extract(bytes, { path: PATHS[manager.id] as string });
  const ms = performance.now() - started;
  checkInvariants(bytes, out.references);
  return { out, ms };
}

describe.each(MANAGERS.map((m) => [m.id, m] as const))("%s on hostile files", (_id, manager) => {
  it.each(Object.keys(CASES))("%s: bounded, never throws", (name) => {
    const bytes = Buffer.from(CASES[name] as string | Buffer);
    const { out, ms } = run(manager, bytes);
    expect(ms, `${name} took ${Math.round(ms)} ms`).toBeLessThan(PER_FILE_MS);
    if (out.skipped) expect(out.skipped.detail.length).toBeGreaterThan(0);
    expect(out.references.length).toBeLessThanOrEqual(MAX_REFERENCES);
  });
});

describe("what the bounds say", () => {
  const compose = MANAGERS.find((m) => m.id === "compose") as Manager;
  const skip = (name: string) => compose.extract(Buffer.from(CASES[name] as string | Buffer), { path: "compose.yaml" }).skipped;

  it.each([
    ["100,000 nested flow sequences", "too-complex", /nested more than 64/],
    ["700 lines each indented one more", "too-complex", /nested more than 256/],
    ["a 250 KiB flow sequence of one-letter items", "too-complex", /more than 10000 lines and flow items/],
    ["a 1 MiB line", "too-large", /larger than 256 KiB/],
    ["documents past the bound", "too-complex", /more than 500 YAML documents/],
    ["references past the bound", "too-complex", /more than 1000 image references/],
    ["invalid UTF-8", "unreadable", /not valid UTF-8/],
    ["an unterminated quote", "unreadable", /not valid YAML \(line 4\): Missing closing "quote/],
    ["tabs as indentation", "unreadable", /not valid YAML/],
  ])("%s: %s", (name, reason, detail) => {
    expect(skip(name)).toEqual({ reason, detail: expect.stringMatching(detail) });
  });

  it("follows aliases and merges only so far, and finds what a sane file has", () => {
    expect(skip("billion laughs")).toBeUndefined();
    const bomb = compose.extract(Buffer.from(mergeBomb()), { path: "compose.yaml" });
    expect(bomb.skipped?.reason ?? bomb.references.map((r) => r.text).join()).toMatch(/^(too-complex|alpine:3)$/);
  });
});
