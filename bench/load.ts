// Load benchmark: the real app process (`node dist/src/app/main.js`, what `npm start` runs) against the fake GitHub
// (through a proxy that counts each repository's GraphQL state query: one per scan) and a real Distribution registry.
// A burst of signed webhooks (pushes touching a Dockerfile, `/digest-pin rescan` comments, and some that need no work)
// over a few hundred repositories, many repeated, from a bounded number of concurrent senders. Measures the
// acknowledgement time of every delivery, the app's peak RSS (VmHWM), how often each repository was scanned
// (coalescing), and that nothing was lost: every repository has exactly one pull request with the right bytes, every
// command got its 👀 and a reply.
//
// `startAppProcess`, the payload builders and `runLoad` are also used by test/hostile/webhooks.test.ts.

import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { startAppProcess, type Acknowledgement, type AppProcess, type Delivery } from "./harness/app-process.js";
import { FakeGitHub } from "./harness/fake-github.js";
import { LocalRegistry, registryAvailability } from "./harness/registry.js";

/**
 * A proxy in front of the fake GitHub that counts, per repository, the GraphQL state queries (`DigestPinRepoState`):
 * every scan starts with one.
 */
export class StateQueryCounter {
  readonly byRepo = new Map<string, number>();
  private server!: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  port = 0;

