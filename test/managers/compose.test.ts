import { describe, expect, it } from "vitest";
import { applyEdits } from "../../src/dockerfile/rewrite.js";
import { composeManager } from "../../src/managers/compose.js";
import { brief, checkInvariants, digest, extractWith, fixture, pinAndRescan, pinEdit } from "./helpers.js";

const D = digest;
const extract = (text: string, path = "docker-compose.yml") => extractWith(composeManager, text, path);

describe("compose: a realistic docker-compose.yml", () => {
  const bytes = fixture("compose", "docker-compose.yml");
  const result = composeManager.extract(bytes, { path: "docker-compose.yml" });

  it("finds every service image once, with its exact bytes", () => {
    checkInvariants(bytes, result.references);
    expect(brief(result.references)).toEqual([
      [11, "ghcr.io/acme/shop-worker:2.14.0", null], // the x-worker anchor, merged into two services: one reference
      [19, "postgres:16.3-alpine", null],
      [29, "redis:7.2", null],
      [33, "nginx:1.27-alpine", null], // the default of ${PROXY_IMAGE:-…}, pinned in place
      [55, expect.stringContaining("elasticsearch:8.14.1@sha256:"), null],
      [60, "mailhog/mailhog:latest", "ignored-inline"],
      [63, "${TOOLS_IMAGE}", "variable"],
      [67, "ghcr.io/acme/shop-migrate:${TAG:-latest}", "variable"],
    ]);
    expect(result.references.every((r) => r.kind === "image")).toBe(true);
  });

  it("leaves the image of a service with build: alone (it names what compose builds), and reads its build args", () => {
    expect(result.references.some((r) => r.text.includes("shop-web"))).toBe(false);
    expect(result.buildArgs).toEqual([
      { name: "NODE_VERSION", path: "docker-compose.yml", line: 42, via: "compose build.args", dockerfile: "web/docker/Dockerfile.dev" },
      { name: "APP_ENV", path: "docker-compose.yml", line: 43, via: "compose build.args", dockerfile: "web/docker/Dockerfile.dev" },
    ]);
  });

  it("pins in place: quotes, comments, anchors and the ${VAR:-default} around the default stay byte for byte", () => {
    const { out } = pinAndRescan(composeManager, "docker-compose.yml", bytes, D);
    const text = out.toString();
    expect(text).toContain(`  image: ghcr.io/acme/shop-worker:2.14.0@${D(0)}   # shared by every worker below\n`);
    expect(text).toContain(`    image: "postgres:16.3-alpine@${D(1)}"\n`);
    expect(text).toContain(`    image: 'redis:7.2@${D(2)}'\n`);
    expect(text).toContain(`    image: \${PROXY_IMAGE:-nginx:1.27-alpine@${D(3)}}\n`);
    expect(text).toContain("    image: mailhog/mailhog:latest\n");
    // Everything but the five references is unchanged.
    const refs = result.references.filter((r) => r.skip === null);
    let expected = bytes.toString();
    for (const [i, r] of [...refs.entries()].reverse()) expected = expected.slice(0, r.start) + pinEdit(r, D(i)).replacement + expected.slice(r.end);
    expect(text).toBe(expected);
  });
});

describe("compose: flow style, block scalars and build strings", () => {
  const bytes = fixture("compose", "compose.override.yaml");
  const result = composeManager.extract(bytes, { path: "compose.override.yaml" });

  it("reads flow mappings and reports a folded scalar without rewriting it", () => {
    checkInvariants(bytes, result.references);
    expect(brief(result.references)).toEqual([
      [6, "adminer:4.8.1", null],
      [9, "quay.io/minio/minio:RELEASE.2024-06-13T22-53-53Z", "multiline"],
    ]);
    const out = applyEdits(bytes, [pinEdit(result.references[0]!, D(1))]).toString();
    expect(out).toContain(`  adminer: {image: adminer:4.8.1@${D(1)}, ports: ["8081:8080"]}\n`);
  });

  it("takes `build: ./dir` as a context with no build args", () => {
    expect(result.buildArgs).toBeUndefined();
  });
});

describe("compose interpolation", () => {
  it.each([
    ["${IMG:-alpine:3}", "alpine:3", null],
    ["${IMG-alpine:3}", "alpine:3", null],
    ['"${IMG:-alpine:3}"', "alpine:3", null],
    ["$IMG", "$IMG", "variable"],
    ["${IMG}", "${IMG}", "variable"],
    ["${IMG:?set IMG}", "${IMG:?set IMG}", "variable"],
    ["${REG:-docker.io}/library/alpine:3", "${REG:-docker.io}/library/alpine:3", "variable"],
    ["${IMG:-}", "", "invalid"],
    ["a$$b:1", "a$$b:1", "invalid"],
  ])("image: %s", (value, text, skip) => {
    const [ref] = extract(`services:\n  a:\n    image: ${value}\n`).references;
    expect([ref?.text, ref?.skip]).toEqual([text, skip]);
  });

  it("reads list-form build args, a remote context as none, and an unknown Dockerfile as any", () => {
    const file = [
      "services:",
      "  a:",
      "    build: { context: ., args: [GO_VERSION=1.22, DEBUG] }",
      "  b:",
      "    build: { context: 'https://github.com/acme/b.git', args: { X: 1 } }",
      "  c:",
      "    build: { context: '${CTX}', args: { Y: 1 } }",
      "",
    ].join("\n");
    expect(extract(file, "app/compose.yaml").buildArgs?.map((a) => [a.name, a.dockerfile])).toEqual([
      ["GO_VERSION", "app/Dockerfile"],
      ["DEBUG", "app/Dockerfile"],
      ["Y", undefined],
    ]);
  });

  it("follows aliases and merge lists, and skips a file it cannot read", () => {
    const file = "x-a: &a {image: 'a:1'}\nx-b: &b {restart: always}\nservices:\n  s: {<<: [*b, *a]}\n  t: *a\n";
    expect(brief(extract(file).references)).toEqual([[1, "a:1", null]]);
    expect(extract("services:\n  a: [image: x\n").skipped?.reason).toBe("unreadable");
    expect(extract("services:\n  a:\n    image: \"\\xff\"\n").references[0]?.skip).toBe("invalid");
  });
});

describe("compose paths", () => {
  it.each([
    ["docker-compose.yml", true],
    ["docker-compose.yaml", true],
    ["deploy/docker-compose.prod.yml", true],
    ["compose.yaml", true],
    ["compose.override.yml", true],
    ["my-compose.yml", false],
    ["compose.json", false],
    ["docker-compose.yml.bak", false],
  ])("%s: %s", (path, claimed) => {
    expect(composeManager.claims(path)).toBe(claimed);
  });
});
