// Hostile webhooks against the real app process (`node dist/src/app/main.js`): forged, tampered and unsigned
// deliveries, replays, events naming repositories outside the installation, and commands the app must not obey. Each
// case runs in an installation of its own, because the real process paces each installation's writes (Octokit's
// throttling), and the cases should not wait for each other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMarker } from "../../src/github/marker.js";
import {
  commentPayload,
  installationPayload,
  pushPayload,
  signature,
  startAppProcess,
  type AppProcess,
} from "../../bench/load.js";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { BadRegistry, sleep, until } from "../faults/harness.js";

const BOT = "digest-pin[bot]";

describe("hostile webhooks against the app process", () => {
  let gh: FakeGitHub;
  let bad: BadRegistry;
  let app: AppProcess;
  let digest: string;
  let nextInstallation = 500;

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    bad = await BadRegistry.start();
    digest = bad.image("team/app", "1");
    app = await startAppProcess(gh.host, { DIGEST_PIN_INSECURE_REGISTRIES: bad.host });
  }, 30_000);
  afterAll(async () => {
    await app?.stop();
    await bad?.close();
    await gh?.close();
  });

  /** An installation of its own with one repository that needs a pull request, a writer, a reader and an issue. */
  const fresh = (name: string) => {
    const installation = nextInstallation++;
    const owner = `org${installation}`;
    gh.addInstallation(installation, { login: owner, type: "Organization" });
    gh.addRepo(installation, { name, files: { Dockerfile: `FROM ${bad.host}/team/app:1\n` } });
    gh.setPermission(owner, name, "writer", "write");
    gh.setPermission(owner, name, "reader", "read");
    const issue = gh.openIssue(owner, name, { title: "ops", user: "writer" }).number;
    return { installation, owner, name, full: `${owner}/${name}`, issue };
  };
  /** Calls the app made about a repository (reads and writes), by route. */
  const callsFor = (full: string) => gh.calls.filter((c) => c.path.startsWith(`/repos/${full}/`)).map((c) => `${c.method} ${c.route}`);
  const graphqlSince = (n: number) => gh.calls.slice(n).filter((c) => c.route === "POST /graphql").length;
  /** Wait until GitHub has heard nothing from the app for `ms`. */
  const quiet = async (ms = 1_500) => {
    let seen = gh.calls.length;
    let since = Date.now();
    await until("the app to go quiet", () => {
      if (gh.calls.length !== seen) {
        seen = gh.calls.length;
        since = Date.now();
      }
      return Date.now() - since >= ms;
    }, 30_000);
  };

  it("refuses forged, tampered, unsigned and malformed deliveries with a 4xx, and does nothing", async () => {
    const r = fresh("signed");
    const payload = installationPayload(gh, r.installation, [r.full]);
    const body = JSON.stringify(payload);
    const tampered = JSON.stringify({ ...payload, repositories: [] });
    const sha1 = `sha1=${(await import("node:crypto")).createHmac("sha1", "load-webhook-secret").update(body).digest("hex")}`;
    gh.resetCounts();
    const attempts: Array<[string, Parameters<AppProcess["send"]>[0]]> = [
      ["signed with another secret", { name: "installation", payload, signature: signature(body, "not-the-secret") }],
      ["the signature of another body", { name: "installation", payload, body, signature: signature(tampered) }],
      ["a body changed after signing", { name: "installation", payload, body: tampered, signature: signature(body) }],
      ["no signature", { name: "installation", payload, signature: null }],
      ["only the SHA-1 signature", { name: "installation", payload, signature: null, headers: { "x-hub-signature": sha1 } }],
      ["an empty signature", { name: "installation", payload, signature: "" }],
      ["a truncated signature", { name: "installation", payload, signature: signature(body).slice(0, 40) }],
      ["a signature that is not hex", { name: "installation", payload, signature: `sha256=${"z".repeat(64)}` }],
      ["no event name", { name: "installation", payload, headers: { "x-github-event": "" } }],
      ["not JSON", { name: "installation", payload, body: "installation=1", headers: { "content-type": "application/x-www-form-urlencoded" } }],
    ];
    for (const [what, delivery] of attempts) {
      const ack = await app.send(delivery);
      expect(ack.status, what).toBeGreaterThanOrEqual(400);
      expect(ack.status, what).toBeLessThan(500);
    }
    await sleep(500);
    expect(gh.calls).toEqual([]);
    expect(gh.pulls(r.owner, r.name)).toEqual([]);
    expect((await fetch(`${app.url}/healthz`)).ok).toBe(true);
  });

  it("acts once on a replayed delivery: one pull request, one reply per command", async () => {
    const r = fresh("replayed");
    const install = { name: "installation", payload: installationPayload(gh, r.installation, [r.full]), id: "replay-1" };
    for (let i = 0; i < 3; i++) expect((await app.send(install)).status).toBe(200);
    await until("the pull request", () => gh.pulls(r.owner, r.name)[0], 30_000);
    await quiet();
    // The same command comment delivered three times: at once twice, and again after its scan is long done.
    const command = {
      name: "issue_comment",
      payload: commentPayload(gh, r.installation, r.full, r.issue, "/digest-pin rescan", "writer"),
      id: "replay-2",
    };
    expect((await app.send(command)).status).toBe(200);
    expect((await app.send(command)).status).toBe(200);
    await until("the reply", () => gh.comments(r.owner, r.name, r.issue).some((c) => c.user === BOT), 30_000);
    await quiet();
    expect((await app.send({ ...command, id: "replay-3" })).status).toBe(200);
    await quiet();

    expect(gh.pulls(r.owner, r.name)).toHaveLength(1);
    expect(gh.branches(r.owner, r.name)).toEqual(["digest-pin/main", "main"]);
    expect(readMarker(gh.pulls(r.owner, r.name)[0]?.body)?.commit).toBe(gh.getRef(r.owner, r.name, "digest-pin/main"));
    expect(gh.readFile(r.owner, r.name, "digest-pin/main", "Dockerfile")?.toString()).toBe(`FROM ${bad.host}/team/app:1@${digest}\n`);
    const thread = gh.comments(r.owner, r.name, r.issue);
    expect(thread.map((c) => c.user)).toEqual(["writer", BOT]);
    expect(thread[1]?.body).toMatch(/already current/);
  }, 60_000);

  it("an event naming a repository outside its installation fails cleanly and writes nothing there", async () => {
    const victim = fresh("secret"); // another organization's installation
    const r = fresh("mine");
    const before = gh.calls.length;
    const push = pushPayload(gh, victim.installation, victim.full, "main", ["Dockerfile"]);
    (push as { installation: { id: number } }).installation.id = r.installation;
    const install = installationPayload(gh, victim.installation, [victim.full]);
    (install as { installation: { id: number } }).installation.id = r.installation;
    const comment = commentPayload(gh, r.installation, victim.full, victim.issue, "/digest-pin rescan", "writer");
    for (const delivery of [
      { name: "push", payload: push },
      { name: "installation", payload: install },
      { name: "issue_comment", payload: comment },
    ]) {
      const ack = await app.send(delivery);
      expect(ack.status, delivery.name).toBeLessThan(600);
    }
    await quiet();
    // Every call about the other organization's repository was refused; nothing was written to it.
    const about = gh.calls.slice(before).filter((c) => c.path.startsWith(`/repos/${victim.full}/`));
    expect(about.every((c) => c.status === 404)).toBe(true);
    expect(gh.branches(victim.owner, victim.name)).toEqual(["main"]);
    expect(gh.pulls(victim.owner, victim.name)).toEqual([]);
    expect(gh.comments(victim.owner, victim.name, victim.issue).map((c) => c.user)).toEqual(["writer"]);
    expect(app.output()).toMatch(new RegExp(`"repository":"${victim.full}".*"msg":"job failed"|"msg":"job failed".*"repository":"${victim.full}"`));
    // And the app keeps serving: its own repository gets its pull request.
    const ack = await app.send({ name: "push", payload: pushPayload(gh, r.installation, r.full, "main", ["Dockerfile"]) });
    expect(ack.status).toBe(200);
    await until("the pull request", () => gh.pulls(r.owner, r.name)[0], 30_000);
  }, 60_000);

  it("obeys only writers' commands: readers and strangers get one clear reply, bots and look-alikes nothing", async () => {
    const cases = {
      reader: { login: "reader", body: "/digest-pin rescan", reply: /commands need write access to this repository; yours is `read`/ },
      stranger: { login: "passer-by", body: "/digest-pin recreate", reply: /commands need write access to this repository; yours is `none`/ },
      trailing: { login: "writer", body: "/digest-pin rescan please, now", reply: /^Unknown command `\/digest-pin rescan please, now`/ },
      bot: { login: "renovate[bot]", body: "/digest-pin rescan", type: "Bot" as const },
      lookalike: { login: "evil[bot]", body: "/digest-pin rescan" },
      ownbot: { login: BOT, body: "/digest-pin rescan", type: "Bot" as const },
      quoted: { login: "writer", body: "> /digest-pin rescan\n\nWhy did it do that?" },
      inline: { login: "writer", body: "Run `/digest-pin rescan` when ready" },
      edited: { login: "writer", body: "/digest-pin rescan", action: "edited" as const },
    };
    const repos = Object.fromEntries(Object.keys(cases).map((name) => [name, fresh(`cmd-${name}`)]));
    const before = gh.calls.length;
    const comments: Record<string, number> = {};
    for (const [name, c] of Object.entries(cases)) {
      const r = repos[name] as ReturnType<typeof fresh>;
      const payload = commentPayload(gh, r.installation, r.full, r.issue, c.body, c.login, {
        type: "type" in c ? c.type : "User",
        action: "action" in c ? c.action : "created",
      });
      comments[name] = (payload.comment as { id: number }).id;
      const ack = await app.send({ name: "issue_comment", payload });
      expect(ack.status, name).toBe(200);
      expect(ack.ms, name).toBeLessThan(5_000);
    }
    await until("the replies", () =>
      ["reader", "stranger", "trailing"].every((name) => {
        const r = repos[name] as ReturnType<typeof fresh>;
        return gh.comments(r.owner, r.name, r.issue).some((x) => x.user === BOT);
      }),
    30_000);
    await quiet();
    for (const [name, c] of Object.entries(cases)) {
      const r = repos[name] as ReturnType<typeof fresh>;
      const thread = gh.comments(r.owner, r.name, r.issue);
      const replies = thread.filter((x) => x.user === BOT);
      if ("reply" in c) {
        expect(replies, name).toHaveLength(1);
        expect(replies[0]?.body, name).toMatch(c.reply);
      } else {
        expect(replies, name).toEqual([]);
      }
      // No command ran: no 👀, no scan, no branch, no pull request.
      expect(gh.reactions(r.owner, r.name, comments[name] ?? 0), name).toEqual([]);
      expect(gh.pulls(r.owner, r.name), name).toEqual([]);
      expect(gh.branches(r.owner, r.name), name).toEqual(["main"]);
      const writes = callsFor(r.full).filter((x) => !x.startsWith("GET"));
      expect(writes, name).toEqual("reply" in c ? ["POST POST /repos/{owner}/{repo}/issues/{number}/comments"] : []);
    }
    expect(graphqlSince(before)).toBe(0);
  }, 60_000);
});
