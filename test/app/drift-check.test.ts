// The scheduled drift check, end to end in one process: real Probot and the real app, the fake GitHub with two
// installations, a real Distribution registry and the real registry client (no cache of its own, as when checks are
// hours apart). Per-repository requests are attributed from what the app's Octokit sent (GraphQL included).
import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type ScanJob } from "../../src/app/index.js";
import { proposalKey, readMarker } from "../../src/github/marker.js";
import type { JobQueue } from "../../src/jobs/types.js";
import { RegistryClient } from "../../src/registry/client.js";
import { FakeGitHub, type CallRecord } from "../../bench/harness/fake-github.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { example } from "./app-harness.js";
import { requestRecorder, testProbot, unthrottledOctokit, type SentRequest } from "../../bench/harness/probot.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping drift check tests: ${availability.reason}`);

const NORTH = { id: 201, login: "north" };
const SOUTH = { id: 202, login: "south" };
const BRANCH = "digest-pin/main";
const TOKEN_ROUTE = "POST /app/installations/{installation_id}/access_tokens";
const LISTING_ROUTES = new Set(["GET /app/installations", "GET /installation/repositories", TOKEN_ROUTE]);

type Image = "alpha:1" | "beta:1" | "gamma:2" | "delta:3";
/** One repository: Dockerfile path → the images its stages use (`@` pins to the digest current at setup). */
type Layout = { archived?: boolean; files: Record<string, (Image | `${Image}@`)[]> };

// Twelve active repositories over two installations, two archived ones, two without Dockerfiles.
const FLEET: Record<string, Record<string, Layout>> = {
  north: {
    "app-1": { files: { Dockerfile: ["alpha:1"], "worker/Dockerfile": ["beta:1"] } },
    "app-2": { files: { Dockerfile: ["gamma:2"] } },
    "app-3": { files: { Dockerfile: ["beta:1", "beta:1"] } },
    "app-4": { files: { Dockerfile: ["delta:3"] } },
    "lib-1": { files: { Dockerfile: ["beta:1@"] } },
    docs: { files: {} },
    old: { archived: true, files: { Dockerfile: ["alpha:1"] } },
  },
  south: {
    "app-1": { files: { Dockerfile: ["gamma:2"] } },
    "app-2": { files: { Dockerfile: ["alpha:1", "delta:3"] } },
    "app-3": { files: { "build.Dockerfile": ["beta:1"] } },
    "app-4": { files: { Dockerfile: ["delta:3"] } },
    "lib-1": { files: { Dockerfile: ["gamma:2@"] } },
    docs: { files: {} },
    old: { archived: true, files: { Dockerfile: ["alpha:1"] } },
  },
};

interface FleetApp {
  probot: Probot;
  queue: JobQueue<ScanJob>;
  client: RegistryClient;
  /** Requests the app's Octokit sent, with the repository they are about. */
  sent: SentRequest[];
  /** Jobs in the order they were queued. */
  queued: ScanJob[];
  /** Warnings and errors the app logged. */
  logs: string[];
  /** One drift check, until its work is done. */
  check(): Promise<void>;
  close(): Promise<void>;
}


async function startFleetApp(gh: FakeGitHub, registry: LocalRegistry): Promise<FleetApp> {
  const sent: SentRequest[] = [];
  const Octokit = unthrottledOctokit(gh.apiUrl).plugin(requestRecorder(sent) as never);
  const logs: string[] = [];
  const probot = testProbot(
    Octokit,
    pino(
      { level: "warn" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString());
          done();
        },
      }),
    ),
  );
  const client = new RegistryClient({ insecureRegistries: [registry.host], retryBaseMs: 1, maxRetries: 1 });
  let queue: JobQueue<ScanJob> | undefined;
  let driftCheck: (() => Promise<void>) | undefined;
  await probot.load(
    createApp({
      resolver: client,
      env: { DIGEST_PIN_INTERVAL: "0" },
      onQueue: (q) => (queue = q),
      onDriftCheck: (run) => (driftCheck = run),
    }),
    { cwd: process.cwd(), addHandler: () => undefined },
  );
  if (!queue || !driftCheck) throw new Error("the app did not expose its queue and drift check");
  const q = queue;
  const run = driftCheck;
  const queued: ScanJob[] = [];
  const push = q.push.bind(q);
  q.push = (job: ScanJob) => {
    queued.push(job);
    return push(job);
  };
  return {
    probot,
    queue: q,
    client,
    sent,
    queued,
    logs,
    async check() {
      await run();
      await q.onIdle();
    },
    async close() {
      await q.close();
      await client.close();
    },
  };
}

