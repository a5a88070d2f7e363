// GitHub faults (the fake's failNext) through the real app, with Probot's own retries off so that each fault reaches
// the app: a 502, rate limits, a ref that moved under us, and a run that died between pushing its branch and opening
// the pull request. Each time: the app keeps serving, the failure is visible, nothing wrong is written, and the next
// trigger converges to exactly one pull request with the right bytes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proposes, readMarker, replaceMarker } from "../../src/github/marker.js";
import { commented, installationCreated, pushed } from "../app/app-harness.js";
import { BadRegistry, INSTALLATION, OWNER, startHarness, until, type Harness } from "./harness.js";

const BRANCH = "digest-pin/main";

describe("GitHub faults", () => {
  let h: Harness;
  let bad: BadRegistry;
  let digest: string;
  let moved: string;

  beforeAll(async () => {
    bad = await BadRegistry.start();
    h = await startHarness({ registry: { insecureRegistries: [bad.host] } });
    digest = bad.image("team/app", "1");
  });
  afterAll(async () => {
    await h?.close();
    await bad?.close();
  });

  const dockerfile = () => `FROM ${bad.host}/team/app:1\n`;
  const pinned = (d = digest) => `FROM ${bad.host}/team/app:1@${d}\n`;
  /** A repository needing a pull request, with a writer and an issue to type commands in. */
  const repo = (name: string) => {
    h.gh.addRepo(INSTALLATION, { name, files: { Dockerfile: dockerfile(), "README.md": "hi\n" } });
    h.gh.setPermission(OWNER, name, "writer", "write");
    return h.gh.openIssue(OWNER, name, { title: "ops", user: "writer" }).number;
  };
  const rescan = (name: string, issue: number) => h.rescan(name, issue);
  const push = async (name: string) => {
    await h.deliver("push", pushed(h.gh, name, h.gh.getRef(OWNER, name, "main") ?? "", ["Dockerfile"]));
    await h.idle();
  };
  const errors = (msg: string, name: string) =>
    h.logs.filter((l) => l.level >= 50 && l.msg === msg && l.repository === `${OWNER}/${name}`);
  /** Exactly one pull request, open, whose marker names the branch head, a verified commit on top of main. */
  const converged = (name: string, expected = pinned()) => {
    const pulls = h.gh.pulls(OWNER, name);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.state).toBe("open");
    expect(h.gh.branches(OWNER, name)).toEqual([BRANCH, "main"]);
    const head = h.gh.getRef(OWNER, name, BRANCH) ?? "";
    expect(readMarker(pulls[0]?.body)?.commit).toBe(head);
    const commit = h.gh.getCommit(OWNER, name, head);
    expect(commit?.verified).toBe(true);
    expect(commit?.parents).toEqual([h.gh.getRef(OWNER, name, "main")]);
    expect(h.gh.readFile(OWNER, name, BRANCH, "Dockerfile")?.toString()).toBe(expected);
    expect(h.gh.readFile(OWNER, name, "main", "Dockerfile")?.toString()).toBe(dockerfile());
    return pulls[0];
  };

  it("a 502 fails the scan visibly (reply, log, metric) and the next trigger converges", async () => {
    const issue = repo("gateway");
    h.gh.failNext("GET", /^\/repos\/acme\/gateway\/git\/trees\//, 502);
    const reply = await rescan("gateway", issue);
    expect(reply).toMatch(/^digest-pin could not finish the scan: .*\. It will try again on the next trigger\.$/);
    expect(errors("scan failed", "gateway")).toHaveLength(1);
    expect(await h.metric("digest_pin_scans_total", { outcome: "failed" })).toBe(1);
    expect(h.gh.pulls(OWNER, "gateway")).toEqual([]);
    expect(h.gh.branches(OWNER, "gateway")).toEqual(["main"]);

    // A push has nobody to reply to: the failed job is logged.
    h.gh.failNext("POST", /^\/graphql$/, 502);
    await push("gateway");
    expect(errors("job failed", "gateway")).toHaveLength(1);
    expect(h.gh.pulls(OWNER, "gateway")).toEqual([]);

    expect(await rescan("gateway", issue)).toMatch(/Opened #\d+/);
    converged("gateway");
  });

  it("a secondary rate limit (403 with Retry-After) makes the scan wait and finish, with one reply", async () => {
    const issue = repo("secondary");
    const started = Date.now();
    h.gh.failNext("POST", /^\/graphql$/, 403, {
      headers: { "retry-after": "1" },
      body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." },
    });
    await h.deliver("issue_comment", commented(h.gh, "secondary", issue, "/digest-pin rescan", "writer"));
    await until("the pull request", () => h.gh.pulls(OWNER, "secondary")[0]);
    await h.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const waited = h.logs.filter((l) => l.msg.startsWith("GitHub rate limit reached") && l.repository === `${OWNER}/secondary`);
    expect(waited.map((l) => l.retryInMs)).toEqual([1000]);
    expect(errors("scan failed", "secondary")).toEqual([]);
    const thread = h.gh.comments(OWNER, "secondary", issue);
    expect(thread.map((c) => c.user)).toEqual(["writer", "digest-pin[bot]"]);
    expect(thread[1]?.body).toMatch(/Opened #\d+/);
    converged("secondary");

    // The primary limit (remaining 0, reset in a second) waits for the reset the same way.
    h.gh.failNext("GET", /^\/repos\/acme\/secondary\/git\/trees\//, 403, {
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 1) },
      body: { message: "API rate limit exceeded for installation ID 77." },
    });
    bad.image("team/app", "1", "moved for the primary limit");
    await h.deliver("issue_comment", commented(h.gh, "secondary", issue, "/digest-pin rescan", "writer"));
    await until("the reply", () => h.gh.comments(OWNER, "secondary", issue).length === 4);
    expect(h.gh.comments(OWNER, "secondary", issue).at(-1)?.body).toMatch(/Updated #\d+/);
    digest = bad.image("team/app", "1"); // back to the first digest for the other tests
  });

  it("a ref that moved under us (409 on updating the branch, 422 on creating it) leaves everything consistent", async () => {
    const issue = repo("moved");
    expect(await rescan("moved", issue)).toMatch(/Opened/);
    const pull = converged("moved");
    const head = h.gh.getRef(OWNER, "moved", BRANCH);

    moved = bad.image("team/app", "1", "moved");
    h.gh.failNext("PATCH", /^\/repos\/acme\/moved\/git\/refs\/heads(\/|%2F)digest-pin(\/|%2F)main$/i, 409, {
      body: { message: "Reference cannot be updated" },
    });
    expect(await rescan("moved", issue)).toMatch(/could not finish the scan: Reference cannot be updated/);
    // Not half done: the branch, the marker and the body still agree with each other, on the old digest.
    expect(h.gh.getRef(OWNER, "moved", BRANCH)).toBe(head);
    expect(readMarker(h.gh.pull(OWNER, "moved", pull?.number ?? 0)?.body)?.commit).toBe(head);
    expect(proposes(readMarker(h.gh.pull(OWNER, "moved", pull?.number ?? 0)?.body), `${bad.host}/team/app`, "1", digest)).toBe(true);
    expect(h.gh.readFile(OWNER, "moved", BRANCH, "Dockerfile")?.toString()).toBe(pinned());

    expect(await rescan("moved", issue)).toMatch(/Updated/);
    converged("moved", pinned(moved));
    digest = bad.image("team/app", "1");

    // Creating the branch fails because someone made it meanwhile: their branch is then left alone, and reused once
    // it is gone.
    const raced = repo("raced");
    h.gh.failNext("POST", /^\/repos\/acme\/raced\/git\/refs$/, 422, { body: { message: "Reference already exists" } });
    expect(await rescan("raced", raced)).toMatch(/could not finish the scan: Reference already exists/);
    expect(h.gh.pulls(OWNER, "raced")).toEqual([]);
    const theirs = h.gh.pushFiles(OWNER, "raced", BRANCH, { "notes.txt": "mine\n" }, { author: "someone" });
    expect(await rescan("raced", raced)).toMatch(/Left the branch alone: branch digest-pin\/main exists with commits/);
    expect(h.gh.getRef(OWNER, "raced", BRANCH)).toBe(theirs);
    expect(h.gh.pulls(OWNER, "raced")).toEqual([]);
    h.gh.setBranch(OWNER, "raced", BRANCH, null);
    expect(await rescan("raced", raced)).toMatch(/Opened/);
    converged("raced");
  });

  it("a run that died between pushing its branch and opening the pull request is finished by the next one", async () => {
    h.gh.addRepo(INSTALLATION, { name: "crash", files: { Dockerfile: dockerfile() } });
    // The connection drops on the way to opening the pull request, as if the process had been killed there.
    h.gh.failNext("POST", /^\/repos\/acme\/crash\/pulls$/, 0);
    await h.deliver("installation", installationCreated(h.gh, ["crash"]));
    await h.idle();
    expect(errors("job failed", "crash")).toHaveLength(1);
    expect(h.gh.pulls(OWNER, "crash")).toEqual([]);
    const leftover = h.gh.getRef(OWNER, "crash", BRANCH) ?? "";
    expect(h.gh.getCommit(OWNER, "crash", leftover)?.verified).toBe(true);

    await push("crash");
    converged("crash");
    // Once more changes nothing: still one pull request, one branch, the same head.
    const head = h.gh.getRef(OWNER, "crash", BRANCH);
    await push("crash");
    converged("crash");
    expect(h.gh.getRef(OWNER, "crash", BRANCH)).toBe(head);
  });

  it("a leftover branch is not reused because a closed pull request's marker was edited to name its head", async () => {
    const issue = repo("forged");
    expect(await rescan("forged", issue)).toMatch(/Opened/);
    const pull = converged("forged");
    // A writer closes the pull request (declining its digest), pushes to the kept branch, and edits the closed pull
    // request's marker to name their commit.
    h.gh.closePull(OWNER, "forged", pull?.number ?? 0, "writer");
    const theirs = h.gh.pushFiles(OWNER, "forged", BRANCH, { "notes.txt": "mine\n" }, { author: "writer" });
    const marker = readMarker(pull?.body);
    if (!marker) throw new Error("no marker");
    h.gh.editItem(OWNER, "forged", pull?.number ?? 0, { body: replaceMarker(pull?.body ?? "", { ...marker, commit: theirs }) });
    // A newer digest is worth a new pull request, but not on their commit.
    moved = bad.image("team/app", "1", "moved for the forged marker");
    expect(await rescan("forged", issue)).toMatch(/Left the branch alone: branch digest-pin\/main exists with commits/);
    expect(h.gh.getRef(OWNER, "forged", BRANCH)).toBe(theirs);
    expect(h.gh.pulls(OWNER, "forged").filter((p) => p.state === "open")).toEqual([]);
    digest = bad.image("team/app", "1");
  });

  it("never logs a token", () => {
    expect(h.gh.tokenRequests.length).toBeGreaterThan(0);
    const text = h.logText();
    for (const { token } of h.gh.tokenRequests) expect(text).not.toContain(token);
    expect(text).not.toContain("PRIVATE KEY");
  });
});
