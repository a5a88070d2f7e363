import { describe, expect, it } from "vitest";
import { DEFAULT_MANAGERS, normalizeManagers, managersSchema, type ManagersConfig } from "../../src/managers/config.js";
import { compileGlobs, globProblem } from "../../src/managers/glob.js";
import { managerFor, MANAGERS, selectManagers } from "../../src/managers/index.js";
import { scanFiles, scanFilesAsync, type FileInput } from "../../src/managers/scan.js";
import { fixture } from "./helpers.js";

const config = (input: unknown): ManagersConfig => normalizeManagers(managersSchema.parse(input));
const file = (path: string, text: string | Buffer): FileInput => ({ path, content: Buffer.from(text) });

describe("managerFor", () => {
  it.each([
    ["Dockerfile", "dockerfile"],
    ["services/api/Containerfile.prod", "dockerfile"],
    [".github/workflows/ci.yml", "github-actions"],
    [".gitlab-ci.yml", "gitlab-ci"],
    ["deploy/docker-compose.yml", "compose"],
    [".devcontainer/devcontainer.json", "devcontainer"],
    ["deploy/k8s/api.yaml", "kubernetes"],
    ["README.md", null],
    ["src/config.yaml", null],
  ])("%s → %s", (path, id) => {
    expect(managerFor(path)?.id ?? null).toBe(id);
  });

  it("switches managers off, adds paths, and drops the defaults on request", () => {
    const c = config({ compose: false, kubernetes: { paths: ["ops/**/*.yaml", "apps/*/values-*.yml"] }, dockerfile: { paths: ["images/*.build"], defaultPaths: false } });
    expect(managerFor("docker-compose.yml", c)).toBeNull();
    // A path whose own manager is off is not taken by another one (here: kubernetes claims deploy/).
    expect(managerFor("deploy/docker-compose.yml", c)).toBeNull();
    expect(managerFor("ops/app.yaml", c)?.id).toBe("kubernetes");
    expect(managerFor("apps/web/values-prod.yml", c)?.id).toBe("kubernetes");
    expect(managerFor("deploy/k8s/api.yaml", c)?.id).toBe("kubernetes");
    expect(managerFor("Dockerfile", c)).toBeNull();
    expect(managerFor("images/base.build", c)?.id).toBe("dockerfile");
  });

  it("still reads workflows and compose files for build arguments when their managers are off", () => {
    const selection = selectManagers(config({ compose: false, "github-actions": false }));
    expect(selection.managerFor(".github/workflows/ci.yml")).toBeNull();
    expect(selection.buildArgSourceFor(".github/workflows/ci.yml")?.id).toBe("github-actions");
    expect(selection.wanted("docker-compose.yml")).toBe(true);
    expect(selectManagers(config({ compose: false, dockerfile: false })).wanted("docker-compose.yml")).toBe(false);
  });

  it("has each manager's default paths agree with its fast check", () => {
    const paths = [
      "Dockerfile", "a/b.Dockerfile", "x/Dockerfile.dev", ".github/workflows/ci.yml", ".github/workflows/a/b.yml",
      ".gitlab-ci.yml", "ci/x.gitlab-ci.yaml", ".gitlab/ci/a/b.yml", "compose.yaml", "a/docker-compose.test.yml",
      ".devcontainer.json", ".devcontainer/x/devcontainer.json", "k8s/a.yaml", "a/deploy/b/c.yml", "kustomization.yaml",
      "a/config/manager/m.yaml", "config/other/m.yaml", "src/app.yaml", "deploy/notes.txt", "a/rendered/all.yaml",
    ];
    for (const m of MANAGERS) {
      const globs = compileGlobs(m.defaultPaths);
      for (const p of paths) expect([m.id, p, globs(p)]).toEqual([m.id, p, m.claims(p)]);
    }
  });
});

describe("the managers config", () => {
  it("defaults every manager on, at its default paths", () => {
    expect(config(undefined)).toEqual(DEFAULT_MANAGERS);
    expect(config({ "gitlab-ci": false })["gitlab-ci"]).toEqual({ enabled: false, paths: [], defaultPaths: true });
  });

  it.each([
    [{ helm: true }, /Unrecognized key/],
    [{ compose: "yes" }, /must be true, false, or a map/],
    [{ compose: { paths: "x.yml" } }, /Expected array/],
    [{ compose: { enable: false } }, /Unrecognized key/],
    [{ kubernetes: { paths: ["a{b"] } }, /unbalanced/],
    [{ kubernetes: { paths: ["x".repeat(300)] } }, /longer than 256/],
    [{ kubernetes: { paths: Array(51).fill("a") } }, /at most 50/],
  ])("refuses %j", (input, message) => {
    const parsed = managersSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join("; ")).toMatch(message);
  });
});

