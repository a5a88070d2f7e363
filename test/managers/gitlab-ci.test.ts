import { describe, expect, it } from "vitest";
import { gitlabCiManager } from "../../src/managers/gitlab-ci.js";
import { scanFiles } from "../../src/managers/scan.js";
import { brief, checkInvariants, digest, fixture, fixtures, pinAndRescan } from "./helpers.js";

const D = digest;
const PATH = ".gitlab-ci.yml";

describe("gitlab-ci: a realistic pipeline", () => {
  const bytes = fixture("gitlab-ci", PATH);
  const result = gitlabCiManager.extract(bytes, { path: PATH });

  it("finds default:, job and anchored images and services, string or name:", () => {
    checkInvariants(bytes, result.references);
    expect(brief(result.references)).toEqual([
      [11, "node:20.15-bookworm", null],
      [13, "postgres:16.3", null],
      [23, "docker:26.1", null], // the .docker anchor, merged into build: one reference
      [25, "docker:26.1-dind", null],
      [36, "hadolint/hadolint:v2.12.0-debian", null],
      [48, "$CI_REGISTRY/acme/scanner:latest", "variable"],
    ]);
  });

  it("lists local includes only (no project, remote or template includes)", () => {
    expect(result.includes).toEqual([".gitlab/ci/build.yml", "ci/deploy.yml"]);
  });

  it("collects --build-arg from scripts", () => {
    expect(result.buildArgs).toEqual([{ name: "NODE_VERSION", path: PATH, line: 44, via: "--build-arg in script" }]);
  });

  it("pins in place", () => {
    const text = pinAndRescan(gitlabCiManager, PATH, bytes, D).out.toString();
    expect(text).toContain(`    - name: postgres:16.3@${D(1)}\n      alias: db\n`);
    expect(text).toContain(`    name: "hadolint/hadolint:v2.12.0-debian@${D(4)}"\n`);
  });

  it("reads the included files with the GitLab CI manager, whatever their paths", () => {
    const files = [...fixtures("gitlab-ci")].map(([path, content]) => ({ path, content }));
    const scan = scanFiles(files);
    expect(scan.files.map((f) => [f.path, f.manager, f.references.map((r) => r.text)])).toEqual([
      [".gitlab/ci/build.yml", "gitlab-ci", ["python:3.12-slim"]],
      [".gitlab-ci.yml", "gitlab-ci", result.references.map((r) => r.text)],
      ["ci/deploy.yml", "gitlab-ci", ["alpine/helm:3.15.2", "redis:7.2"]],
    ]);
    expect(scan.missingIncludes).toEqual([]);
    expect(scanFiles(files.filter((f) => f.path !== "ci/deploy.yml")).missingIncludes).toEqual(["ci/deploy.yml"]);
  });

  it.each([
    [".gitlab-ci.yml", true],
    ["templates/build.gitlab-ci.yml", true],
    [".gitlab/ci/lint.yaml", true],
    ["ci/deploy.yml", false],
    ["gitlab-ci.yml", false],
  ])("claims %s: %s", (path, claimed) => {
    expect(gitlabCiManager.claims(path)).toBe(claimed);
  });
});
