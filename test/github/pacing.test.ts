// The app's GitHub pacing (src/github/pacing.ts) with Probot's real throttling on, against the stand-in GitHub, which
// keeps GitHub's secondary limits: reads run at read speed, writes and mutations a second apart.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub, type CallRecord } from "../../bench/harness/fake-github.js";
import { testProbot } from "../../bench/harness/probot.js";
import type { Octokit } from "../../src/github/files.js";
import { AppOctokit, LIMITS, requestCost } from "../../src/github/pacing.js";

describe("requestCost", () => {
  it.each([
    [{ method: "GET", url: "/repos/{owner}/{repo}" }, { endpoint: "rest", points: 1, write: false }],
    [{ method: "HEAD", url: "/repos/a/b" }, { endpoint: "rest", points: 1, write: false }],
    [{ method: "POST", url: "/repos/{owner}/{repo}/git/blobs" }, { endpoint: "rest", points: 5, write: true }],
    [{ method: "DELETE", url: "/repos/a/b/git/refs/heads/x" }, { endpoint: "rest", points: 5, write: true }],
    [{ method: "POST", url: "/graphql", query: "query Q { viewer { login } }" }, { endpoint: "graphql", points: 1, write: false }],
    [{ method: "POST", url: "http://ghe.example/api/graphql", query: "{ viewer { login } }" }, { endpoint: "graphql", points: 1, write: false }],
    [{ method: "POST", url: "/graphql", query: "mutation M { addStar(input: {}) { clientMutationId } }" }, { endpoint: "graphql", points: 5, write: true }],
    // A document the plugin cannot read is taken for a write.
    [{ method: "POST", url: "/graphql" }, { endpoint: "graphql", points: 5, write: true }],
  ])("%o costs %o", (options, cost) => {
    expect(requestCost(options)).toEqual(cost);
  });

  it("stays under GitHub's documented figures in any minute (and hour for writes)", () => {
    expect(LIMITS.rest.capacity + 60 * LIMITS.rest.perSecond).toBeLessThan(900);
    expect(LIMITS.graphql.capacity + 60 * LIMITS.graphql.perSecond).toBeLessThan(2000);
    expect(LIMITS.writes.capacity + 3600_000 / LIMITS.writes.refillMs).toBeLessThan(500);
    expect(60_000 / LIMITS.writeSpacingMs).toBeLessThan(80);
  });
});

describe("AppOctokit", () => {
  let gh: FakeGitHub;
  let octokit: Octokit;
  const QUERY = "query DigestPinTest($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { isArchived } }";
  const STAR = "mutation DigestPinStar { addStar(input: { starrableId: \"x\" }) { clientMutationId } }";
  const mine = () => gh.calls.filter((c) => c.actor === "installation:5");
  const spacing = (calls: CallRecord[]) => calls.slice(1).map((c, i) => c.at - (calls[i] as CallRecord).at);

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    gh.addInstallation(5, { login: "pace", type: "Organization" });
    gh.addRepo(5, { name: "r", files: { Dockerfile: "FROM alpine\n" } });
    const probot = testProbot(AppOctokit.defaults({ baseUrl: gh.apiUrl }), pino({ level: "silent" }));
    octokit = (await probot.auth(5)) as Octokit;
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("sends GraphQL queries at read speed, not one a second", async () => {
    gh.resetCounts();
    await Promise.all(Array.from({ length: 20 }, () => octokit.graphql(QUERY, { owner: "pace", name: "r" })));
    const queries = mine();
    expect(queries).toHaveLength(20);
    // Paced as writes, no two would start within a second of each other.
    const first = Math.min(...queries.map((c) => c.at));
    expect(queries.filter((c) => c.at - first < LIMITS.writeSpacingMs).length).toBeGreaterThanOrEqual(10);
  });

  it("keeps REST writes and GraphQL mutations a second apart, in one queue", async () => {
    gh.resetCounts();
    await Promise.all([
      octokit.rest.git.createBlob({ owner: "pace", repo: "r", content: "a" }),
      octokit.graphql(STAR).catch(() => undefined), // the stand-in has no mutations: an error answer, still a write
      octokit.rest.git.createBlob({ owner: "pace", repo: "r", content: "b" }),
    ]);
    const writes = mine().sort((a, b) => a.at - b.at);
    expect(writes.map((c) => c.route).sort()).toEqual(["POST /graphql", "POST /repos/{owner}/{repo}/git/blobs", "POST /repos/{owner}/{repo}/git/blobs"]);
    for (const gap of spacing(writes)) expect(gap).toBeGreaterThanOrEqual(LIMITS.writeSpacingMs - 100);
    expect(gh.calls.filter((c) => c.secondaryLimit)).toEqual([]);
  });
});
