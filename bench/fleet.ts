// Fleet benchmark: the real app (Probot, in-process) as `npm start` runs it — the app's Octokit (src/github/pacing.ts)
// with Probot's throttling and retries on — against the stand-in GitHub (a latency per call, GitHub's secondary rate
// limits enforced) and a real Distribution registry through the real registry client.
//
// One installation of N repositories (3 Dockerfiles each, 200 distinct multi-arch tags), of which some reference tags
// only (each needs a pull request) and the rest are pinned to the current digests:
//   1. the first scan, as an installation meets it: the `installation.created` webhook naming every repository;
//   2. a drift check right after, with nothing changed;
//   3. one tag moves, and the next drift check must refresh every repository that uses it.
// Reports what an operator sees: seconds to the last pull request, GitHub calls (counted, 304s apart) and writes,
// registry requests against the distinct tags, refusals for GitHub's secondary limits, and the targets' PASS/FAIL.

import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { pino } from "pino";
import { ProbotOctokit, type Probot } from "probot";
import { createApp, type ScanJob } from "../src/app/index.js";
import { AppOctokit } from "../src/github/pacing.js";
import type { JobQueue } from "../src/jobs/types.js";
import { RegistryClient } from "../src/registry/client.js";
import { FakeGitHub, type CallRecord } from "./harness/fake-github.js";
import { installationPayload } from "./load.js";
import { requestRecorder, testProbot, type SentRequest } from "./harness/probot.js";
import { LocalRegistry, registryAvailability, type AccessLogEntry } from "./harness/registry.js";

export interface FleetOptions {
  /** Repositories (default 300), each with 3 Dockerfiles. */
  repos?: number;
  /** Of those, how many reference tags only and need a pull request (default 20, spread evenly). */
  needingPulls?: number;
  /** Delay of every stand-in GitHub answer, in ms (default 20). */
  latencyMs?: number;
  /** The app's queue concurrency (DIGEST_PIN_CONCURRENCY; default the app's own, 4). */
  concurrency?: number;
  /** Print the report (default true). */
  print?: boolean;
  /**
   * The client: `app` (default) is what `npm start` runs; `probot` is Probot's own default Octokit, whose throttling
   * paces every GraphQL query as a write (what the app ran before src/github/pacing.ts), for comparison.
   */
  octokit?: "app" | "probot";
}

const IMAGES = 20;
const TAGS_PER_IMAGE = 10; // 20 × 10 = 200 distinct tags
const DOCKERFILES = ["Dockerfile", "services/api/Dockerfile", "tools/build.Dockerfile"];
const OTHER_FILES: Record<string, string> = {
  "README.md": "# a service\n",
  "src/main.go": "package main\n\nfunc main() {}\n",
  "src/util/strings.go": "package util\n",
  "docs/deploy.md": "Deploy with the pipeline.\n",
  ".github/workflows/ci.yml": "on: push\njobs: {}\n",
};
/** Each fleet is a new installation: the app's pacing budgets are per installation and outlive one benchmark run. */
let nextInstallation = 101;
const TARGETS = {
  /** First scan: seconds from the webhook to the last pull request. */
  firstScanSeconds: 180,
  /** First scan: GitHub reads (GET + GraphQL) per repository. */
  firstScanReadsPerRepo: 3,
  /** The unchanged drift check right after: counted GitHub calls for the whole fleet. */
  unchangedCalls: 15,
  /** …and registry requests per distinct tag. */
  unchangedRegistryPerTag: 1,
};

interface Tag {
  repository: string;
  tag: string;
  digest: string;
}

function tagIndex(repo: number, file: number, stage: number): number {
  // 37 is prime to 200: repositories spread over every tag, so pinned and unpinned references share tags.
  return (repo * 37 + file * 11 + stage * 101) % (IMAGES * TAGS_PER_IMAGE);
}

function dockerfile(name: string, refs: [string, string]): string {
  return [
    `# ${name}`,
    `FROM ${refs[0]} AS build`,
    "WORKDIR /src",
    "COPY . .",
    "RUN make build",
    "",
    `FROM ${refs[1]}`,
    "COPY --from=build /src/out /app",
    'CMD ["/app/run"]',
    "",
  ].join("\n");
}

