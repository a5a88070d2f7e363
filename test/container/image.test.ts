// The container image, without a container engine: the Dockerfile's runtime stage read with dockerfile-ast (what the
// scanner is built on), and what it promises checked on the real processes it would run: the built entry point with the
// stage's environment listens where `docker run -p` can reach it, its HEALTHCHECK command passes against it (and fails
// with nothing there), and arguments run the CLI.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startAppProcess, type AppProcess } from "../../bench/harness/app-process.js";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { checkout } from "../helpers/cli.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const ENTRYPOINT = `${ROOT}dist/src/entrypoint.js`;

interface RuntimeStage {
  env: Record<string, string>;
  expose: string[];
  healthcheck: string;
  entrypoint: string[];
  cmd: string[];
}

/** The last stage of the Dockerfile: what the image runs. */
async function runtimeStage(): Promise<RuntimeStage> {
  const dockerfile = DockerfileParser.parse(await readFile(`${ROOT}Dockerfile`, "utf8"));
  const all = dockerfile.getInstructions();
  const from = all.map((i) => i.getKeyword()).lastIndexOf("FROM");
  const stage = all.slice(from);
  const of = (keyword: string): Instruction[] => stage.filter((i) => i.getKeyword() === keyword);
  const env: Record<string, string> = {};
  for (const i of of("ENV")) {
    for (const p of (i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      env[p.getName()] = p.getValue() ?? "";
    }
  }
  const healthcheck = (of("HEALTHCHECK")[0]?.getArgumentsContent() ?? "").replace(/^CMD\s+/, "");
  const json = (keyword: string) => JSON.parse(of(keyword).at(-1)?.getArgumentsContent() ?? "null") as string[];
  return {
    env,
    expose: of("EXPOSE").flatMap((i) => (i.getArgumentsContent() ?? "").split(/\s+/)),
    healthcheck,
    entrypoint: json("ENTRYPOINT"),
    cmd: json("CMD"),
  };
}

/** Run the HEALTHCHECK command as Docker would (shell form, in the container's environment); its exit code. */
function healthcheck(command: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", command], { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 }, (error) =>
      resolve(error ? Number(error.code ?? 1) : 0),
    );
  });
}

function run(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ENTRYPOINT, ...args], { env: { PATH: process.env.PATH }, timeout: 30_000 }, (error, stdout) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

describe("the container image", () => {
  let stage: RuntimeStage;
  let gh: FakeGitHub;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    stage = await runtimeStage();
    gh = await FakeGitHub.start();
  });
  afterAll(async () => {
    await app?.stop();
    await gh?.close();
  });

  it("runs the entry point the build produces: no arguments the app, any arguments the CLI", async () => {
    expect(stage.entrypoint).toEqual(["node", "dist/src/entrypoint.js"]);
    expect(stage.cmd).toEqual([]);
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, "utf8")) as { version: string };
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n` });
    const dir = await checkout({ Dockerfile: "FROM alpine:3.20\n" });
    const scan = await run(["scan", dir, "--json"]);
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout)).toMatchObject({ files: [{ path: "Dockerfile", references: [{ text: "alpine:3.20" }] }] });
  });

  it("listens on every interface, on the port it exposes, and its health check passes against it", async () => {
    expect(stage.env.HOST).toBe("0.0.0.0");
    expect(stage.expose).toEqual([stage.env.PORT]);
    // The stage's environment as the image sets it, on a free port (the health check reads the same PORT).
    const port = String(await freePort());
    const env = { ...stage.env, PORT: port };
    expect(await healthcheck(stage.healthcheck, env)).toBe(1);
    app = await startAppProcess(gh.host, env, { script: ENTRYPOINT, port: Number(port) });
    expect(await healthcheck(stage.healthcheck, env)).toBe(0);
    if (outside) {
      // What `docker run -p` forwards to: the container's own address, not its loopback.
      const response = await fetch(`http://${outside}:${port}/healthz`);
      expect(response.status).toBe(200);
    } else {
      expect(app.output()).toContain(`Listening on http://0.0.0.0:${port}`);
    }
  });

  it.skipIf(!outside)("is out of reach from outside when it listens on loopback (what HOST=0.0.0.0 fixes)", async () => {
    const port = await freePort();
    const local = await startAppProcess(gh.host, { ...stage.env, HOST: "127.0.0.1", PORT: String(port) }, { script: ENTRYPOINT, port });
    try {
      await expect(fetch(`http://${outside}:${port}/healthz`)).rejects.toThrow();
    } finally {
      await local.stop();
    }
  });
});
