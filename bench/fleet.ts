// Fleet benchmark: the real app (Probot, in-process) against the fake GitHub with a latency per call and a real
// Distribution registry. One installation with 1,000 repositories and 3,000 Dockerfiles over 200 distinct multi-arch
// tags; a first drift check (reads everything, opens the pull requests), then a second one with nothing changed.
// Reports GitHub calls (counted, and 304s apart: GitHub does not count those against the rate limit) by route, GitHub
// reads per repository, registry requests against the distinct tags, wall time and peak RSS, and checks the targets
// of DESIGN.md's "Scale".

import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { pino } from "pino";
import { createApp, type ScanJob } from "../src/app/index.js";
import type { JobQueue } from "../src/jobs/types.js";
import { RegistryClient } from "../src/registry/client.js";
import { FakeGitHub, type CallRecord } from "./harness/fake-github.js";
import { LocalRegistry, registryAvailability, type AccessLogEntry } from "./harness/registry.js";
import { requestRecorder, testProbot, unthrottledOctokit, type SentRequest } from "./harness/probot.js";

export interface FleetOptions {
  /** Repositories (default 1,000), each with 3 Dockerfiles. */
  repos?: number;
  /** Delay of every fake GitHub answer, in ms (default 20). */
  latencyMs?: number;
  /** Installations the repositories are spread over (default 1). */
  installations?: number;
  /** The app's queue concurrency (DIGEST_PIN_CONCURRENCY; default the app's own, 4). */
  concurrency?: number;
  /** Print the report (default true). */
  print?: boolean;
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
const TARGETS = {
  /** Second check: counted GitHub calls for the whole fleet. */
  secondCheckCalls: 15,
  /** Second check: registry requests per distinct tag. */
  secondCheckRegistryPerTag: 1,
  /** First check: GitHub reads (GET + GraphQL) per repository with Dockerfiles. */
  firstCheckReadsPerRepo: 3,
};

interface Tag {
  repository: string;
  tag: string;
  digest: string;
}

function tagIndex(repo: number, file: number, stage: number): number {
  // 37 is prime to 200: even and odd repositories both reach every tag, so pinned and unpinned references share tags.
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

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return -1;
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
}


/** `/v2/<repository>/manifests/<reference>` → `<repository>:<reference>` (digests stay digests). */
function manifestTarget(path: string): string | null {
  const m = /^\/v2\/(.+)\/manifests\/([^/?]+)/.exec(path);
  return m ? `${m[1]}:${decodeURIComponent(m[2] ?? "")}` : null;
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = keyOf(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function sorted(table: Record<string, number>): [string, number][] {
  return Object.entries(table).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const isRead = (c: { method: string; route: string }) => c.method === "GET" || c.route === "POST /graphql";
const isTokenRequest = (c: CallRecord) => c.route === "POST /app/installations/{installation_id}/access_tokens";

interface CheckFigures {
  wallMs: number;
  calls: CallRecord[];
  sent: SentRequest[];
  registry: AccessLogEntry[];
  rssMb: number;
  /** Heap in use after a full GC (when run with --expose-gc, as `npm run bench` does), else -1. */
  heapMb: number;
}

export async function benchFleet(options: FleetOptions = {}): Promise<Record<string, number | string>> {
  const repoCount = options.repos ?? 1000;
  const latencyMs = options.latencyMs ?? 20;
  const installationCount = Math.max(1, Math.min(options.installations ?? 1, repoCount));
  const print = options.print ?? true;
  const say = (line = "") => {
    if (print) console.log(line);
  };
  const availability = registryAvailability();
  if (!availability.available) {
    say(`fleet benchmark skipped: ${availability.reason}`);
    return { skipped: availability.reason };
  }

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

    // The fleet: every repository has the same 3 Dockerfile paths; even repositories reference tags only (a pull
    // request pins them), odd ones are already pinned to the current digests (nothing to do).
    const installationIds = Array.from({ length: installationCount }, (_, i) => 101 + i);
    for (const id of installationIds) gh.addInstallation(id, { login: `org${id}`, type: "Organization" });
    const referenced = new Set<number>();
    let unpinnedRepos = 0;
    for (let r = 0; r < repoCount; r++) {
      const pinned = r % 2 === 1;
      if (!pinned) unpinnedRepos++;
      const files: Record<string, string> = { ...OTHER_FILES };
      DOCKERFILES.forEach((path, f) => {
        const k: [number, number] = [tagIndex(r, f, 0), tagIndex(r, f, 1)];
        k.forEach((i) => referenced.add(i));
        files[path] = dockerfile(`svc-${r} ${path}`, [ref(k[0], pinned), ref(k[1], pinned)]);
      });
      gh.addRepo(installationIds[r % installationCount] as number, { name: `svc-${String(r).padStart(4, "0")}`, files });
    }
    const distinctTags = referenced.size;
    const seedMs = performance.now() - seedStart;
    await registry.requests(); // let the access log catch up before dropping the seeding requests
    registry.clearRequests();

    // The app, as test/app/app-harness.ts runs it: real Probot, retries and throttling off (the fake has no secondary
    // rate limits, and Octokit's write throttle of one write a second would measure only itself). A plugin notes which
    // repository each request is for, GraphQL included, so reads can be attributed per repository.
    const sent: SentRequest[] = [];
    const Octokit = unthrottledOctokit(gh.apiUrl).plugin(requestRecorder(sent) as never);
    const problems: string[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const line = chunk.toString();
        if (problems.length < 2000) problems.push(line);
        done();
      },
    });
    const probot = testProbot(Octokit, pino({ level: "warn" }, logStream));
    // Registry answers are not cached across checks (cacheTtlMs 0): scheduled checks are hours apart, far beyond the
    // client's 5-minute default, so each check asks the registry afresh. Within a check the app's MemoResolver applies.
    client = new RegistryClient({ insecureRegistries: [host], cacheTtlMs: 0 });
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
    const runCheck = async (): Promise<CheckFigures> => {
      gh.resetCounts();
      registry?.clearRequests();
      sent.length = 0;
      problems.length = 0;
      const start = performance.now();
      await check();
      await q.onIdle();
      const wallMs = performance.now() - start;
      return {
        wallMs,
        calls: [...gh.calls],
        sent: [...sent],
        registry: (await registry?.requests()) ?? [],
        rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        heapMb: heapAfterGc(),
      };
    };

    say(
      `fleet: ${repoCount} repositories (${installationCount} installation${installationCount === 1 ? "" : "s"}), ` +
        `${repoCount * DOCKERFILES.length} Dockerfiles, ${distinctTags} distinct tags on ${host}, ` +
        `${latencyMs} ms a GitHub call; seeding ${(seedMs / 1000).toFixed(1)} s`,
    );
    const first = await runCheck();
    const firstProblems = [...problems];
    const openPulls = Array.from({ length: repoCount }, (_, r) => `svc-${String(r).padStart(4, "0")}`).filter((name) =>
      gh.pulls(`org${installationIds[Number(name.slice(4)) % installationCount]}`, name).some((p) => p.state === "open"),
    ).length;
    const second = await runCheck();
    const secondProblems = [...problems];
    const third = await runCheck();

    // --- figures ---------------------------------------------------------------------------------------------------
    const summary = (c: CheckFigures) => {
      const notModified = c.calls.filter((x) => x.notModified).length;
      const counted = c.calls.length - notModified;
      const reads = c.calls.filter((x) => !x.notModified && isRead(x)).length;
      const writes = c.calls.filter((x) => !isRead(x) && !isTokenRequest(x)).length;
      const tokens = c.calls.filter(isTokenRequest).length;
      const perTag = countBy(
        c.registry.filter((e) => manifestTarget(e.path) !== null),
        (e) => `${e.method} ${manifestTarget(e.path)}`,
      );
      const heads = c.registry.filter((e) => e.method === "HEAD").length;
      const gets = c.registry.filter((e) => e.method === "GET").length;
      // Reads per repository, from what the app sent (the fake's log cannot name a GraphQL query's repository). The
      // organization's defaults in its `.github` repository are read once per installation for the whole check:
      // fleet-wide, like the listing.
      const repoReads = countBy(
        c.sent.filter((s) => s.repo !== null && !s.repo.endsWith("/.github") && isRead(s)),
        (s) => s.repo as string,
      );
      const readCounts = Object.values(repoReads);
      return {
        wallMs: Math.round(c.wallMs),
        total: c.calls.length,
        counted,
        notModified,
        reads,
        writes,
        tokens,
        registryTotal: c.registry.length,
        heads,
        gets,
        maxPerTag: Math.max(0, ...Object.values(perTag)),
        reposRead: readCounts.length,
        repoReads: readCounts.reduce((a, b) => a + b, 0),
        maxRepoReads: Math.max(0, ...readCounts),
        rssMb: c.rssMb,
        heapMb: c.heapMb,
      };
    };
    const s1 = summary(first);
    const s2 = summary(second);
    const s3 = summary(third);
    const readsPerRepo = s1.repoReads / repoCount;
    const checks = {
      second: s2.counted <= TARGETS.secondCheckCalls,
      registry: s2.registryTotal <= distinctTags * TARGETS.secondCheckRegistryPerTag,
      first: readsPerRepo <= TARGETS.firstCheckReadsPerRepo && s1.maxRepoReads <= TARGETS.firstCheckReadsPerRepo,
    };

    // --- report ----------------------------------------------------------------------------------------------------
    const routes = (c: CheckFigures) => {
      const counts = countBy(c.calls, (x) => `${x.route}${x.notModified ? " (304)" : ""}`);
      return sorted(counts).map(([route, n]) => `    ${String(n).padStart(6)}  ${route}`);
    };
    const line = (label: string, s: ReturnType<typeof summary>) =>
      `  ${label.padEnd(8)} ${String(s.wallMs).padStart(7)} ms | GitHub ${s.total} calls: ${s.counted} counted ` +
      `(${s.reads} reads, ${s.writes} writes, ${s.tokens} token), ${s.notModified} × 304 | ` +
      `registry ${s.registryTotal} (${s.heads} HEAD, ${s.gets} GET; max ${s.maxPerTag} per tag) | ` +
      `peak RSS ${s.rssMb} MB${s.heapMb >= 0 ? `, heap ${s.heapMb} MB after GC` : ""}`;
    say("");
    say(line("first", s1));
    say(line("second", s2));
    say(line("third", s3));
    say(`  first check: ${openPulls} pull requests opened for ${unpinnedRepos} repositories with unpinned references`);
    say(
      `  first check reads: ${s1.repoReads} for ${s1.reposRead} repositories (${readsPerRepo.toFixed(2)} a repository, ` +
        `at most ${s1.maxRepoReads}) + ${s1.reads - s1.repoReads} fleet-wide (listing, app, the organization's defaults)`,
    );
    say("  first check, by route:");
    for (const l of routes(first)) say(l);
    say("  second check, by route:");
    for (const l of routes(second)) say(l);
    const pass = (ok: boolean) => (ok ? "PASS" : "FAIL");
    say("");
    say(`  ${pass(checks.second)}  second check: ${s2.counted} counted GitHub calls (target ≤ ${TARGETS.secondCheckCalls})`);
    say(
      `  ${pass(checks.registry)}  second check: ${s2.registryTotal} registry requests for ${distinctTags} distinct tags ` +
        `(target ≤ ${TARGETS.secondCheckRegistryPerTag} a tag; max ${s2.maxPerTag} for one tag)`,
    );
    say(
      `  ${pass(checks.first)}  first check: ${readsPerRepo.toFixed(2)} GitHub reads a repository with Dockerfiles, ` +
        `at most ${s1.maxRepoReads} (target ≤ ${TARGETS.firstCheckReadsPerRepo})`,
    );
    const failures = [...firstProblems, ...secondProblems].filter((l) => /"level":(50|60)/.test(l));
    if (failures.length > 0) {
      say(`  ${failures.length} errors logged; the first: ${failures[0]?.slice(0, 400)}`);
    }

    return {
      repositories: repoCount,
      installations: installationCount,
      dockerfiles: repoCount * DOCKERFILES.length,
      "distinct tags": distinctTags,
      "latency (ms a call)": latencyMs,
      "seeding (s)": Number((seedMs / 1000).toFixed(1)),
      "first: wall (s)": Number((s1.wallMs / 1000).toFixed(1)),
      "first: GitHub calls counted": s1.counted,
      "first: GitHub 304s": s1.notModified,
      "first: GitHub reads": s1.reads,
      "first: GitHub writes": s1.writes,
      "first: token requests": s1.tokens,
      "first: reads a repository": Number(readsPerRepo.toFixed(2)),
      "first: reads a repository (max)": s1.maxRepoReads,
      "first: pull requests opened": openPulls,
      "first: registry HEAD": s1.heads,
      "first: registry GET": s1.gets,
      "first: peak RSS (MB)": s1.rssMb,
      "first: heap after GC (MB)": s1.heapMb,
      "second: wall (s)": Number((s2.wallMs / 1000).toFixed(2)),
      "second: GitHub calls counted": s2.counted,
      "second: GitHub 304s": s2.notModified,
      "second: GitHub writes": s2.writes,
      "second: repositories read": s2.reposRead,
      "second: registry HEAD": s2.heads,
      "second: registry GET": s2.gets,
      "second: registry max a tag": s2.maxPerTag,
      "second: peak RSS (MB)": s2.rssMb,
      "second: heap after GC (MB)": s2.heapMb,
      "third: wall (s)": Number((s3.wallMs / 1000).toFixed(2)),
      "third: GitHub calls counted": s3.counted,
      "third: GitHub 304s": s3.notModified,
      "third: registry requests": s3.registryTotal,
      "third: heap after GC (MB)": s3.heapMb,
      "errors logged": failures.length,
      "target 2nd: ≤ 15 counted calls": pass(checks.second),
      "target 2nd: ≤ 1 registry request/tag": pass(checks.registry),
      "target 1st: ≤ 3 reads a repository": pass(checks.first),
    };
  } finally {
    await queue?.close();
    await client?.close();
    await registry?.stop();
    await gh.close();
  }
}
