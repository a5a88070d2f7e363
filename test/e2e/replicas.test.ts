// Several real app processes on one Redis (and the embedded default, one process without Redis), fed the same burst of
// signed webhooks: exactly one PR per repository, a killed replica's job finished by another, one schedule run per
// interval across the cluster.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { installationCreated, INSTALLATION, OWNER, pushed } from "../app/app-harness.js";
import { checkRedis, startRedis, type LocalRedis } from "../helpers/redis-server.js";
import { startAppProcess, until, type AppProcess } from "../../bench/harness/app-process.js";

const registryOk = registryAvailability();
if (!registryOk.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${registryOk.reason}`);
}
const hasRedis = checkRedis("replica tests");
// Probot throttles writes to about one a second (GitHub's secondary limits), and a PR takes six: keep the fleet small.
const REPOS = Array.from({ length: 3 }, (_, i) => `svc-${i}`);

interface World {
  gh: FakeGitHub;
  registry: LocalRegistry;
}

async function world(): Promise<World> {
  const gh = await FakeGitHub.start();
  gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
  const registry = await LocalRegistry.start();
  await registry.pushImage("library/python", "3.12", { kind: "oci-index" });
  await registry.pushImage("library/node", "22", { kind: "docker-list" });
  for (const name of REPOS) {
    gh.addRepo(INSTALLATION, {
      name,
      files: {
        Dockerfile: `FROM ${registry.host}/library/python:3.12 AS build\nFROM ${registry.host}/library/node:22\n`,
      },
    });
  }
  return { gh, registry };
}

/** The same burst at every replica: the installation, then pushes and repeats, spread over the replicas. */
async function burst(w: World, apps: AppProcess[]): Promise<void> {
  const sends: Promise<{ status: number }>[] = [];
  for (const app of apps) sends.push(app.send({ name: "installation", payload: installationCreated(w.gh, REPOS) }));
  REPOS.forEach((name, i) => {
    const head = w.gh.getRef(OWNER, name, "main") ?? "";
    for (let k = 0; k < 3; k++) {
      sends.push((apps[(i + k) % apps.length] as AppProcess).send({ name: "push", payload: pushed(w.gh, name, head, ["Dockerfile"]) }));
    }
  });
  const answers = await Promise.all(sends);
  expect(answers.map((r) => r.status).every((s) => s >= 200 && s < 300)).toBe(true);
}

/** Wait until every repository has its PR and GitHub has been quiet for a moment (no job still running). */
async function settle(w: World, apps: AppProcess[] = []): Promise<void> {
  try {
    await until("a PR in every repository", () => REPOS.every((r) => w.gh.pulls(OWNER, r).length > 0), 60_000);
  } catch (error) {
    for (const app of apps) console.error(app.output().slice(-4000));
    throw error;
  }
  for (let quiet = 0, seen = -1; quiet < 8; ) {
    await new Promise((r) => setTimeout(r, 250));
    quiet = w.gh.calls.length === seen ? quiet + 1 : 0;
    seen = w.gh.calls.length;
  }
}

function expectOnePullAndBranchEach(w: World): void {
  for (const name of REPOS) {
    const pulls = w.gh.pulls(OWNER, name);
    expect(pulls, name).toHaveLength(1);
    expect(pulls[0]?.state).toBe("open");
    expect(w.gh.branches(OWNER, name).sort()).toEqual(["digest-pin/main", "main"]);
  }
}

describe.skipIf(!registryOk.available)("the embedded default (one process, no Redis)", () => {
  let w: World;
  let app: AppProcess;
  beforeAll(async () => {
    w = await world();
    app = await startAppProcess(w.gh.host, { DIGEST_PIN_INSECURE_REGISTRIES: w.registry.host });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await w?.registry.stop();
    await w?.gh.close();
  });

  it("turns a burst of repeated webhooks into exactly one PR per repository", async () => {
    await burst(w, [app]);
    await settle(w, [app]);
    expectOnePullAndBranchEach(w);
  }, 90_000);
});

describe.skipIf(!registryOk.available || !hasRedis)("replicas on one Redis", () => {
  let redis: LocalRedis;
  let w: World;
  let apps: AppProcess[] = [];
  const start = (extra: Record<string, string> = {}) =>
    startAppProcess(w.gh.host, {
      DIGEST_PIN_INSECURE_REGISTRIES: w.registry.host,
      REDIS_URL: redis.url,
      DIGEST_PIN_JOB_LOCK_MS: "4000",
      ...extra,
    }).then((app) => (apps.push(app), app));

  // A fresh Redis for each scenario: nothing carries over from the replicas killed in the one before.
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.stop("SIGKILL")));
    apps = [];
    await w?.registry.stop();
    await w?.gh.close();
    await redis?.stop();
  });

  it("two replicas given the same burst produce exactly one PR per repository", async () => {
    w = await world();
    const [a, b] = [await start(), await start()];
    await burst(w, [a as AppProcess, b as AppProcess]);
    await settle(w, apps);
    expectOnePullAndBranchEach(w);
  }, 90_000);

  it("a job whose replica is killed mid-way is finished by the other", async () => {
    w = await world();
    w.gh.setLatency(150); // a scan takes a few seconds: time to kill it in the middle
    const a = await start();
    expect((await a.send({ name: "installation", payload: installationCreated(w.gh, ["svc-0"]) })).status).toBe(200);
    // The job has started on replica A once it reads the repository.
    await until("the scan to start", () => w.gh.calls.some((c) => c.route === "POST /graphql"), 20_000);
    const b = await start();
    await a.stop("SIGKILL");
    // Probot's write throttle is shared through Redis: a write slot the killed replica held is freed when its 60 s
    // Bottleneck expiration passes, so the surviving replica may wait that long before its first write.
    await until("the PR from the surviving replica", () => w.gh.pulls(OWNER, "svc-0").length > 0, 120_000).catch(
      (error: unknown) => {
        console.error(b.output().slice(-6000));
        throw error;
      },
    );
    w.gh.setLatency(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(w.gh.pulls(OWNER, "svc-0")).toHaveLength(1);
    expect(b.child.exitCode).toBeNull();
  }, 180_000);

  it("with two replicas the drift check runs once per interval", async () => {
    w = await world();
    const intervalMs = 1500;
    await start({ DIGEST_PIN_INTERVAL: "1.5s" });
    await start({ DIGEST_PIN_INTERVAL: "1.5s" });
    const since = Date.now();
    await new Promise((r) => setTimeout(r, 4 * intervalMs + 500));
    // Each drift check starts by listing the app's installations.
    const runs = w.gh.calls.filter((c) => c.route === "GET /app/installations" && c.at >= since).map((c) => c.at);
    const slots = runs.map((at) => Math.floor(at / intervalMs));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(slots).size).toBe(slots.length); // never twice in one interval
  }, 60_000);
});