async function seedRegistry(registry: LocalRegistry): Promise<Tag[]> {
  const tags: Tag[] = new Array(IMAGES * TAGS_PER_IMAGE);
  await Promise.all(
    Array.from({ length: IMAGES }, async (_, i) => {
      const repository = `fleet/base${String(i).padStart(2, "0")}`;
      for (let t = 0; t < TAGS_PER_IMAGE; t++) {
        const tag = `v${t}`;
        // Half OCI indexes, half Docker manifest lists, each over two platforms.
        const pushed = await registry.pushImage(repository, tag, {
          kind: i % 2 === 0 ? "oci-index" : "docker-list",
          platforms: ["linux/amd64", "linux/arm64/v8"],
        });
        tags[i * TAGS_PER_IMAGE + t] = { repository, tag, digest: pushed.digest };
      }
    }),
  );
  return tags;
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = keyOf(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** `/v2/<repository>/manifests/<reference>` → `<repository>:<reference>` (digests stay digests). */
function manifestTarget(path: string): string | null {
  const m = /^\/v2\/(.+)\/manifests\/([^/?]+)/.exec(path);
  return m ? `${m[1]}:${decodeURIComponent(m[2] ?? "")}` : null;
}

const TOKEN_ROUTE = "POST /app/installations/{installation_id}/access_tokens";
const PULL_CREATE = "POST /repos/{owner}/{repo}/pulls";
const isRead = (c: { method: string; route: string }) => c.method === "GET" || c.route === "POST /graphql";
const isWrite = (c: CallRecord) => !isRead(c) && c.route !== TOKEN_ROUTE;

interface Phase {
  wallMs: number;
  calls: CallRecord[];
  sent: SentRequest[];
  registry: AccessLogEntry[];
}

function summarize(p: Phase) {
  const notModified = p.calls.filter((c) => c.notModified).length;
  const perTag = countBy(
    p.registry.filter((e) => manifestTarget(e.path) !== null),
    (e) => `${e.method} ${manifestTarget(e.path)}`,
  );
  // Reads per repository, from what the app sent (the stand-in's log cannot name a GraphQL query's repository).
  // The organization's defaults in its `.github` repository are read once per installation for the whole check:
  // fleet-wide, like the listing.
  const repoReads = Object.values(
    countBy(p.sent.filter((s) => s.repo !== null && !s.repo.endsWith("/.github") && isRead(s)), (s) => s.repo as string),
  );
  return {
    wallS: p.wallMs / 1000,
    total: p.calls.length,
    counted: p.calls.length - notModified,
    notModified,
    reads: p.calls.filter((c) => !c.notModified && isRead(c)).length,
    writes: p.calls.filter(isWrite).length,
    refused: p.calls.filter((c) => c.secondaryLimit !== undefined).length,
    registry: p.registry.length,
    heads: p.registry.filter((e) => e.method === "HEAD").length,
    gets: p.registry.filter((e) => e.method === "GET").length,
    maxPerTag: Math.max(0, ...Object.values(perTag)),
    reposRead: repoReads.length,
    repoReads: repoReads.reduce((a, b) => a + b, 0),
    maxRepoReads: Math.max(0, ...repoReads),
  };
}

export async function benchFleet(options: FleetOptions = {}): Promise<Record<string, number | string>> {
  const repoCount = options.repos ?? 300;
  const needing = Math.max(0, Math.min(options.needingPulls ?? 20, repoCount));
  const latencyMs = options.latencyMs ?? 20;
  const print = options.print ?? true;
  const say = (line = "") => {
    if (print) console.log(line);
  };
  const availability = registryAvailability();
  if (!availability.available) {
    say(`fleet benchmark skipped: ${availability.reason}`);
    return { skipped: availability.reason };
  }

  const INSTALLATION = nextInstallation++;
  const OWNER = `org${INSTALLATION}`;
  const gh = await FakeGitHub.start();
  let registry: LocalRegistry | undefined;
  let client: RegistryClient | undefined;
  let queue: JobQueue<ScanJob> | undefined;
  try {
    registry = await LocalRegistry.start();
    const host = registry.host;
    const seedStart = performance.now();
    const tags = await seedRegistry(registry);
    const ref = (k: number, pinned: boolean) => {
      const t = tags[k] as Tag;
      return `${host}/${t.repository}:${t.tag}${pinned ? `@${t.digest}` : ""}`;
    };

    // Every repository has the same 3 Dockerfile paths. `needing` of them, spread evenly, reference tags only (a pull
    // request pins them); the others are already pinned to the current digests (nothing to do).
    gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
    const names: string[] = [];
    const unpinned = new Set<string>();
    const users = new Map<number, Set<string>>(); // tag index → repositories that use it
    const step = needing > 0 ? repoCount / needing : Infinity;
    const needsPull = new Set(Array.from({ length: needing }, (_, i) => Math.floor(i * step + step / 2)));
    for (let r = 0; r < repoCount; r++) {
      const name = `svc-${String(r).padStart(4, "0")}`;
      names.push(name);
      const pinned = !needsPull.has(r);
      if (!pinned) unpinned.add(name);
      const files: Record<string, string> = { ...OTHER_FILES };
      DOCKERFILES.forEach((path, f) => {
        const k: [number, number] = [tagIndex(r, f, 0), tagIndex(r, f, 1)];
        for (const i of k) users.set(i, (users.get(i) ?? new Set()).add(name));
        files[path] = dockerfile(`${name} ${path}`, [ref(k[0], pinned), ref(k[1], pinned)]);
      });
      gh.addRepo(INSTALLATION, { name, files });
    }
    const distinctTags = users.size;
    const seedMs = performance.now() - seedStart;
    await registry.requests(); // let the access log catch up before dropping the seeding requests
    registry.clearRequests();

    // The app as `npm start` runs it: the app's Octokit with Probot's throttling and retries. A plugin notes which
    // repository each request is for, GraphQL included, so reads can be attributed per repository.
    const sent: SentRequest[] = [];
    const Base = options.octokit === "probot" ? ProbotOctokit : AppOctokit;
    const Octokit = Base.defaults({ baseUrl: gh.apiUrl }).plugin(requestRecorder(sent) as never);
    const logged: string[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (logged.length < 2000) logged.push(chunk.toString());
        done();
      },
    });
    const probot: Probot = testProbot(Octokit, pino({ level: "warn" }, logStream));
    client = new RegistryClient({ insecureRegistries: [host] });
    let driftCheck: (() => Promise<void>) | undefined;
    const env: NodeJS.ProcessEnv = { DIGEST_PIN_INTERVAL: "0" };
    if (options.concurrency !== undefined) env.DIGEST_PIN_CONCURRENCY = String(options.concurrency);
    await probot.load(
      createApp({ resolver: client, env, onQueue: (q) => (queue = q), onDriftCheck: (run) => (driftCheck = run) }),
      { cwd: process.cwd(), addHandler: () => undefined },
    );
    if (!queue || !driftCheck) throw new Error("the app did not expose its queue and drift check");
    const q = queue;
    const check = driftCheck;

    gh.setLatency(latencyMs);
    const phase = async (work: () => Promise<void>): Promise<Phase & { started: number }> => {
      gh.resetCounts();
      registry?.clearRequests();
      sent.length = 0;
      const started = Date.now();
      const t0 = performance.now();
      await work();
      await q.onIdle();
      return {
        started,
        wallMs: performance.now() - t0,
        calls: [...gh.calls],
        sent: [...sent],
        registry: (await registry?.requests()) ?? [],
      };
    };

    say(
      `fleet: ${repoCount} repositories (${needing} need a pull request), ${repoCount * DOCKERFILES.length} Dockerfiles, ` +
        `${distinctTags} distinct tags on ${host}, ${latencyMs} ms a GitHub call, Probot's throttling on` +
        `${options.octokit === "probot" ? " (Probot's default Octokit)" : ""}; ` +
        `seeding ${(seedMs / 1000).toFixed(1)} s`,
    );

    // 1. The first scan: the installation webhook names every repository.
    const payload = installationPayload(gh, INSTALLATION, names.map((n) => `${OWNER}/${n}`));
    const first = await phase(() => probot.receive({ id: "fleet-install", name: "installation", payload } as never));
    const pullsAt = first.calls.filter((c) => c.route === PULL_CREATE && c.status === 201).map((c) => c.at);
    const readsAt = first.calls.filter((c) => c.route === "GET /repos/{owner}/{repo}/git/trees/{tree_sha}").map((c) => c.at);
    const toLastPullS = pullsAt.length > 0 ? (Math.max(...pullsAt) - first.started) / 1000 : NaN;
    const toFirstPullS = pullsAt.length > 0 ? (Math.min(...pullsAt) - first.started) / 1000 : NaN;
    const allReadS = readsAt.length > 0 ? (Math.max(...readsAt) - first.started) / 1000 : NaN;
    const open = () => names.filter((n) => gh.pulls(OWNER, n).some((p) => p.state === "open"));
    const openedFirst = open();

    // 2. A drift check right after, nothing changed.
    const unchanged = await phase(check);

    // 3. One tag moves (the most used one); the next check must reach every repository that uses it.
    const [movedIndex, movedUsers] = [...users].sort((a, b) => b[1].size - a[1].size)[0] as [number, Set<string>];
    const movedTag = tags[movedIndex] as Tag;
    const moved = await registry.pushImage(movedTag.repository, movedTag.tag, {
      kind: Math.floor(movedIndex / TAGS_PER_IMAGE) % 2 === 0 ? "oci-index" : "docker-list",
      platforms: ["linux/amd64", "linux/arm64/v8"],
      salt: "moved",
    });
    await registry.requests();
    const drift = await phase(check);
    const movedRef = `${host}/${movedTag.repository}:${movedTag.tag}@${moved.digest}`;
    const reached = [...movedUsers].filter((n) =>
      DOCKERFILES.some((path) => gh.readFile(OWNER, n, "digest-pin/main", path)?.toString().includes(movedRef)),
    );

    // --- figures ---------------------------------------------------------------------------------------------------
    const s1 = summarize(first);
    const s2 = summarize(unchanged);
    const s3 = summarize(drift);
    const readsPerRepo = s1.repoReads / repoCount;
    const errors = logged.filter((l) => /"level":(50|60)/.test(l));
    const checks = {
      pulls: openedFirst.length === needing && openedFirst.every((n) => unpinned.has(n)),
      firstScan: needing === 0 || toLastPullS < TARGETS.firstScanSeconds,
      reads: readsPerRepo <= TARGETS.firstScanReadsPerRepo && s1.maxRepoReads <= TARGETS.firstScanReadsPerRepo,
      unchangedCalls: s2.counted <= TARGETS.unchangedCalls && s2.writes === 0,
      unchangedRegistry: s2.registry <= distinctTags * TARGETS.unchangedRegistryPerTag,
      drift: reached.length === movedUsers.size,
      limits: s1.refused + s2.refused + s3.refused === 0,
    };
    const pass = (ok: boolean) => (ok ? "PASS" : "FAIL");
    const line = (label: string, s: ReturnType<typeof summarize>) =>
      `  ${label.padEnd(10)} ${s.wallS.toFixed(1).padStart(7)} s | GitHub ${s.total} calls: ${s.counted} counted ` +
      `(${s.reads} reads, ${s.writes} writes), ${s.notModified} × 304, ${s.refused} refused | ` +
      `registry ${s.registry} (${s.heads} HEAD, ${s.gets} GET; max ${s.maxPerTag} a tag) | ${s.reposRead} repositories read`;
    say("");
    say(line("first scan", s1));
    say(line("unchanged", s2));
    say(line("drift", s3));
    say(
      `  first scan: ${toFirstPullS.toFixed(1)} s to the first pull request, ${toLastPullS.toFixed(1)} s to the last ` +
        `(${openedFirst.length} opened), every repository read after ${allReadS.toFixed(1)} s`,
    );
    say(
      `  drift: ${movedTag.repository}:${movedTag.tag} moved; ${reached.length} of its ${movedUsers.size} repositories ` +
        `refreshed by the next check, ${s3.wallS.toFixed(1)} s`,
    );
    say("");
    say(`  ${pass(checks.firstScan)}  first scan: ${toLastPullS.toFixed(1)} s to the last pull request (target < ${TARGETS.firstScanSeconds} s)`);
    say(`  ${pass(checks.pulls)}  first scan: ${openedFirst.length} pull requests for the ${needing} repositories that need one`);
    say(
      `  ${pass(checks.reads)}  first scan: ${readsPerRepo.toFixed(2)} GitHub reads a repository, at most ${s1.maxRepoReads} ` +
        `(target ≤ ${TARGETS.firstScanReadsPerRepo})`,
    );
    say(`  ${pass(checks.unchangedCalls)}  unchanged drift check: ${s2.counted} counted GitHub calls, ${s2.writes} writes (target ≤ ${TARGETS.unchangedCalls}, 0)`);
    say(`  ${pass(checks.unchangedRegistry)}  unchanged drift check: ${s2.registry} registry requests for ${distinctTags} distinct tags`);
    say(`  ${pass(checks.drift)}  drift of one image: ${reached.length} / ${movedUsers.size} repositories that use it, in one check`);
    say(`  ${pass(checks.limits)}  GitHub's secondary limits: ${s1.refused + s2.refused + s3.refused} requests refused`);
    if (errors.length > 0) say(`  ${errors.length} errors logged; the first: ${errors[0]?.slice(0, 400)}`);

    return {
      repositories: repoCount,
      "needing a pull request": needing,
      dockerfiles: repoCount * DOCKERFILES.length,
      "distinct tags": distinctTags,
      "latency (ms a call)": latencyMs,
      "first: s to the first PR": Number(toFirstPullS.toFixed(1)),
      "first: s to the last PR": Number(toLastPullS.toFixed(1)),
      "first: s until every repository read": Number(allReadS.toFixed(1)),
      "first: s until idle": Number(s1.wallS.toFixed(1)),
      "first: pull requests opened": openedFirst.length,
      "first: GitHub calls counted": s1.counted,
      "first: GitHub reads": s1.reads,
      "first: GitHub writes": s1.writes,
      "first: reads a repository": Number(readsPerRepo.toFixed(2)),
      "first: registry HEAD + GET": `${s1.heads} + ${s1.gets}`,
      "unchanged: s": Number(s2.wallS.toFixed(2)),
      "unchanged: GitHub calls counted": s2.counted,
      "unchanged: GitHub 304s": s2.notModified,
      "unchanged: GitHub writes": s2.writes,
      "unchanged: repositories read": s2.reposRead,
      "unchanged: registry requests": s2.registry,
      "drift: repositories using the tag": movedUsers.size,
      "drift: refreshed in one check": reached.length,
      "drift: s": Number(s3.wallS.toFixed(1)),
      "drift: GitHub calls counted": s3.counted,
      "drift: GitHub writes": s3.writes,
      "drift: registry HEAD + GET": `${s3.heads} + ${s3.gets}`,
      "secondary-limit refusals": s1.refused + s2.refused + s3.refused,
      "errors logged": errors.length,
      "peak RSS (MB)": Math.round(process.resourceUsage().maxRSS / 1024),
      "target: first scan < 180 s to the last PR": pass(checks.firstScan && checks.pulls),
      "target: ≤ 3 reads a repository": pass(checks.reads),
      "target: unchanged check ≤ 15 calls, 0 writes": pass(checks.unchangedCalls),
      "target: unchanged check ≤ 1 registry request/tag": pass(checks.unchangedRegistry),
      "target: drift reaches every user in one check": pass(checks.drift),
      "target: no secondary-limit refusal": pass(checks.limits),
    };
  } finally {
    await queue?.close();
    await client?.close();
    await registry?.stop();
    await gh.close();
  }
}
