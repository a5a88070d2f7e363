// The webhook handlers with nock standing in for GitHub: exactly which API calls each real example payload causes.
import nock from "nock";
import { pino } from "pino";
import { Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, type ScanJob } from "../../src/app/index.js";
import type { JobQueue } from "../../src/jobs/types.js";
import type { Resolver } from "../../src/registry/types.js";
import { example } from "./app-harness.js";
import { testPrivateKey, unthrottledOctokit } from "../../bench/harness/probot.js";

const API = "https://api.github.com";

const unusedResolver: Resolver = {
  resolve: () => Promise.reject(new Error("no registry in handler tests")),
};

describe("webhook handlers", () => {
  let probot: Probot;
  let queue: JobQueue<ScanJob>;
  let pushed: ScanJob[];

  beforeEach(async () => {
    nock.disableNetConnect();
    probot = new Probot({
      appId: 1,
      privateKey: testPrivateKey(),
      secret: "s",
      log: pino({ level: "silent" }),
      Octokit: unthrottledOctokit(),
    });
    pushed = [];
    // concurrency 0: jobs are recorded, never run, so only the handlers' own calls reach GitHub.
    await probot.load(
      createApp({
        resolver: unusedResolver,
        concurrency: 0,
        onQueue: (q) => {
          queue = q;
          const push = q.push.bind(q);
          q.push = (job) => {
            pushed.push(job);
            return push(job);
          };
        },
      }),
      { cwd: process.cwd(), addHandler: () => undefined },
    );
    nock(API).post(/\/app\/installations\/\d+\/access_tokens/).reply(201, { token: "t", permissions: {} }).persist();
  });

  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const receive = (name: string, payload: unknown) =>
    probot.receive({ id: "1", name, payload } as Parameters<Probot["receive"]>[0]);

  it("installation_repositories.added enqueues the added repositories and calls nothing", async () => {
    await receive("installation_repositories", example("installation_repositories", "added"));
    expect(pushed.map((j) => `${j.owner}/${j.repo}`)).toEqual(["Codertocat/Space"]);
    expect(await queue.size()).toBe(1);
  });

  it("a push to a tag or a branch other than the default is ignored", async () => {
    await receive("push", { ...example("push"), installation: { id: 2 } });
    expect(pushed).toHaveLength(0);
  });

  const comment = (body: string, extra: Record<string, unknown> = {}) => {
    const payload = example("issue_comment", "created", (e) => Boolean(e.installation));
    (payload.comment as Record<string, unknown>).body = body;
    return { ...payload, ...extra };
  };

  it("refuses a command from a user without write access, with one reply and nothing else", async () => {
    const permission = nock(API)
      .get("/repos/Codertocat/Hello-World/collaborators/Codertocat/permission")
      .reply(200, { permission: "read", role_name: "read", user: { login: "Codertocat" } });
    let reply = "";
    const replied = nock(API)
      .post("/repos/Codertocat/Hello-World/issues/1/comments", (b: { body: string }) => ((reply = b.body), true))
      .reply(201, { id: 1 });
    await receive("issue_comment", comment("/digest-pin rescan"));
    expect(permission.isDone() && replied.isDone()).toBe(true);
    expect(reply).toMatch(/need write access/);
    expect(pushed).toHaveLength(0);
  });

  it("a writer's rescan gets 👀 at once and is enqueued with a reply target", async () => {
    nock(API)
      .get("/repos/Codertocat/Hello-World/collaborators/Codertocat/permission")
      .reply(200, { permission: "write", role_name: "maintain", user: { login: "Codertocat" } });
    const reaction = nock(API)
      .post(/\/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+\/reactions/, { content: "eyes" })
      .reply(201, {});
    await receive("issue_comment", comment("Thanks!\n/digest-pin rescan\n"));
    expect(reaction.isDone()).toBe(true);
    expect(pushed).toMatchObject([{ owner: "Codertocat", repo: "Hello-World", recreate: false, replyTo: [1] }]);
  });

  it("ignores edited comments, comments by bots and comments without a command (no API call at all)", async () => {
    const edited = example("issue_comment", "edited");
    (edited.comment as Record<string, unknown>).body = "/digest-pin rescan";
    await receive("issue_comment", { ...edited, installation: { id: 2 } });
    const bot = comment("/digest-pin rescan");
    (bot.comment as Record<string, unknown>).user = { login: "digest-pin[bot]", type: "Bot" };
    await receive("issue_comment", { ...bot, sender: { login: "digest-pin[bot]", type: "Bot" } });
    await receive("issue_comment", comment("LGTM"));
    expect(pushed).toHaveLength(0);
    expect(nock.pendingMocks().filter((m) => !m.includes("access_tokens"))).toEqual([]);
  });

  it("answers an unknown command with help, for writers", async () => {
    nock(API)
      .get("/repos/Codertocat/Hello-World/collaborators/Codertocat/permission")
      .reply(200, { permission: "admin", user: { login: "Codertocat" } });
    let reply = "";
    nock(API)
      .post("/repos/Codertocat/Hello-World/issues/1/comments", (b: { body: string }) => ((reply = b.body), true))
      .reply(201, { id: 1 });
    await receive("issue_comment", comment("/digest-pin rescan now please"));
    expect(reply).toMatch(/Unknown command/);
    expect(reply).toContain("/digest-pin rescan");
    expect(pushed).toHaveLength(0);
  });

  it("/digest-pin recreate outside digest-pin's own pull request is refused", async () => {
    nock(API)
      .get("/repos/Codertocat/Hello-World/collaborators/Codertocat/permission")
      .reply(200, { permission: "write", user: { login: "Codertocat" } });
    nock(API).get("/app").reply(200, { slug: "digest-pin" });
    let reply = "";
    nock(API)
      .post("/repos/Codertocat/Hello-World/issues/1/comments", (b: { body: string }) => ((reply = b.body), true))
      .reply(201, { id: 1 });
    await receive("issue_comment", comment("/digest-pin recreate"));
    expect(reply).toMatch(/only on digest-pin's own pull request/);
    expect(pushed).toHaveLength(0);
  });
});
