// Repository content that tries to make one scan unbounded, through the real app (the fake GitHub, a misbehaving
// registry on loopback): a huge config, a config whose error is huge, more failing references than a post can hold,
// references that never get an answer, and more references than a file may have. Each scan ends within its bounds and
// says so where people look, in posts of bounded size, and never closes or rewrites the open pull request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_ISSUE_TITLE } from "../../src/github/config-issue.js";
import { MAX_LISTED_ERRORS, MAX_POSTED_ERROR } from "../../src/github/posted.js";
import { installationCreated, pushed } from "../app/app-harness.js";
import { BadRegistry, INSTALLATION, OWNER, startHarness, type Harness } from "../faults/harness.js";

/** `count` FROM lines naming registries the host policy refuses (loopback, not listed): failures without a request. */
function refusedLines(count: number): string {
  return Array.from({ length: count }, (_, i) => `FROM 127.0.0.2:1/refused:${i}\n`).join("");
}

describe("a scan's bounds, through the app", () => {
  let h: Harness;
  let bad: BadRegistry;
  let good: string;

  beforeAll(async () => {
    bad = await BadRegistry.start();
    good = bad.image("good/app", "1");
    h = await startHarness({
      registry: { insecureRegistries: [bad.host], maxRetries: 0, timeouts: { referenceMs: 20_000, totalMs: 20_000 } },
      scanTimeoutMs: 500,
    });
  });
  afterAll(async () => {
    await h?.close();
    await bad?.close();
  });

  const repository = (name: string, files: Record<string, string>) => {
    h.gh.addRepo(INSTALLATION, { name, files });
    h.gh.setPermission(OWNER, name, "writer", "write");
    return h.gh.openIssue(OWNER, name, { title: "ops", user: "writer" }).number;
  };
  const rescan = (name: string, issue: number) => h.rescan(name, issue);
  const configIssue = (name: string) => h.gh.issues(OWNER, name).find((i) => i.title === CONFIG_ISSUE_TITLE);

  it("refuses a 10 MiB config unread, in a short issue", async () => {
    // 524,288 lines of 20 bytes: 10 MiB of unknown keys.
    const keys = Array.from({ length: 524_288 }, (_, i) => `k${String(i).padStart(15, "0")}: 1\n`).join("");
    repository("huge-config", { ".github/digest-pin.yml": keys, Dockerfile: `FROM ${bad.host}/good/app:1\n` });
    h.gh.resetCounts();
    await h.deliver("installation", installationCreated(h.gh, ["huge-config"]));
    await h.idle();
    const issue = configIssue("huge-config");
    expect(issue?.body).toContain(".github/digest-pin.yml is 10 MiB, over the 64 KiB limit: it was not read");
    expect((issue?.body ?? "").length).toBeLessThan(1_000);
    // Not fetched in full either: GraphQL's truncated text was enough to know its size.
    expect(Object.keys(h.gh.counts().byRoute).filter((route) => route.includes("/git/blobs/"))).toEqual([]);
    expect(h.gh.pulls(OWNER, "huge-config")).toEqual([]);
  });

  it("cuts a long config error where it is posted: the issue and the command reply", async () => {
    const unknown = Array.from({ length: 3_000 }, (_, i) => `unknown${i}: 1\n`).join(""); // about 40 KB
    const ops = repository("noisy-config", { ".github/digest-pin.yml": unknown, Dockerfile: "FROM alpine:3\n" });
    const reply = await rescan("noisy-config", ops);
    const issue = configIssue("noisy-config");
    const quoted = /```\n([^`]*)\n```/.exec(issue?.body ?? "")?.[1] ?? "";
    expect(quoted.startsWith('.github/digest-pin.yml is invalid: unknown key "unknown0", "unknown1"')).toBe(true);
    expect(quoted).toHaveLength(MAX_POSTED_ERROR);
    expect(quoted.endsWith("…")).toBe(true);
    expect((issue?.body ?? "").length).toBeLessThan(MAX_POSTED_ERROR + 500);
    expect(reply).toContain(`see #${issue?.number}`);
    expect(reply.length).toBeLessThan(MAX_POSTED_ERROR + 200);
  });

  it("lists at most 50 failures in the pull request and the reply, and counts the rest", async () => {
    const ops = repository("many-errors", { Dockerfile: `FROM ${bad.host}/good/app:1\n${refusedLines(70)}` });
    const reply = await rescan("many-errors", ops);
    const [pull] = h.gh.pulls(OWNER, "many-errors");
    expect(pull?.state).toBe("open");
    const listed = (text: string) => text.split("\n").filter((l) => l.includes("127.0.0.2:1/refused:"));
    expect(listed(pull?.body ?? "")).toHaveLength(MAX_LISTED_ERRORS);
    expect(pull?.body).toContain("- … and 20 more");
    expect(listed(reply)).toHaveLength(MAX_LISTED_ERRORS);
    expect(reply).toContain("70 errors");
    expect(reply).toContain("- … and 20 more");
    expect(h.gh.readFile(OWNER, "many-errors", "digest-pin/main", "Dockerfile")?.toString()).toContain(`good/app:1@${good}`);
  });

  it("ends the registry work of a scan at its deadline: what got no answer is a TIMEOUT naming the budget", async () => {
    bad.set("hang/app", { kind: "stall" });
    const text = Array.from({ length: 40 }, (_, i) => `FROM ${bad.host}/hang/app:${i}\n`).join("");
    const ops = repository("stalled", { Dockerfile: text });
    const reply = await rescan("stalled", ops);
    expect(reply).toContain("40 errors");
    const lines = reply.split("\n").filter((l) => l.includes("/hang/app:"));
    expect(lines).toHaveLength(40);
    for (const line of lines) {
      expect(line).toMatch(
        /: gave up after 0\.5 s, the time allowed for the registry work of one repository scan$/,
      );
    }
    expect(reply).toMatch(/Nothing to change\.$/);
    // At most the per-host limit of requests reached the stalled registry; the others never left the queue.
    expect(bad.requestsFor("hang/app").length).toBeLessThanOrEqual(8);
  });

  it("keeps the open pull request as it is when its reference falls past the file's cap", async () => {
    const ops = repository("capped", { Dockerfile: `FROM ${bad.host}/good/app:1\n` });
    await rescan("capped", ops);
    const [pull] = h.gh.pulls(OWNER, "capped");
    const head = h.gh.getRef(OWNER, "capped", "digest-pin/main");
    expect(pull?.state).toBe("open");

    // 1,000 references come first now: the pinned one is the 1,001st of its file.
    const after = h.gh.pushFiles(OWNER, "capped", "main", { Dockerfile: `${refusedLines(1_000)}FROM ${bad.host}/good/app:1\n` });
    await h.deliver("push", pushed(h.gh, "capped", after, ["Dockerfile"]));
    await h.idle();
    const reply = await rescan("capped", ops);
    expect(reply).toContain("1001 errors");
    expect(reply).toContain("Left the branch alone: 1001 references could not be resolved");
    expect(h.gh.pull(OWNER, "capped", pull?.number ?? 0)?.state).toBe("open");
    expect(h.gh.getRef(OWNER, "capped", "digest-pin/main")).toBe(head);
    expect(h.gh.comments(OWNER, "capped", pull?.number ?? 0)).toEqual([]);
  });
});
