// Hostile webhooks against the real app process (`node dist/src/app/main.js`): forged, tampered and unsigned
// deliveries, replays, events naming repositories outside the installation, and commands the app must not obey. Each
// case runs in an installation of its own, because the real process paces each installation's writes (Octokit's
// throttling), and the cases run at once without waiting for each other. Last, a flood: a smaller version of the load
// benchmark (bench/load.ts), 300 signed webhooks (pushes, rescan commands and deliveries that need no work) over 15
// repositories from 8 concurrent senders, against a process of its own.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMarker } from "../../src/github/marker.js";
import { registryAvailability } from "../../bench/harness/registry.js";
import { commentPayload, installationPayload, pushPayload, runLoad } from "../../bench/load.js";
import { signature, startAppProcess, WEBHOOK_SECRET, type AppProcess } from "../../bench/harness/app-process.js";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { BadRegistry, sleep, until } from "../faults/harness.js";

const BOT = "digest-pin[bot]";
const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping the flood of webhooks: ${availability.reason}`);

describe.concurrent("hostile webhooks against the app process", () => {
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
  type Fresh = ReturnType<typeof fresh>;
  /** Every call the app made for an installation: its token, and anything with it. */
  const callsOf = (r: Fresh) =>
    gh.calls.filter(
      (c) =>
        c.actor === `installation:${r.installation}` ||
        c.path.startsWith(`/repos/${r.full}/`) ||
        c.path.includes(`/installations/${r.installation}/`),
    );
  /** Wait until the app has made no call for an installation for `ms`. */
  const quiet = async (r: Fresh, ms = 1_000) => {
    let seen = callsOf(r).length;
    let since = Date.now();
    await until(
      "the app to go quiet",
      () => {
        const now = callsOf(r).length;
        if (now !== seen) {
          seen = now;
          since = Date.now();
        }
        return Date.now() - since >= ms;
      },
      30_000,
    );
  };

  it("refuses forged, tampered, unsigned and malformed deliveries with a 4xx, and does nothing", async () => {
    const r = fresh("signed");
    const payload = installationPayload(gh, r.installation, [r.full]);
    const body = JSON.stringify(payload);
    const tampered = JSON.stringify({ ...payload, repositories: [] });
    const sha1 = `sha1=${createHmac("sha1", WEBHOOK_SECRET).update(body).digest("hex")}`;
    const attempts: Array<[string, Parameters<AppProcess["send"]>[0]]> = [
      ["signed with another secret", { name: "installation", payload, signature: signature(body, "not-the-secret") }],
      ["the signature of another body", { name: "installation", payload, body, signature: signature(tampered) }],
      ["a body changed after signing", { name: "installation", payload, body: tampered, signature: signature(body) }],
      ["no signature", { name: "installation", payload, signature: null }],
      ["only the SHA-1 signature", { name: "installation", payload, signature: null, headers: { "x-hub-signature": sha1 } }],
      ["an empty signature", { name: "installation", payload, signature: "" }],
      ["a truncated signature", { name: "installation", payload, signature: signature(body).slice(0, 40) }],
      ["a signature that is not hex", { name: "installation", payload, signature: `sha256=${"z".repeat(64)}` }],
      ["not JSON", { name: "installation", payload, body: "installation=1", headers: { "content-type": "application/x-www-form-urlencoded" } }],
    ];
    for (const [what, delivery] of attempts) {
      const ack = await app.send(delivery);
      expect(ack.status, what).toBeGreaterThanOrEqual(400);
      expect(ack.status, what).toBeLessThan(500);
    }
    await sleep(500);
    expect(callsOf(r)).toEqual([]);
    expect(gh.pulls(r.owner, r.name)).toEqual([]);
    expect((await fetch(`${app.url}/healthz`)).ok).toBe(true);
  });

  it("acts once on a replayed delivery: one pull request, one reply per command", async () => {
    const r = fresh("replayed");
    const install = { name: "installation", payload: installationPayload(gh, r.installation, [r.full]), id: "replay-1" };
    for (let i = 0; i < 3; i++) expect((await app.send(install)).status).toBe(200);
    await until("the pull request", () => gh.pulls(r.owner, r.name)[0], 30_000);
    await quiet(r);
    // The same command comment delivered three times: at once twice, and again after its scan is long done.
    const command = {
      name: "issue_comment",
      payload: commentPayload(gh, r.installation, r.full, r.issue, "/digest-pin rescan", "writer"),
      id: "replay-2",
    };
    expect((await app.send(command)).status).toBe(200);
    expect((await app.send(command)).status).toBe(200);
    await until("the reply", () => gh.comments(r.owner, r.name, r.issue).some((c) => c.user === BOT), 30_000);
    await quiet(r);
    expect((await app.send({ ...command, id: "replay-3" })).status).toBe(200);
    await quiet(r);

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
    await quiet(r);
    // Every call about the other organization's repository was refused; nothing was written to it.
    const about = gh.calls.filter((c) => c.path.startsWith(`/repos/${victim.full}/`));
    expect(about.length).toBeGreaterThan(0);
    expect(about.every((c) => c.status === 404 && c.actor === `installation:${r.installation}`)).toBe(true);
    expect(gh.calls.filter((c) => c.actor === `installation:${victim.installation}`)).toEqual([]);
    expect(gh.branches(victim.owner, victim.name)).toEqual(["main"]);
    expect(gh.pulls(victim.owner, victim.name)).toEqual([]);
    expect(gh.comments(victim.owner, victim.name, victim.issue).map((c) => c.user)).toEqual(["writer"]);
    // The failures are logged, naming the repository.
    const failures = app
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: number; msg: string; repository?: string })
      .filter((l) => l.level >= 50 && l.repository === victim.full);
    expect(failures.map((l) => l.msg)).toContain("job failed");
    // And the app keeps serving.
    expect((await fetch(`${app.url}/healthz`)).ok).toBe(true);
    const ack = await app.send({ name: "push", payload: pushPayload(gh, r.installation, r.full, "main", ["README.md"]) });
    expect(ack.status).toBe(200);
  }, 60_000);

  it("obeys only writers' commands: readers and strangers get one clear reply, bots and look-alikes nothing", async () => {
    const cases = {
      reader: { login: "reader", body: "/digest-pin rescan", reply: /commands need write access to this repository; yours is `read`/ },
      stranger: { login: "passer-by", body: "/digest-pin recreate", reply: /commands need write access to this repository; yours is `(none|read)`/ },
      trailing: { login: "writer", body: "/digest-pin rescan please, now", reply: /^Unknown command `\/digest-pin rescan please, now`/ },
      bot: { login: "renovate[bot]", body: "/digest-pin rescan", type: "Bot" as const },
      lookalike: { login: "evil[bot]", body: "/digest-pin rescan" },
      ownbot: { login: BOT, body: "/digest-pin rescan", type: "Bot" as const },
      quoted: { login: "writer", body: "> /digest-pin rescan\n\nWhy did it do that?" },
      inline: { login: "writer", body: "Run `/digest-pin rescan` when ready" },
      edited: { login: "writer", body: "/digest-pin rescan", action: "edited" as const },
    };
    const repos = Object.fromEntries(Object.keys(cases).map((name) => [name, fresh(`cmd-${name}`)]));
    const comments: Record<string, number> = {};
    for (const [name, c] of Object.entries(cases)) {
      const r = repos[name] as Fresh;
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
        const r = repos[name] as Fresh;
        return gh.comments(r.owner, r.name, r.issue).some((x) => x.user === BOT);
      }),
    30_000);
    for (const r of Object.values(repos)) await quiet(r, 500);
    for (const [name, c] of Object.entries(cases)) {
      const r = repos[name] as Fresh;
      const thread = gh.comments(r.owner, r.name, r.issue);
      const replies = thread.filter((x) => x.user === BOT && x.id !== comments[name]);
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
      const calls = callsOf(r).map((x) => x.route);
      expect(calls.filter((x) => !x.startsWith("GET") && !x.includes("access_tokens")), name).toEqual(
        "reply" in c ? ["POST /repos/{owner}/{repo}/issues/{number}/comments"] : [],
      );
      expect(calls.filter((x) => x === "POST /graphql"), name).toEqual([]);
    }
  }, 60_000);

  it.skipIf(!availability.available)(
    "a flood of 300: every delivery acknowledged with a 2xx at once, each repository scanned at most twice, nothing lost",
    async () => {
      const report = await runLoad({ repos: 15, installations: 15, webhooks: 300, senders: 8, commandShare: 0.15, print: false });
      const f = report.figures;
      expect(report.statuses, JSON.stringify(f)).toEqual({ 200: 300 });
      // The app answers at once: the work is queued, not done, before the answer.
      expect(Number(f["ack p99 (ms)"]), JSON.stringify(f)).toBeLessThan(2_000);
      // Repeats coalesce: one scan, and at most one more for the webhooks that came while it ran.
      expect(report.scansPerRepo.size).toBe(15);
      for (const [repo, scans] of report.scansPerRepo) {
        expect(scans, repo).toBeGreaterThanOrEqual(1);
        expect(scans, repo).toBeLessThanOrEqual(2);
      }
      // Nothing lost: exactly one pull request per repository with the right bytes, 👀 on every command and a reply
      // after the last one, no failed scan.
      expect(report.lost).toEqual([]);
      expect(f["missing 👀 / replies"]).toBe("0 / 0");
      expect(f["scans (app metric) / failed"]).toMatch(/ \/ 0$/);
    },
    60_000,
  );
});