  static async start(upstreamPort: number): Promise<StateQueryCounter> {
    const c = new StateQueryCounter();
    c.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (req.method === "POST" && (req.url ?? "").includes("graphql")) c.count(body);
        const upstream = http.request(
          { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent: c.agent },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on("error", () => res.destroy());
        upstream.end(body);
      });
    });
    c.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => c.server.listen(0, "127.0.0.1", resolve));
    c.port = (c.server.address() as AddressInfo).port;
    return c;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  private count(body: Buffer): void {
    try {
      const { query, variables } = JSON.parse(body.toString("utf8")) as { query?: string; variables?: Record<string, string> };
      if (!query?.includes("DigestPinRepoState") || !variables) return;
      const repo = `${variables.owner}/${variables.name}`.toLowerCase();
      this.byRepo.set(repo, (this.byRepo.get(repo) ?? 0) + 1);
    } catch {
      // not JSON: not ours to count
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Webhook payloads: the examples GitHub documents (@octokit/webhooks-examples), rewritten to name the fake's state.

type Example = Record<string, unknown>;
const require = createRequire(import.meta.url);

function example(event: string, action: string | undefined, pick: (e: Example) => boolean = () => true): Example {
  const groups = require("@octokit/webhooks-examples") as { name: string; examples: Example[] }[];
  const found = groups.find((g) => g.name === event)?.examples.find((e) => (action === undefined || e.action === action) && pick(e));
  if (!found) throw new Error(`no example payload for ${event}.${action ?? ""}`);
  return structuredClone(found);
}

/** A push of `after` to `branch` touching `paths`. */
export function pushPayload(gh: FakeGitHub, installationId: number, fullName: string, branch: string, paths: string[]): Example {
  const [owner = "", name = ""] = fullName.split("/");
  const payload = example("push", undefined, (e) => Array.isArray(e.commits) && (e.commits as unknown[]).length > 0);
  const after = gh.getRef(owner, name, branch) ?? "0".repeat(40);
  payload.ref = `refs/heads/${branch}`;
  payload.after = after;
  payload.deleted = false;
  payload.repository = gh.repositoryPayload(owner, name);
  payload.installation = { id: installationId, node_id: "x" };
  const [commit] = payload.commits as Example[];
  payload.commits = [{ ...commit, id: after, added: [], removed: [], modified: paths }];
  return payload;
}

/** `login` comments `body` on issue `number` (the comment is made on the fake, so reactions and replies land). */
export function commentPayload(
  gh: FakeGitHub,
  installationId: number,
  fullName: string,
  number: number,
  body: string,
  login: string,
  options: { type?: "User" | "Bot"; action?: "created" | "edited"; record?: boolean } = {},
): Example {
  const [owner = "", name = ""] = fullName.split("/");
  const payload = example("issue_comment", "created");
  payload.action = options.action ?? "created";
  const id = options.record === false ? 987_654_321 : gh.addComment(owner, name, number, body, login).id;
  const issue = payload.issue as Example;
  issue.number = number;
  delete issue.pull_request;
  const user = { ...gh.userPayload(login), login, type: options.type ?? "User" };
  payload.comment = { ...(payload.comment as Example), id, body, user };
  payload.sender = user;
  payload.repository = gh.repositoryPayload(owner, name);
  payload.installation = { id: installationId, node_id: "x" };
  return payload;
}

/** `installation.created` naming these repositories. */
export function installationPayload(gh: FakeGitHub, installationId: number, fullNames: string[]): Example {
  const payload = example("installation", "created");
  const account = (gh.installationPayload(installationId) as { account: unknown }).account;
  payload.installation = { ...(payload.installation as Example), id: installationId, account };
  payload.repositories = fullNames.map((fullName) => {
    const [owner = "", name = ""] = fullName.split("/");
    const r = gh.repositoryPayload(owner, name) as { id: number; node_id: string; full_name: string; private: boolean };
    return { id: r.id, node_id: r.node_id, name, full_name: r.full_name, private: r.private };
  });
  return payload;
}

// ---------------------------------------------------------------------------------------------------------------------

export interface LoadOptions {
  /** Repositories, each needing a pull request (default 200). */
  repos?: number;
  /** Installations they are spread over (default 40). Octokit paces writes at one a second per installation. */
  installations?: number;
  /** Webhooks in the burst (default 2,000). */
  webhooks?: number;
  /** Concurrent senders (default 16). */
  senders?: number;
  /** Share of the webhooks that are `/digest-pin rescan` commands (default 0.2); 0.1 need no work, the rest are pushes. */
  commandShare?: number;
  /** The app's DIGEST_PIN_CONCURRENCY (default: the number of installations). */
  concurrency?: number;
  /** How long to wait for the work to finish after the burst (default 10 minutes). */
  settleTimeoutMs?: number;
  /** Print the report (default true). */
  print?: boolean;
}

export const TARGETS = {
  /** Acknowledgement time of a delivery, 99th percentile. */
  p99Ms: 1_000,
  /** Scans of one repository during the burst: one, plus at most one for webhooks that came while it ran. */
  maxScansPerRepo: 2,
  /** Peak RSS of the app process. */
  peakRssMb: 512,
};

export interface LoadReport {
  figures: Record<string, number | string>;
  pass: boolean;
  failures: string[];
  /** Acknowledgement statuses, by status. */
  statuses: Record<number, number>;
  scansPerRepo: Map<string, number>;
  /** Repositories without exactly one open pull request with the right bytes. */
  lost: string[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** A deterministic generator (xorshift), so that every run sends the same burst. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const IMAGES = 8;

export async function runLoad(options: LoadOptions = {}): Promise<LoadReport> {
  const repos = options.repos ?? 200;
  const installations = Math.min(options.installations ?? 40, repos);
  const webhooks = options.webhooks ?? 2_000;
  const senders = options.senders ?? 16;
  const concurrency = options.concurrency ?? installations;
  const commandShare = Math.min(options.commandShare ?? 0.2, 0.9);
  const settleTimeoutMs = options.settleTimeoutMs ?? 600_000;

  const gh = await FakeGitHub.start();
  const counter = await StateQueryCounter.start(Number(gh.host.split(":")[1]));
  const registry = await LocalRegistry.start();
  let app: AppProcess | undefined;
  try {
    // The registry: a few multi-arch images every repository uses.
    const digests: string[] = [];
    for (let i = 0; i < IMAGES; i++) {
      digests.push((await registry.pushImage(`load/image${i}`, "1", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64"] })).digest);
    }
    // The fleet: repositories spread over installations (one organization each), a writer and an issue each.
    const names: { full: string; installation: number; issue: number; refs: [number, number] }[] = [];
    for (let i = 0; i < installations; i++) gh.addInstallation(1000 + i, { login: `org${i}`, type: "Organization" });
    for (let r = 0; r < repos; r++) {
      const installation = 1000 + (r % installations);
      const owner = `org${r % installations}`;
      const name = `service-${r}`;
      const refs: [number, number] = [r % IMAGES, (r * 3 + 1) % IMAGES];
      const dockerfile =
        `FROM ${registry.host}/load/image${refs[0]}:1 AS build\nRUN make\n` +
        `FROM ${registry.host}/load/image${refs[1]}:1\nCOPY --from=build /out /app\n`;
      gh.addRepo(installation, { owner, name, files: { Dockerfile: dockerfile, "README.md": `# ${name}\n` } });
      gh.setPermission(owner, name, "writer", "write");
      const issue = gh.openIssue(owner, name, { title: "ops", user: "writer" }).number;
      names.push({ full: `${owner}/${name}`, installation, issue, refs });
    }

    // The burst, made before it is sent (the comments exist on the fake, as they would on GitHub).
    const rand = random(42);
    const burst: (Delivery & { repo: string; command: boolean })[] = [];
    const commanded = new Map<string, number[]>(); // repo → command comment ids
    let pushes = 0;
    let noise = 0;
    for (let i = 0; i < webhooks; i++) {
      const repo = names[Math.floor(rand() * names.length)] as (typeof names)[number];
      const roll = rand();
      if (roll < 0.9 - commandShare) {
        pushes++;
        const payload = pushPayload(gh, repo.installation, repo.full, "main", ["Dockerfile"]);
        burst.push({ name: "push", payload, repo: repo.full, command: false });
      } else if (roll < 0.9) {
        const payload = commentPayload(gh, repo.installation, repo.full, repo.issue, "/digest-pin rescan", "writer");
        commanded.set(repo.full, [...(commanded.get(repo.full) ?? []), (payload.comment as { id: number }).id]);
        burst.push({ name: "issue_comment", payload, repo: repo.full, command: true });
      } else {
        // Work the app must recognise as none: a push touching no Dockerfile, a comment without a command.
        noise++;
        const d: Delivery =
          roll < 0.95
            ? { name: "push", payload: pushPayload(gh, repo.installation, repo.full, "main", ["README.md"]) }
            : { name: "issue_comment", payload: commentPayload(gh, repo.installation, repo.full, repo.issue, "LGTM", "writer") };
        burst.push({ ...d, repo: repo.full, command: false });
      }
    }

    app = await startAppProcess(counter.host, {
      DIGEST_PIN_INSECURE_REGISTRIES: registry.host,
      DIGEST_PIN_CONCURRENCY: String(concurrency),
    });
    const rssAtStart = app.peakRss();
    gh.resetCounts();

    // Send: `senders` workers, each taking the next delivery as soon as its previous one is acknowledged.
    const acks: (Acknowledgement & { name: string; command: boolean })[] = [];
    /** When the last command for each repository was sent (the fake's clock). */
    const lastCommand = new Map<string, number>();
    let next = 0;
    const started = performance.now();
    const target = app;
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next < burst.length) {
          const d = burst[next++] as (typeof burst)[number];
          if (d.command) lastCommand.set(d.repo, Date.now());
          const ack = await target.send(d).catch((e: Error) => ({ status: 0, ms: NaN, text: e.message }));
          acks.push({ ...ack, name: d.name, command: d.command });
        }
      }),
    );
    const sendMs = performance.now() - started;

    // Settle: every repository has its pull request, every command its reply, and GitHub has gone quiet.
    const expected = (r: (typeof names)[number]) =>
      `FROM ${registry.host}/load/image${r.refs[0]}:1@${digests[r.refs[0]]} AS build\nRUN make\n` +
      `FROM ${registry.host}/load/image${r.refs[1]}:1@${digests[r.refs[1]]}\nCOPY --from=build /out /app\n`;
    const botLogin = gh.botLogin;
    /** A reply on the repository's issue was posted after its last command was sent (or none was due). */
    const repliedAfterLastCommand = (r: (typeof names)[number]) => {
      const last = lastCommand.get(r.full);
      if (last === undefined) return true;
      const path = `/repos/${r.full}/issues/${r.issue}/comments`;
      return gh.calls.some((c) => c.method === "POST" && c.path === path && c.status === 201 && c.at >= last);
    };
    const done = () =>
      names.every((r) => {
        const [owner = "", name = ""] = r.full.split("/");
        return gh.pulls(owner, name).length === 1 && repliedAfterLastCommand(r);
      });
    const settleDeadline = performance.now() + settleTimeoutMs;
    let quietSince = performance.now();
    let calls = gh.calls.length;
    while (performance.now() < settleDeadline) {
      await new Promise((r) => setTimeout(r, 250));
      if (gh.calls.length !== calls) {
        calls = gh.calls.length;
        quietSince = performance.now();
      }
      if (done() && performance.now() - quietSince > 2_000) break;
    }
    const settleMs = performance.now() - started;
    const metrics = await app.metrics();
    const peak = app.peakRss();

    // What was lost, if anything.
    const lost: string[] = [];
    let missingReactions = 0;
    let missingReplies = 0;
    for (const r of names) {
      const [owner = "", name = ""] = r.full.split("/");
      const pulls = gh.pulls(owner, name);
      const file = gh.readFile(owner, name, "digest-pin/main", "Dockerfile")?.toString();
      if (pulls.length !== 1 || pulls[0]?.state !== "open" || file !== expected(r)) lost.push(r.full);
      for (const id of commanded.get(r.full) ?? []) {
        if (!gh.reactions(owner, name, id).some((x) => x.content === "eyes" && x.user === botLogin)) missingReactions++;
      }
      if (!repliedAfterLastCommand(r)) missingReplies++;
    }

    const ms = acks.map((a) => a.ms).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const statuses: Record<number, number> = {};
    for (const a of acks) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    const scansPerRepo = new Map(names.map((r) => [r.full.toLowerCase(), counter.byRepo.get(r.full.toLowerCase()) ?? 0]));
    const scanCounts = [...scansPerRepo.values()];
    const histogram: Record<number, number> = {};
    for (const n of scanCounts) histogram[n] = (histogram[n] ?? 0) + 1;
    const ok2xx = acks.filter((a) => a.status >= 200 && a.status < 300).length;
    const p50 = percentile(ms, 50);
    const p99 = percentile(ms, 99);
    const maxScans = Math.max(...scanCounts);
    const scansTotal = [...metrics].filter(([k]) => k.startsWith("digest_pin_scans_total")).reduce((n, [, v]) => n + v, 0);
    const failedScans = metrics.get('digest_pin_scans_total{outcome="failed"}') ?? 0;

    const failures: string[] = [];
    if (ok2xx !== acks.length) failures.push(`${acks.length - ok2xx} deliveries not acknowledged with 2xx`);
    if (!(p99 < TARGETS.p99Ms)) failures.push(`p99 acknowledgement ${Math.round(p99)} ms ≥ ${TARGETS.p99Ms} ms`);
    if (maxScans > TARGETS.maxScansPerRepo) failures.push(`a repository was scanned ${maxScans} times`);
    if (scanCounts.some((n) => n === 0)) failures.push("a repository was never scanned");
    if (lost.length > 0) failures.push(`${lost.length} repositories without exactly one right pull request`);
    if (missingReactions + missingReplies > 0) failures.push(`${missingReactions} 👀 and ${missingReplies} replies missing`);
    if (peak !== null && peak > TARGETS.peakRssMb * 1024 * 1024) failures.push(`peak RSS ${Math.round(peak / 2 ** 20)} MB`);

    const figures: Record<string, number | string> = {
      "repositories / installations": `${repos} / ${installations}`,
      "webhooks sent (senders)": `${acks.length} (${senders})`,
      "  pushes / commands / no-work": `${pushes} / ${[...commanded.values()].flat().length} / ${noise}`,
      "send duration (s)": Number((sendMs / 1000).toFixed(1)),
      "acknowledged 2xx": `${ok2xx}/${acks.length}`,
      "ack p50 (ms)": Number(p50.toFixed(1)),
      "ack p99 (ms)": Number(p99.toFixed(1)),
      "ack max (ms)": Number((ms.at(-1) ?? NaN).toFixed(1)),
      "ack p99 push / command / other (ms)": [
        acks.filter((a) => a.name === "push"),
        acks.filter((a) => a.command),
        acks.filter((a) => a.name !== "push" && !a.command),
      ]
        .map((group) => percentile(group.map((a) => a.ms).sort((x, y) => x - y), 99).toFixed(1))
        .join(" / "),
      "scans per repo (state queries)": Object.entries(histogram)
        .map(([n, count]) => `${count}×${n}`)
        .join(", "),
      "scans (app metric) / failed": `${scansTotal} / ${failedScans}`,
      "all work done after (s)": Number((settleMs / 1000).toFixed(1)),
      "GitHub calls during the run": gh.calls.length,
      "peak RSS of the app (MB)": peak === null ? "n/a" : Math.round(peak / 2 ** 20),
      "RSS at start (MB)": rssAtStart === null ? "n/a" : Math.round(rssAtStart / 2 ** 20),
      "repositories lost": lost.length,
      "missing 👀 / replies": `${missingReactions} / ${missingReplies}`,
      result: failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`,
    };
    return { figures, pass: failures.length === 0, failures, statuses, scansPerRepo, lost };
  } finally {
    await app?.stop();
    await counter.close();
    await registry.stop();
    await gh.close();
  }
}

export async function benchLoad(options: LoadOptions = {}): Promise<Record<string, number | string>> {
  const availability = registryAvailability();
  if (!availability.available) {
    console.log(`load benchmark skipped: ${availability.reason}`);
    return { skipped: availability.reason };
  }
  const report = await runLoad(options);
  if (options.print !== false) {
    console.log(
      `load: ${report.figures["webhooks sent (senders)"]} webhooks, ack p50 ${report.figures["ack p50 (ms)"]} ms / p99 ` +
        `${report.figures["ack p99 (ms)"]} ms (target < ${TARGETS.p99Ms} ms), peak RSS ${report.figures["peak RSS of the app (MB)"]} MB, ` +
        `scans per repo ${report.figures["scans per repo (state queries)"]}: ${report.pass ? "PASS" : "FAIL"}`,
    );
  }
  return report.figures;
}