const isWrite = (c: CallRecord) => c.method !== "GET" && c.route !== "POST /graphql" && c.route !== TOKEN_ROUTE;

describe.skipIf(!availability.available)("drift check", () => {
  let gh: FakeGitHub;
  let registry: LocalRegistry;
  let app: FleetApp;
  const digests = new Map<Image, string>();

  /** The Dockerfiles of a layout, as text. */
  const contents = (layout: Layout): Record<string, string> =>
    Object.fromEntries(
      Object.entries(layout.files).map(([path, images]) => [
        path,
        images
          .map((image, i) => {
            const name = image.replace(/@$/, "") as Image;
            const pin = image.endsWith("@") ? `@${digests.get(name)}` : "";
            return `FROM ${registry.host}/base/${name}${pin}${i < images.length - 1 ? ` AS stage${i}` : ""}\nRUN true\n`;
          })
          .join("\n"),
      ]),
    );
  const repoFiles = (layout: Layout) => ({ "README.md": "hello\n", ...contents(layout) });
  const allRepos = () => Object.entries(FLEET).flatMap(([org, repos]) => Object.keys(repos).map((name) => ({ org, name })));
  const openPull = (org: string, name: string) => gh.pulls(org, name).find((p) => p.state === "open" && p.head.ref === BRANCH);
  const heads = () => new Map(allRepos().map(({ org, name }) => [`${org}/${name}`, gh.getRef(org, name, BRANCH)]));
  /** Repositories the app read or wrote since `from`. */
  /** Repositories the check read or wrote; the organization's `.github` config read is counted apart (orgReads). */
  const touched = (from = 0) =>
    new Set(app.sent.slice(from).flatMap((s) => (s.repo && !s.repo.endsWith("/.github") ? [s.repo] : [])));
  const orgReads = () => app.sent.filter((s) => s.repo?.endsWith("/.github")).map((s) => s.repo);
  const reset = () => {
    gh.resetCounts();
    app.sent.length = 0;
    app.queued.length = 0;
    app.logs.length = 0;
  };
  const moveTag = async (image: Image, salt: string) => {
    const [name = "", tag = ""] = image.split(":");
    const moved = (await registry.pushImage(`base/${name}`, tag, { kind: "oci-index", salt })).digest;
    expect(moved).not.toBe(digests.get(image));
    digests.set(image, moved);
    return moved;
  };

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    registry = await LocalRegistry.start();
    for (const image of ["alpha:1", "beta:1", "gamma:2", "delta:3"] as const) {
      const [name = "", tag = ""] = image.split(":");
      const kind = image === "beta:1" ? "docker-list" : "oci-index";
      digests.set(image, (await registry.pushImage(`base/${name}`, tag, { kind })).digest);
    }
    for (const inst of [NORTH, SOUTH]) {
      gh.addInstallation(inst.id, { login: inst.login, type: "Organization" });
      for (const [name, layout] of Object.entries(FLEET[inst.login] ?? {})) {
        gh.addRepo(inst.id, { name, archived: layout.archived, files: repoFiles(layout) });
      }
    }
    app = await startFleetApp(gh, registry);
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
    await gh?.close();
  });

  it("opens pull requests on the first check exactly as the webhook path does", async () => {
    reset();
    await app.check();
    expect(app.logs.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
    const opened = allRepos()
      .filter(({ org, name }) => openPull(org, name))
      .map(({ org, name }) => `${org}/${name}`);
    expect(opened.sort()).toEqual(["app-1", "app-2", "app-3", "app-4"].flatMap((n) => [`north/${n}`, `south/${n}`]).sort());
    expect(readMarker(openPull("south", "app-2")?.body)?.proposed).toEqual(
      [
        proposalKey(`${registry.host}/base/alpha`, "1", digests.get("alpha:1") ?? ""),
        proposalKey(`${registry.host}/base/delta`, "3", digests.get("delta:3") ?? ""),
      ].sort(),
    );

    // The same repositories in another GitHub, installed through the webhook: the same pull requests.
    const twinGh = await FakeGitHub.start();
    const twin = await startFleetApp(twinGh, registry);
    try {
      twinGh.addInstallation(77, { login: "acme", type: "Organization" });
      const names = Object.keys(FLEET.north ?? {});
      for (const name of names) {
        const layout = FLEET.north?.[name] as Layout;
        twinGh.addRepo(77, { name, archived: layout.archived, files: repoFiles(layout) });
      }
      const payload = example("installation", "created");
      payload.installation = { ...(payload.installation as object), id: 77, account: twinGh.userPayload("acme") };
      payload.repositories = names.map((name) => {
        const r = twinGh.repositoryPayload("acme", name) as { id: number; node_id: string; full_name: string; private: boolean };
        return { id: r.id, node_id: r.node_id, name, full_name: r.full_name, private: r.private };
      });
      await twin.probot.receive({ id: "twin-1", name: "installation", payload } as Parameters<Probot["receive"]>[0]);
      await twin.queue.onIdle();
      // Commit ids differ (other repositories, other times); everything else must not.
      const normalize = (p: { title: string; labels: string[]; body: string | null; state: string }) => {
        const marker = readMarker(p.body);
        return {
          title: p.title,
          labels: p.labels,
          state: p.state,
          text: (p.body ?? "").replace(/<!-- digest-pin:plan [^>]*-->/, "<marker>"),
          marker: marker && { ...marker, commit: "<commit>" },
        };
      };
      for (const name of names) {
        const ours = gh.pulls("north", name).map(normalize);
        const theirs = twinGh.pulls("acme", name).map(normalize);
        expect(ours.every((p) => p.marker !== null && p.text.includes("<marker>")), name).toBe(true);
        expect(ours, name).toEqual(theirs);
        const branchFiles = (g: FakeGitHub, org: string) =>
          g.getRef(org, name, BRANCH) === null
            ? null
            : Object.fromEntries(g.listFiles(org, name, BRANCH).map((path) => [path, g.readFile(org, name, BRANCH, path)?.toString()]));
        expect(branchFiles(gh, "north"), name).toEqual(branchFiles(twinGh, "acme"));
      }

      // The installation's scan remembered each repository as read (its pushed_at from the same query): the drift
      // check right after reads none of them and writes nothing.
      twinGh.resetCounts();
      twin.sent.length = 0;
      await twin.check();
      expect(twin.sent.filter((s) => s.repo !== null)).toEqual([]);
      expect(twinGh.calls.filter(isWrite)).toEqual([]);
    } finally {
      await twin.close();
      await twinGh.close();
    }
  });

  it("queues the installations' repositories interleaved, and runs them so", () => {
    // Listed in the first check: 6 active repositories an installation, alternating.
    const order = app.queued.map((j) => j.installationId);
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? NORTH.id : SOUTH.id)));
    expect(app.queued.every((j) => j.drift && j.runId === app.queued[0]?.runId && j.pushedAt)).toBe(true);
    // The order the jobs started in (their first request): no installation waits for the other's whole list.
    const started: string[] = [];
    for (const s of app.sent) if (s.repo && !s.repo.endsWith("/.github") && !started.includes(s.repo)) started.push(s.repo);
    expect(started).toHaveLength(12);
    const firstHalf = started.slice(0, 6);
    expect(firstHalf.filter((r) => r.startsWith("north/"))).toHaveLength(3);
    expect(firstHalf.filter((r) => r.startsWith("south/"))).toHaveLength(3);
  });

  it("skips archived repositories", () => {
    expect(app.queued.some((j) => j.repo === "old")).toBe(false);
    expect([...touched()].filter((r) => r.endsWith("/old"))).toEqual([]);
    expect(gh.pulls("north", "old")).toHaveLength(0);
    expect(gh.pulls("south", "old")).toHaveLength(0);
  });

  it("makes only the listing calls when nothing changed: no writes, no repository reads, then only 304s", async () => {
    const before = heads();
    reset();
    await app.check();
    expect(app.queued).toHaveLength(12);
    expect(gh.calls.filter(isWrite)).toEqual([]);
    expect(touched()).toEqual(new Set());
    expect(gh.calls.every((c) => LISTING_ROUTES.has(c.route))).toBe(true);
    // The first check's own pushes moved pushed_at: the listing pages changed once; the installations list did not.
    expect(gh.counts().notModifiedByRoute["GET /app/installations"]).toBe(1);
    expect(gh.counts().counted).toBeLessThanOrEqual(2);
    expect(heads()).toEqual(before);

    reset();
    await app.check();
    expect(gh.calls.length).toBe(3);
    expect(gh.counts().counted).toBe(0);
    expect(touched()).toEqual(new Set());
    expect(heads()).toEqual(before);
  });

  it("refreshes exactly the pull requests whose tag moved, reading only those repositories", async () => {
    const before = heads();
    const numbers = new Map(allRepos().map(({ org, name }) => [`${org}/${name}`, openPull(org, name)?.number]));
    const moved = await moveTag("gamma:2", "v2");
    reset();
    await app.check();
    const affected = ["north/app-2", "south/app-1", "south/lib-1"];
    expect([...touched()].sort()).toEqual(affected);
    // The organizations' defaults (`.github`) are read once per installation for the whole check, not per repository.
    expect(orgReads().sort()).toEqual(["north/.github", "south/.github"]);
    expect(new Set(gh.calls.filter(isWrite).map((c) => c.path.split("/").slice(2, 4).join("/")))).toEqual(
      new Set(["north/app-2", "south/app-1", "south/lib-1"]),
    );
    for (const { org, name } of allRepos()) {
      const full = `${org}/${name}`;
      if (affected.includes(full)) continue;
      expect(gh.getRef(org, name, BRANCH), full).toBe(before.get(full));
      expect(openPull(org, name)?.number, full).toBe(numbers.get(full));
    }
    // The open pull requests were refreshed in place.
    for (const [org, name] of [["north", "app-2"], ["south", "app-1"]] as const) {
      expect(openPull(org, name)?.number).toBe(numbers.get(`${org}/${name}`));
      expect(gh.getRef(org, name, BRANCH)).not.toBe(before.get(`${org}/${name}`));
      expect(gh.readFile(org, name, BRANCH, "Dockerfile")?.toString()).toContain(`gamma:2@${moved}`);
    }
    // The repository pinned to the old digest gets its first pull request, refreshing the pin.
    const lib = openPull("south", "lib-1");
    expect(lib?.title).toBe("Update container image digests");
    expect(gh.readFile("south", "lib-1", BRANCH, "Dockerfile")?.toString()).toContain(`gamma:2@${moved}`);
    expect(readMarker(lib?.body)?.refs).toHaveLength(1);

    // And the check after that is quiet again.
    reset();
    await app.check();
    expect(touched()).toEqual(new Set());
    expect(gh.calls.filter(isWrite)).toEqual([]);
  });

  it("reads a repository again when someone pushed to it, once", async () => {
    const before = heads();
    gh.pushFiles("north", "app-3", "main", { "README.md": "changed\n" });
    // Pushed well after the app's own writes (which it recognises by time), as a later push would be.
    gh.updateRepo("north", "app-3", { pushedAt: new Date(Date.now() + 10 * 60_000).toISOString().replace(/\.\d+Z$/, "Z") });
    reset();
    await app.check();
    expect([...touched()]).toEqual(["north/app-3"]);
    // Three reads (state, tree, blobs), and nothing to change: the Dockerfiles are as they were.
    expect(app.sent.filter((s) => s.repo === "north/app-3").map((s) => s.route).sort()).toEqual(
      ["GET /repos/{owner}/{repo}/git/trees/{tree_sha}", "POST /graphql", "POST /graphql"].sort(),
    );
    expect(gh.calls.filter(isWrite)).toEqual([]);
    expect(heads()).toEqual(before);

    reset();
    await app.check();
    expect(touched()).toEqual(new Set());
  });

  it("stops checking a repository once it is archived", async () => {
    gh.updateRepo("south", "app-4", { archived: true });
    await moveTag("delta:3", "v2"); // used by north/app-4, south/app-2 and the now archived south/app-4
    const archivedHead = gh.getRef("south", "app-4", BRANCH);
    reset();
    await app.check();
    expect(app.queued.some((j) => j.owner === "south" && j.repo === "app-4")).toBe(false);
    expect([...touched()].sort()).toEqual(["north/app-4", "south/app-2"]);
    expect(gh.getRef("south", "app-4", BRANCH)).toBe(archivedHead);
  });

  it("goes on with the other installations when one cannot be listed", async () => {
    const before = heads();
    await moveTag("beta:1", "v2"); // north/app-1, north/app-3, north/lib-1 and south/app-3
    // The first listing of installation repositories is north's.
    gh.failNext("GET", /^\/installation\/repositories$/, 500);
    reset();
    await app.check();
    expect(app.logs.some((l) => l.includes("could not list") && l.includes(String(NORTH.id)))).toBe(true);
    expect(new Set(app.queued.map((j) => j.installationId))).toEqual(new Set([SOUTH.id]));
    expect([...touched()]).toEqual(["south/app-3"]);
    expect(gh.getRef("south", "app-3", BRANCH)).not.toBe(before.get("south/app-3"));
    expect(gh.getRef("north", "app-1", BRANCH)).toBe(before.get("north/app-1"));

    // The next check catches up with north.
    reset();
    await app.check();
    expect([...touched()].sort()).toEqual(["north/app-1", "north/app-3", "north/lib-1"]);
    expect(openPull("north", "lib-1")?.title).toBe("Update container image digests");
    for (const name of ["app-1", "app-3"]) {
      expect(gh.getRef("north", name, BRANCH)).not.toBe(before.get(`north/${name}`));
    }
  });
});
