import { describe, expect, it } from "vitest";
import { githubActionsManager } from "../../src/managers/github-actions.js";
import { brief, checkInvariants, digest, extractWith, fixture, pinAndRescan } from "./helpers.js";

const D = digest;
const PATH = ".github/workflows/ci.yml";
const extract = (text: string) => extractWith(githubActionsManager, text, PATH);

describe("github-actions: a realistic CI workflow", () => {
  const bytes = fixture("github-actions", PATH);
  const result = githubActionsManager.extract(bytes, { path: PATH });

  it("finds job containers (string and .image), services (string and .image) and docker:// steps", () => {
    checkInvariants(bytes, result.references);
    expect(brief(result.references)).toEqual([
      [13, "node:20.15-bookworm", null],
      [16, "postgres:16.3", null],
      [22, "redis:7.2-alpine", null],
      [30, "ghcr.io/acme/lint-tools:2024.06", null],
      [34, "hadolint/hadolint:v2.12.0-alpine", null],
      [37, "koalaman/shellcheck:v0.10.0", null],
      [44, "node:${{ matrix.node }}-alpine", "variable"],
    ]);
  });

  it("pins in place, after docker:// and inside quotes", () => {
    const text = pinAndRescan(githubActionsManager, PATH, bytes, D).out.toString();
    expect(text).toContain(`    container: node:20.15-bookworm@${D(0)}\n`);
    expect(text).toContain(`      image: "ghcr.io/acme/lint-tools:2024.06@${D(3)}"\n`);
    expect(text).toContain(`      - uses: docker://hadolint/hadolint:v2.12.0-alpine@${D(4)}\n`);
    expect(text).toContain(`      - uses: 'docker://koalaman/shellcheck:v0.10.0@${D(5)}' # shell scripts\n`);
    expect(text).toContain("      - uses: actions/checkout@v4\n");
  });

  it("collects build arguments: build-push-action's for its file, --build-arg in run: for any Dockerfile", () => {
    expect(result.buildArgs).toEqual([
      { name: "GO_VERSION", path: PATH, line: 61, via: "docker/build-push-action build-args", dockerfile: "docker/api.Dockerfile" },
      { name: "VERSION", path: PATH, line: 62, via: "docker/build-push-action build-args", dockerfile: "docker/api.Dockerfile" },
      { name: "ALPINE_VERSION", path: PATH, line: 66, via: "--build-arg in a run step" },
    ]);
  });

  it("does not parse a workflow that mentions none of its keys", () => {
    const path = ".github/workflows/release.yaml";
    expect(githubActionsManager.extract(fixture("github-actions", path), { path })).toEqual({ references: [] });
  });
});

describe("github-actions details", () => {
  it("takes build-push-action's Dockerfile from context, else the repository root", () => {
    const step = (inputs: string) =>
      extract(`jobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n${inputs}          build-args: "A=1"\n`)
        .buildArgs?.map((b) => b.dockerfile);
    expect(step("          context: ./services/api\n")).toEqual(["services/api/Dockerfile"]);
    expect(step("")).toEqual(["Dockerfile"]);
    expect(step("          file: ${{ matrix.file }}\n")).toEqual([undefined]);
  });

  it("skips expressions, and reads a service given as a bare string", () => {
    const file = "jobs:\n  a:\n    container:\n      image: ${{ inputs.image }}\n    services:\n      cache: 'memcached:1.6'\n";
    expect(brief(extract(file).references)).toEqual([
      [4, "${{ inputs.image }}", "variable"],
      [6, "memcached:1.6", null],
    ]);
  });

  it.each([
    [".github/workflows/ci.yml", true],
    [".github/workflows/release.yaml", true],
    [".github/workflows/sub/ci.yml", false],
    [".github/dependabot.yml", false],
    ["workflows/ci.yml", false],
  ])("claims %s: %s", (path, claimed) => {
    expect(githubActionsManager.claims(path)).toBe(claimed);
  });
});