describe("globs", () => {
  it.each([
    ["**/k8s/**/*.{yaml,yml}", "k8s/a.yaml", true],
    ["**/k8s/**/*.{yaml,yml}", "x/k8s/y/z/a.yml", true],
    ["**/k8s/**/*.{yaml,yml}", "k8sx/a.yaml", false],
    ["deploy/*.yaml", "deploy/a/b.yaml", false],
    ["deploy/?.yaml", "deploy/a.yaml", true],
    ["./ops/**", "ops/a/b", true],
    [".github/workflows/*.yml", ".github/workflows/ci.yml", true],
    ["*.yml", "a/b.yml", false],
  ])("%s matches %s: %s", (glob, path, matches) => {
    expect(compileGlobs([glob])(path)).toBe(matches);
  });

  it("answers patterns that make a regular-expression matcher backtrack without backtracking", () => {
    // picomatch takes about 40 s for this pattern and path; here it is a handful of steps per character.
    const path = `${"a/".repeat(50)}${"a".repeat(200)}`;
    expect(compileGlobs(["**/*a*a*a*a*a*a*a*a*a*a*b"])(path)).toBe(false);
    expect(compileGlobs(["**/*a*a*a*a*a*a*a*a*a*a*"])(path)).toBe(true);
  });

  it("refuses what it cannot bound", () => {
    expect(globProblem("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}")).toMatch(/more than 64/);
    expect(globProblem("")).toMatch(/empty/);
    expect(globProblem("a/{b,c}/*.yaml")).toBeNull();
  });
});

describe("scanFiles", () => {
  const workflow = fixture("github-actions", ".github/workflows/ci.yml");
  const files = [
    file("docker/api.Dockerfile", "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}-alpine AS build\nFROM alpine:3.20\n"),
    file("worker/Dockerfile", "ARG ALPINE_VERSION=3.19\nFROM alpine:${ALPINE_VERSION}\n"),
    file("tools/Dockerfile", "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}\n"),
    file(".github/workflows/ci.yml", workflow),
    file("docs/readme.md", "FROM nothing\n"),
  ];

  it("gives Dockerfiles the build arguments the rest of the repository passes, for the Dockerfile it passes them to", () => {
    const scan = scanFiles(files);
    expect(scan.files.map((f) => [f.path, f.manager])).toEqual([
      ["docker/api.Dockerfile", "dockerfile"],
      ["worker/Dockerfile", "dockerfile"],
      ["tools/Dockerfile", "dockerfile"],
      [".github/workflows/ci.yml", "github-actions"],
    ]);
    const refs = (path: string) => scan.files.find((f) => f.path === path)?.references.map((r) => [r.text, r.skip]);
    expect(refs("docker/api.Dockerfile")).toEqual([
      ["golang:${GO_VERSION}-alpine", "build-arg"],
      ["alpine:3.20", null],
    ]);
    // ALPINE_VERSION is passed by a `docker build` in a run step: it may be any Dockerfile.
    expect(refs("worker/Dockerfile")).toEqual([["alpine:${ALPINE_VERSION}", "build-arg"]]);
    // GO_VERSION goes to docker/api.Dockerfile only.
    expect(refs("tools/Dockerfile")).toEqual([["golang:${GO_VERSION}", null]]);
    const skipped = scan.files[0]?.references[0];
    expect(skipped?.skipDetail).toBe(
      "GO_VERSION is passed at build time (.github/workflows/ci.yml line 61, docker/build-push-action build-args): a digest here would silently override it",
    );
  });

  it("reports files its managers did not read, and gives the same answer asynchronously", async () => {
    const big = file("k8s/big.yaml", `image: ${"a".repeat(300 * 1024)}\n`);
    const scan = scanFiles([...files, big]);
    expect(scan.skipped).toEqual([{ path: "k8s/big.yaml", manager: "kubernetes", reason: "too-large", detail: expect.stringMatching(/larger than 256 KiB/) }]);
    expect(await scanFilesAsync([...files, big], DEFAULT_MANAGERS, 0)).toEqual(scan);
  });
});
