// Shipping digest-pin for CI: `npm pack` makes the tarball, and the Action's own steps (action.yml, read with the yaml
// package and run with bash the way the runner runs a composite action: inputs substituted into `env`, GITHUB_ENV
// carried to the next step, GITHUB_OUTPUT collected) install it into an empty folder and check a workspace against a
// real registry. One install serves the whole file (npm may take its packages from the local cache).
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { parseWorkflowCommand } from "../helpers/workflow-commands.js";

const ROOT = new URL("../..", import.meta.url).pathname;

interface Step {
  name: string;
  id?: string;
  shell: string;
  env?: Record<string, string>;
  run: string;
}
interface Action {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

function exec(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { ...options, maxBuffer: 32 << 20, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `${{ inputs.x }}` and the like, as the runner evaluates them (only what action.yml uses). */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => {
    if (!(name in inputs)) throw new Error(`action.yml uses an input it does not declare: ${name}`);
    return inputs[name] ?? "";
  });
}

interface StepRun {
  code: number;
  output: string;
  /** GITHUB_OUTPUT of the step. */
  outputs: Record<string, string>;
}

/** Run one step of the composite action as the runner would: `bash --noprofile --norc -eo pipefail {0}`. */
async function runStep(step: Step, inputs: Record<string, string>, context: { workspace: string; temp: string; env: Record<string, string> }): Promise<StepRun> {
  expect(step.shell).toBe("bash");
  const script = join(context.temp, `step-${Math.random().toString(16).slice(2)}.sh`);
  await writeFile(script, step.run);
  const githubEnv = join(context.temp, "github-env");
  const githubOutput = join(context.temp, `github-output-${Math.random().toString(16).slice(2)}`);
  await writeFile(githubEnv, "", { flag: "a" });
  await writeFile(githubOutput, "");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // The packages come from npm's cache when it has them (the registry is reachable, but need not be asked).
    npm_config_prefer_offline: "true",
    RUNNER_TEMP: context.temp,
    GITHUB_WORKSPACE: context.workspace,
    GITHUB_ENV: githubEnv,
    GITHUB_OUTPUT: githubOutput,
    ...context.env,
    ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v), inputs)])),
  };
  const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd: context.workspace, env });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  // GITHUB_ENV lines become the environment of the steps after this one.
  for (const line of (await readFile(githubEnv, "utf8")).split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) context.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const outputs = Object.fromEntries(
    (await readFile(githubOutput, "utf8"))
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { code, output, outputs };
}

