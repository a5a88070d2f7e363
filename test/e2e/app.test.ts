// End to end: the real app process (`node dist/src/app/main.js`, what `npm start` runs) pointed by GHE_HOST at a local
// server playing GitHub, a real registry behind it, and webhooks signed and sent over HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { installationCreated, INSTALLATION, OWNER } from "../app/app-harness.js";

const MAIN = new URL("../../dist/src/app/main.js", import.meta.url).pathname;
const SECRET = "e2e-webhook-secret";
const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping end-to-end app tests: ${availability.reason}`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function until<T>(what: string, probe: () => T | undefined | null | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!availability.available)("the app process end to end", () => {
  let gh: FakeGitHub;
  let registry: LocalRegistry;
  let app: ChildProcess;
  let url: string;
  let output = "";

  const send = (name: string, payload: unknown, signature?: string) => {
    const body = JSON.stringify(payload);
    const sig = signature ?? `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
    return fetch(`${url}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": name,
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": sig,
      },
      body,
    });
  };

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
    gh = await FakeGitHub.start();
    gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
    registry = await LocalRegistry.start();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs1",
      format: "pem",
    }) as string;
    app = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "4242",
        PRIVATE_KEY: privateKey,
        WEBHOOK_SECRET: SECRET,
        GHE_HOST: gh.host,
        GHE_PROTOCOL: "http",
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        DIGEST_PIN_INSECURE_REGISTRIES: registry.host,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    app.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    app.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (app.exitCode !== null || Date.now() > deadline) throw new Error(`the app did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    app?.kill("SIGTERM");
    await registry?.stop();
    await gh?.close();
  });

  it("refuses a webhook with a bad signature and changes nothing", async () => {
    const alpine = await registry.pushImage("library/alpine", "3.20", { kind: "oci-index" });
    expect(alpine.digest).toMatch(/^sha256:/);
    gh.addRepo(INSTALLATION, { name: "web", files: { Dockerfile: `FROM ${registry.host}/library/alpine:3.20\n` } });
    gh.resetCounts();
    const payload = installationCreated(gh, ["web"]);
    const forged = await send("installation", payload, `sha256=${"0".repeat(64)}`);
    expect(forged.status).toBeGreaterThanOrEqual(400);
    const unsigned = await fetch(`${url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "x" },
      body: JSON.stringify(payload),
    });
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
    await new Promise((r) => setTimeout(r, 500));
    expect(gh.calls).toHaveLength(0);
    expect(gh.pulls(OWNER, "web")).toHaveLength(0);
  });

  it("answers a signed installation webhook at once and opens the pull request with the exact bytes", async () => {
    const started = Date.now();
    const response = await send("installation", installationCreated(gh, ["web"]));
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    const pull = await until("the pull request", () => gh.pulls(OWNER, "web")[0]);
    expect(pull.title).toBe("Pin container images to digests");
    expect(pull.head.ref).toBe("digest-pin/main");
    const digest = await registry.getManifest("library/alpine", "3.20").then((m) => m.digest);
    expect(gh.readFile(OWNER, "web", "digest-pin/main", "Dockerfile")?.toString()).toBe(
      `FROM ${registry.host}/library/alpine:3.20@${digest}\n`,
    );
    expect(gh.readFile(OWNER, "web", "main", "Dockerfile")?.toString()).toBe(`FROM ${registry.host}/library/alpine:3.20\n`);
    expect(gh.unknownRoutes).toEqual([]);
    expect(output).not.toContain("PRIVATE KEY");
  });
});
