// An in-process Probot running the real app against the fake GitHub and a real registry, fed with real example
// webhook payloads (from @octokit/webhooks-examples) rewritten to name the fake's installation and repositories.
import examples from "@octokit/webhooks-examples";
import { pino } from "pino";
import { Probot } from "probot";
import { createApp, type AppOptions, type ScanJob } from "../../src/app/index.js";
import type { JobQueue } from "../../src/jobs/types.js";
import { RegistryClient } from "../../src/registry/client.js";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { LocalRegistry } from "../../bench/harness/registry.js";
import { testProbot, unthrottledOctokit } from "../../bench/harness/probot.js";

export const INSTALLATION = 77;
export const OWNER = "acme";

type Example = { action?: string; [key: string]: unknown };

/** A deep copy of the first example payload of `event` (with `action`, when given). */
export function example(event: string, action?: string, pick: (e: Example) => boolean = () => true): Example {
  const group = (examples as unknown as { name: string; examples: Example[] }[]).find((g) => g.name === event);
  const found = group?.examples.find((e) => (action === undefined || e.action === action) && pick(e));
  if (!found) throw new Error(`no example payload for ${event}.${action ?? ""}`);
  return structuredClone(found);
}

export interface AppHarness {
  gh: FakeGitHub;
  registry: LocalRegistry;
  client: RegistryClient;
  probot: Probot;
  queue: JobQueue<ScanJob>;
  deliver(name: string, payload: Example): Promise<void>;
  /** Wait until every enqueued scan finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}


/** The real app against a fresh fake GitHub and registry; `options` go to createApp (a scanner, an observer, a clock). */
export async function startApp(options: Pick<AppOptions, "scanner" | "onScanned" | "now"> = {}): Promise<AppHarness> {
  const gh = await FakeGitHub.start();
  gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
  const registry = await LocalRegistry.start();
  const client = new RegistryClient({ insecureRegistries: [registry.host], retryBaseMs: 1, maxRetries: 1 });
  const probot = testProbot(unthrottledOctokit(gh.apiUrl), pino({ level: process.env.LOG_LEVEL ?? "silent" }));
  let queue: JobQueue<ScanJob> | undefined;
  await probot.load(createApp({ ...options, resolver: client, onQueue: (q) => (queue = q) }), {
    cwd: process.cwd(),
    addHandler: () => undefined,
  });
  if (!queue) throw new Error("the app did not create its queue");
  const q = queue;
  let delivery = 0;
  return {
    gh,
    registry,
    client,
    probot,
    queue: q,
    deliver: (name, payload) =>
      probot.receive({ id: `delivery-${++delivery}`, name, payload } as Parameters<Probot["receive"]>[0]),
    idle: () => q.onIdle(),
    async close() {
      await q.onIdle();
      await client.close();
      await registry.stop();
      await gh.close();
    },
  };
}

/** The example `installation.created` payload, naming these repositories of the fake (of `owner`'s installation). */
export function installationCreated(gh: FakeGitHub, repos: string[], installation = INSTALLATION, owner = OWNER): Example {
  const payload = example("installation", "created");
  payload.installation = { ...(payload.installation as object), id: installation, account: gh.userPayload(owner) };
  payload.repositories = repos.map((name) => {
    const r = gh.repositoryPayload(owner, name) as { id: number; node_id: string; full_name: string; private: boolean };
    return { id: r.id, node_id: r.node_id, name, full_name: r.full_name, private: r.private };
  });
  return payload;
}

/** The example push payload, as a push of `after` to the default branch touching `paths`. */
export function pushed(gh: FakeGitHub, repo: string, after: string, paths: string[]): Example {
  const payload = example("push", undefined, (e) => Array.isArray(e.commits) && (e.commits as unknown[]).length > 0);
  const repository = gh.repositoryPayload(OWNER, repo) as { default_branch: string };
  payload.ref = `refs/heads/${repository.default_branch}`;
  payload.after = after;
  payload.deleted = false;
  payload.repository = repository;
  payload.installation = { id: INSTALLATION, node_id: "x" };
  const [commit] = payload.commits as Record<string, unknown>[];
  payload.commits = [{ ...commit, id: after, added: [], removed: [], modified: paths }];
  return payload;
}

/** The example `issue_comment.created` payload: `login` says `body` on issue or PR `number`. */
export function commented(
  gh: FakeGitHub,
  repo: string,
  number: number,
  body: string,
  login: string,
  options: { isPull?: boolean; type?: "User" | "Bot" } = {},
): Example {
  const payload = example("issue_comment", "created");
  // The comment exists on the fake, so reactions and replies land where a user would see them.
  const record = gh.addComment(OWNER, repo, number, body, login);
  const issue = payload.issue as Record<string, unknown>;
  issue.number = number;
  if (options.isPull) issue.pull_request = { url: `${gh.apiUrl}/repos/${OWNER}/${repo}/pulls/${number}` };
  else delete issue.pull_request;
  const user = { ...(gh.userPayload(login) as object), login, type: options.type ?? "User" };
  payload.comment = { ...(payload.comment as object), id: record.id, body, user };
  payload.sender = user;
  payload.repository = gh.repositoryPayload(OWNER, repo);
  payload.installation = { id: INSTALLATION, node_id: "x" };
  return payload;
}
