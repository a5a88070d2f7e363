// End to end: the real app process (`node dist/src/app/main.js`, what `npm start` runs) pointed by GHE_HOST at a local
// server playing GitHub, a real registry behind it, and webhooks signed and sent over HTTP. The process runs Probot's
// own Octokit as `npm start` does, throttling and retries on: writes are paced at one a second per installation, so the
// tests that write wait seconds for GitHub's pace, not for the app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub, type CallRecord } from "../../bench/harness/fake-github.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { commented, installationCreated, INSTALLATION, OWNER } from "../app/app-harness.js";
import { startAppProcess, until, type AppProcess } from "../../bench/harness/app-process.js";

const TOKEN_ROUTE = "POST /app/installations/{installation_id}/access_tokens";
const isGraphql = (c: CallRecord) => c.route === "POST /graphql";
const isWrite = (c: CallRecord) => c.method !== "GET" && !isGraphql(c) && c.route !== TOKEN_ROUTE;
/** The most calls that started within any `ms` milliseconds. */
function densest(calls: readonly CallRecord[], ms: number): number {
  const at = calls.map((c) => c.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < at.length; j++) {
    while ((at[j] as number) - (at[i] as number) >= ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping end-to-end app tests: ${availability.reason}`);

/** The stand-in GitHub with the test installation, and a real registry. */
async function startWorld(): Promise<{ gh: FakeGitHub; registry: LocalRegistry }> {
  const gh = await FakeGitHub.start();
  gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
  return { gh, registry: await LocalRegistry.start() };
}

describe.skipIf(!availability.available)("the app process end to end", () => {
  let gh: FakeGitHub;
  let registry: LocalRegistry;
  let app: AppProcess;

  beforeAll(async () => {
    ({ gh, registry } = await startWorld());
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

  it("answers /digest-pin rescan from the registry as it is now: a tag moved a moment ago refreshes the PR", async () => {
    const first = await registry.pushImage("library/redis", "7", { kind: "oci-index" });
    gh.addRepo(INSTALLATION, { name: "cache", files: { Dockerfile: `FROM ${registry.host}/library/redis:7\n` } });
    await app.send({ name: "installation", payload: installationCreated(gh, ["cache"]) });
    const pull = await until("the pull request", () => gh.pulls(OWNER, "cache")[0]);
    const branchFile = () => gh.readFile(OWNER, "cache", "digest-pin/main", "Dockerfile")?.toString();
    expect(branchFile()).toBe(`FROM ${registry.host}/library/redis:7@${first.digest}\n`);

    // The tag moves, and a writer asks at once (well within any cache's lifetime): the answer must be the new digest.
    const moved = await registry.pushImage("library/redis", "7", { kind: "oci-index", salt: "rebuilt" });
    expect(moved.digest).not.toBe(first.digest);
    gh.setPermission(OWNER, "cache", "alice", "write");
    const ack = await app.send({
      name: "issue_comment",
      payload: commented(gh, "cache", pull.number, "/digest-pin rescan", "alice", { isPull: true }),
    });
    expect(ack.status).toBe(200);
    const reply = await until("the reply", () =>
      gh.comments(OWNER, "cache", pull.number).find((c) => c.user === gh.botLogin),
    );
    expect(reply.body).toContain("Updated");
    expect(branchFile()).toBe(`FROM ${registry.host}/library/redis:7@${moved.digest}\n`);
    expect(gh.pulls(OWNER, "cache")).toHaveLength(1);
  });

  it("reads a first scan of many repositories at read speed while writes keep one a second", async () => {
    // 30 repositories, of which one needs a pull request. Through GitHub's pacing of writes (one a second) the reads
    // must not queue: GraphQL queries of one installation that start many to a second are impossible if they are
    // paced as writes.
    const installation = 78;
    const owner = "fleet";
    gh.addInstallation(installation, { login: owner, type: "Organization" });
    const image = await registry.pushImage("library/busybox", "1.36", { kind: "oci-index" });
    const names = Array.from({ length: 30 }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
    names.forEach((name, i) => {
      const pin = i === names.length - 1 ? "" : `@${image.digest}`;
      gh.addRepo(installation, { name, files: { Dockerfile: `FROM ${registry.host}/library/busybox:1.36${pin}\n` } });
    });
    gh.resetCounts();
    await app.send({ name: "installation", payload: installationCreated(gh, names, installation, owner) });
    const last = names[names.length - 1] as string;
    await until("the pull request, labelled", () => gh.pulls(owner, last).find((p) => p.labels.length > 0), 30_000);
    const mine = gh.calls.filter((c) => c.actor === `installation:${installation}`);
    // Every repository was read: its state and its blobs, two GraphQL queries each.
    const queries = mine.filter(isGraphql);
    expect(queries.length).toBeGreaterThanOrEqual(2 * names.length);
    // Many started within one second: not paced as writes are.
    expect(densest(queries, 1000)).toBeGreaterThanOrEqual(10);
    // The writes (tree, commit, ref, pull request, labels) still start at least a second apart.
    const writes = mine.filter(isWrite).sort((a, b) => a.at - b.at);
    expect(writes.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < writes.length; i++) {
      expect((writes[i] as CallRecord).at - (writes[i - 1] as CallRecord).at).toBeGreaterThanOrEqual(900);
    }
    // And GitHub never answered that a limit was exceeded.
    expect(gh.calls.filter((c) => c.status === 403 || c.status === 429)).toEqual([]);
    expect(gh.pulls(owner, names[0] as string)).toHaveLength(0);
  }, 40_000);
});

describe.skipIf(!availability.available)("the app process's scheduled drift check", () => {
  let gh: FakeGitHub;
  let registry: LocalRegistry;
  let app: AppProcess;

  beforeAll(async () => {
    ({ gh, registry } = await startWorld());
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await registry?.stop();
    await gh?.close();
  });

  it("finds a tag that moved since the previous check, seconds after it", async () => {
    const first = await registry.pushImage("library/nginx", "1.27", { kind: "oci-index" });
    gh.addRepo(INSTALLATION, { name: "edge", files: { Dockerfile: `FROM ${registry.host}/library/nginx:1.27@${first.digest}\n` } });
    app = await startAppProcess(gh.host, { DIGEST_PIN_INSECURE_REGISTRIES: registry.host, DIGEST_PIN_INTERVAL: "2s" });
    // A first check reads the repository: pinned to the current digest, nothing to do.
    await until("a first check", async () => ((await app.metrics()).get('digest_pin_scans_total{outcome="none"}') ?? 0) >= 1, 20_000);
    const moved = await registry.pushImage("library/nginx", "1.27", { kind: "oci-index", salt: "patched" });
    const pull = await until("the pull request", () => gh.pulls(OWNER, "edge")[0], 20_000);
    expect(pull.title).toBe("Update container image digests");
    expect(gh.readFile(OWNER, "edge", "digest-pin/main", "Dockerfile")?.toString()).toBe(
      `FROM ${registry.host}/library/nginx:1.27@${moved.digest}\n`,
    );
  }, 60_000);
});