describe("the npm package and the GitHub Action", () => {
  let action: Action;
  let temp: string;
  let tarball: string;
  let installed: { code: number; output: string };
  const context = { workspace: "", temp: "", env: {} as Record<string, string> };
  const defaults = () => Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ""]));

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dist/src/bin.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
    action = parseYaml(await readFile(join(ROOT, "action.yml"), "utf8")) as Action;
    temp = await mkdtemp(join(tmpdir(), "digest-pin-package-"));
    // The build is fresh (npm test builds first): skip prepack's rebuild here.
    const packed = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", temp], { cwd: ROOT });
    expect(packed.code).toBe(0);
    tarball = join(temp, (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename ?? "");
    context.workspace = join(temp, "workspace");
    context.temp = join(temp, "runner-temp");
    await mkdir(context.workspace, { recursive: true });
    await mkdir(context.temp, { recursive: true });
    const install = action.runs.steps[0] as Step;
    installed = await runStep(install, { ...defaults(), package: tarball }, context);
  }, 120_000);

  afterAll(async () => {
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  it("packs the built code, the README, the LICENSE and app.yml, and nothing private", async () => {
    const listed = await exec("tar", ["-tzf", tarball]);
    const files = listed.stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "app.yml", "dist/src/bin.js", "dist/src/app/main.js"]));
    expect(files.filter((f) => !/^dist\/src\/.*\.js$/.test(f) && !["package.json", "README.md", "LICENSE", "app.yml", ".env.example"].includes(f))).toEqual([]);
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { private?: boolean; license: string; bin: Record<string, string> };
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe("MIT");
    expect(await readFile(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
    expect(files).toContain(pkg.bin["digest-pin"]);
  });

  it("installs in an empty folder and gives a working `npx digest-pin`", async () => {
    expect(installed.code, installed.output).toBe(0);
    const prefix = join(context.temp, "digest-pin");
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_prefer_offline: "true", npm_config_yes: "false" };
    const help = await exec("npx", ["--no-install", "digest-pin", "--help"], { cwd: prefix, env });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: digest-pin <command>/);
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect((await exec("npx", ["--no-install", "digest-pin", "--version"], { cwd: prefix, env })).stdout).toBe(`${pkg.version}\n`);
    const fixture = join(temp, "fixture");
    await mkdir(fixture, { recursive: true });
    await writeFile(join(fixture, "Dockerfile"), "FROM python:3.12-slim AS build\nFROM scratch\nCOPY --from=build /app /app\n");
    const scan = await exec(context.env.DIGEST_PIN_BIN ?? "", ["scan", fixture, "--json"], { env });
    expect(scan.code, scan.stderr).toBe(0);
    expect(JSON.parse(scan.stdout)).toMatchObject({ files: [{ path: "Dockerfile", references: [{ text: "python:3.12-slim", digest: null }] }] });
  });

  it("defaults to the package of its own version", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
    expect(action.inputs.package?.default).toBe(`${pkg.name}@${pkg.version}`);
    expect(action.runs.using).toBe("composite");
  });

  const availability = registryAvailability();
  if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
    throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
  }
  describe.skipIf(!availability.available)("the Action's check against a real registry", () => {
    let registry: LocalRegistry;
    let oldDigest: string;
    let newDigest: string;

    beforeAll(async () => {
      registry = await LocalRegistry.start();
      oldDigest = (await registry.pushImage("library/python", "3.12", { kind: "oci-index" })).digest;
      newDigest = (await registry.pushImage("library/python", "3.12", { kind: "oci-index", platforms: ["linux/arm64"] })).digest;
      await registry.pushImage("tools/lint", "2", { kind: "docker-manifest" });
      const services = join(context.workspace, "services", "api");
      await mkdir(services, { recursive: true });
      await writeFile(
        join(services, "Dockerfile"),
        `FROM ${registry.host}/library/python:3.12@${oldDigest}\nCOPY --from=${registry.host}/tools/lint:2 /lint /lint\n`,
      );
    });
    afterAll(async () => {
      await registry?.stop();
    });

    const check = (inputs: Record<string, string>) =>
      runStep(action.runs.steps[1] as Step, { ...defaults(), path: "services", "insecure-registries": registry.host, ...inputs }, context);

    it("annotates unpinned references as errors and drift as warnings, at their files and lines, and fails", async () => {
      expect(newDigest).not.toBe(oldDigest);
      const run = await check({});
      expect(run.code, run.output).toBe(1);
      const commands = run.output
        .split("\n")
        .map(parseWorkflowCommand)
        .filter((c) => c !== null)
        .sort((a, b) => Number(a.props.line) - Number(b.props.line));
      expect(commands).toEqual([
        {
          level: "warning",
          props: { file: "services/api/Dockerfile", line: "1", title: "Image digest drifted" },
          message: `${registry.host}/library/python:3.12 now points to ${newDigest} (pinned: ${oldDigest}); refresh it to ${registry.host}/library/python:3.12@${newDigest}`,
        },
        {
          level: "error",
          props: { file: "services/api/Dockerfile", line: "2", title: "Unpinned image" },
          message: expect.stringContaining(`${registry.host}/tools/lint:2 is not pinned to a digest; pin it to ${registry.host}/tools/lint:2@sha256:`),
        },
      ]);
      expect(run.outputs).toEqual({ unpinned: "1", drifted: "1", errors: "0" });
    });

    it("passes with warnings when told not to fail on unpinned references, and fails on drift when told to", async () => {
      const lenient = await check({ "fail-on-unpinned": "false" });
      expect(lenient.code, lenient.output).toBe(0);
      expect(lenient.output).toContain("::error file=services/api/Dockerfile,line=2,title=Unpinned image::");
      const strict = await check({ "fail-on-unpinned": "false", "fail-on-drift": "true" });
      expect(strict.code).toBe(1);
    });

    it("fails when a reference cannot be resolved, and says so at its line", async () => {
      const run = await check({ "insecure-registries": "" });
      expect(run.code).toBe(2);
      expect(run.outputs.errors).toBe("2");
      expect(run.output).toMatch(/^::error file=services\/api\/Dockerfile,line=1,title=Could not resolve image::/m);
    });
  });
});
