// End to end: the real app process (`node dist/src/app/main.js`, what `npm start` runs) pointed by GHE_HOST at a local
// server playing GitHub, a real registry behind it, and webhooks signed and sent over HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { installationCreated, INSTALLATION, OWNER } from "../app/app-harness.js";
import { startAppProcess, until, type AppProcess } from "../../bench/harness/app-process.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping end-to-end app tests: ${availability.reason}`);

describe.skipIf(!availability.available)("the app process end to end", () => {
  let gh: FakeGitHub;
  let registry: LocalRegistry;
  let app: AppProcess;

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
    registry = await LocalRegistry.start();
    app = await startAppProcess(gh.host, { DIGEST_PIN_INSECURE_REGISTRIES: registry.host });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await registry?.stop();
    await gh?.close();
  });

  it("refuses a webhook with a bad signature and changes nothing", async () => {
    const alpine = await registry.pushImage("library/alpine", "3.20", { kind: "oci-index" });
    expect(alpine.digest).toMatch(/^sha256:/);
    gh.addRepo(INSTALLATION, { name: "web", files: { Dockerfile: `FROM ${registry.host}/library/alpine:3.20\n` } });
    gh.resetCounts();
    const payload = installationCreated(gh, ["web"]);
    const forged = await app.send({ name: "installation", payload, signature: `sha256=${"0".repeat(64)}` });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    const unsigned = await fetch(`${app.url}/api/github/webhooks`, {
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
    const response = await app.send({ name: "installation", payload: installationCreated(gh, ["web"]) });
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
    expect(app.output()).not.toContain("PRIVATE KEY");
  });
});
