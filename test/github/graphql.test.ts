import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub, hashObject, type FakeGitHubOptions } from "../../bench/harness/fake-github.js";
import { CONFIG_PATH } from "../../src/github/config.js";
import type { Octokit } from "../../src/github/files.js";
import {
  BLOB_BATCH_SIZE,
  GitHubQueryError,
  REPO_STATE_QUERY,
  blobsQuery,
  fetchBlobs,
  fetchRepoState,
} from "../../src/github/graphql.js";
import { fetchConfigFile } from "../../src/github/config-file.js";
import { branchFor } from "../../src/github/pull-request.js";

const BOT = branchFor("main");

let gh: FakeGitHub;
let clock: number;

async function start(options: FakeGitHubOptions = {}): Promise<void> {
  await gh?.close();
  clock = Date.parse("2026-03-01T00:00:00Z");
  gh = await FakeGitHub.start({ now: () => clock, ...options });
  gh.addInstallation(1, { login: "acme" });
  gh.addInstallation(2, { login: "other" });
}

function client(installation = 1): Octokit {
  return new ProbotOctokit({
    auth: { token: gh.createInstallationToken(installation) },
    baseUrl: gh.apiUrl,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
}

/** Calls since the last reset, as `METHOD route`. */
function routes(): string[] {
  return gh.calls.map((c) => `${c.route} ${c.status}`);
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  await gh.close();
});

describe("fetchRepoState", () => {
  it("reads flags, the default branch, the config and the bot branch's pull requests in one query", async () => {
    const repo = gh.addRepo(1, {
      name: "web",
      files: { Dockerfile: "FROM alpine:3.19\n", [CONFIG_PATH]: "schedule: daily\nignorePaths: [vendor/**]\n" },
    });
    const tick = () => (clock += 60_000);
    // #1: proposed by the app and declined.
    gh.createBranch("acme", "web", BOT);
    gh.pushFiles("acme", "web", BOT, { Dockerfile: "FROM alpine:3.19@sha256:" + "a".repeat(64) + "\n" }, { author: gh.botLogin });
    tick();
    gh.openPull("acme", "web", { head: BOT, title: "Pin alpine", body: "<!-- digest-pin:plan e30= -->", user: gh.botLogin });
    tick();
    gh.closePull("acme", "web", 1);
    // #2: merged.
    tick();
    gh.pushFiles("acme", "web", BOT, { Dockerfile: "FROM alpine:3.19@sha256:" + "b".repeat(64) + "\n" }, { author: gh.botLogin });
    gh.openPull("acme", "web", { head: BOT, title: "Pin alpine again", user: gh.botLogin });
    tick();
    gh.mergePull("acme", "web", 2);
    // #3: open, on a fresh bot commit; #4: someone else's branch.
    tick();
    const botHead = gh.pushFiles("acme", "web", BOT, { Dockerfile: "FROM alpine:3.20\n" }, { author: gh.botLogin });
    gh.openPull("acme", "web", { head: BOT, title: "Pin alpine 3.20", body: "plan", user: gh.botLogin });
    tick();
    gh.pushFiles("acme", "web", "feature", { README: "x\n" });
    gh.openPull("acme", "web", { head: "feature", title: "Feature" });

    const octokit = client();
    gh.resetCounts();
    const state = await fetchRepoState(octokit, "acme", "web", BOT, "main");
    expect(routes()).toEqual(["POST /graphql 200"]);

    const main = gh.getRef("acme", "web", "main") as string;
    expect(state).toEqual({
      owner: "acme",
      name: "web",
      archived: false,
      disabled: false,
      empty: false,
      pushedAt: gh.repositoryPayload("acme", "web").pushed_at,
      defaultBranch: { name: "main", headSha: main, treeSha: gh.getCommit("acme", "web", main)?.tree },
      config: {
        oid: hashObject("blob", Buffer.from("schedule: daily\nignorePaths: [vendor/**]\n")),
        text: "schedule: daily\nignorePaths: [vendor/**]\n",
      },
      botBranch: BOT,
      botBranchHead: botHead,
      // Pushed with git under the app's name and email: GitHub signed nothing.
      botBranchCommit: {
        oid: botHead,
        authorEmail: `${String(gh.userPayload(gh.botLogin).id)}+${gh.botLogin}@users.noreply.github.com`,
        committerEmail: `${String(gh.userPayload(gh.botLogin).id)}+${gh.botLogin}@users.noreply.github.com`,
        // GitActor.user is a User: a bot's commit has none, only its name.
        authorLogin: null,
        authorName: gh.botLogin,
        verified: false,
        parents: gh.getCommit("acme", "web", botHead)?.parents,
        parentCount: 1,
        aheadOfBase: 1,
      },
      pulls: [
        {
          id: Buffer.from(`011:PullRequest${String(gh.pull("acme", "web", 3)?.id)}`).toString("base64"),
          number: 3,
          state: "open",
          merged: false,
          url: `${gh.url}/acme/web/pull/3`,
          title: "Pin alpine 3.20",
          body: "plan",
          headRefName: BOT,
          headRefOid: botHead,
          baseRefName: "main",
          author: "digest-pin[bot]",
          autoMergeBy: null,
        },
        expect.objectContaining({ number: 2, state: "closed", merged: true, body: "", headRefOid: gh.pull("acme", "web", 2)?.head.sha }),
        expect.objectContaining({ number: 1, state: "closed", merged: false, body: "<!-- digest-pin:plan e30= -->", author: "digest-pin[bot]" }),
      ],
      pullsTruncated: false,
      merging: { autoMergeAllowed: false, squash: true, merge: true, rebase: true },
    });
    expect(repo.defaultBranch).toBe("main");
  });

  it("reports no config, no bot branch and no pull requests", async () => {
    gh.addRepo(1, { name: "plain", files: { Dockerfile: "FROM node:20\n" }, defaultBranch: "trunk" });
    const state = await fetchRepoState(client(), "acme", "plain", branchFor("trunk"), "trunk");
    expect(state).toMatchObject({
      defaultBranch: { name: "trunk" },
      config: null,
      botBranch: "digest-pin/trunk",
      botBranchHead: null,
      botBranchCommit: null,
      pulls: [],
      pullsTruncated: false,
    });
  });

  it("reads the config byte-exact over REST when its GraphQL text is not (a BOM here)", async () => {
    const config = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("schedule: weekly\r\n")]);
    gh.addRepo(1, { name: "bom", files: { [CONFIG_PATH]: config } });
    gh.resetCounts();
    const state = await fetchRepoState(client(), "acme", "bom", BOT, "main");
    expect(state.config?.text).toBe(config.toString("utf8"));
    expect(state.config?.oid).toBe(hashObject("blob", config));
    expect(routes()).toEqual(["POST /graphql 200", "GET /repos/{owner}/{repo}/git/blobs/{file_sha} 200"]);
  });

  it("treats a directory at the config path as no config", async () => {
    gh.addRepo(1, { name: "dir", files: { [`${CONFIG_PATH}/x`]: "y" } });
    expect((await fetchRepoState(client(), "acme", "dir", BOT, "main")).config).toBeNull();
  });

  it("reads empty, archived and disabled repositories", async () => {
    gh.addRepo(1, { name: "empty", empty: true });
    gh.addRepo(1, { name: "old", files: { Dockerfile: "FROM x\n" }, archived: true });
    gh.addRepo(1, { name: "off", files: { Dockerfile: "FROM x\n" }, disabled: true });
    const octokit = client();
    expect(await fetchRepoState(octokit, "acme", "empty", BOT, "main")).toEqual({
      owner: "acme",
      name: "empty",
      archived: false,
      disabled: false,
      empty: true,
      pushedAt: gh.repositoryPayload("acme", "empty").pushed_at,
      defaultBranch: null,
      config: null,
      botBranch: BOT,
      botBranchHead: null,
      botBranchCommit: null,
      pulls: [],
      pullsTruncated: false,
      merging: { autoMergeAllowed: false, squash: true, merge: true, rebase: true },
    });
    expect(await fetchRepoState(octokit, "acme", "old", BOT, "main")).toMatchObject({ archived: true, disabled: false, empty: false });
    expect(await fetchRepoState(octokit, "acme", "off", BOT, "main")).toMatchObject({ archived: false, disabled: true });
  });

  it("says when there are more pull requests on the bot branch than it read", async () => {
    gh.addRepo(1, { name: "busy", files: { Dockerfile: "FROM x\n" } });
    for (let i = 0; i < 52; i++) {
      gh.pushFiles("acme", "busy", BOT, { Dockerfile: `FROM x:${i}\n` }, { author: gh.botLogin });
      gh.openPull("acme", "busy", { head: BOT, title: `#${i}`, user: gh.botLogin });
      gh.closePull("acme", "busy", i + 1);
      clock += 1000;
    }
    const state = await fetchRepoState(client(), "acme", "busy", BOT, "main");
    expect(state.pulls).toHaveLength(50);
    expect(state.pulls[0]?.number).toBe(52);
    expect(state.pullsTruncated).toBe(true);
  });

  it("throws a GitHubQueryError for a repository outside the token's reach", async () => {
    gh.addRepo(2, { name: "secret", files: {} });
    const error = await fetchRepoState(client(1), "other", "secret", BOT, "main").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubQueryError);
    expect(error).toMatchObject({ operation: "DigestPinRepoState", notFound: true });
    expect((error as Error).message).toMatch(/DigestPinRepoState failed: NOT_FOUND: Could not resolve to a Repository with the name 'other\/secret'/);
    const missing = await fetchRepoState(client(1), "acme", "nope", BOT, "main").catch((e: unknown) => e);
    expect(missing).toMatchObject({ notFound: true });
  });

  it("asks for the fields it documents", () => {
    expect(REPO_STATE_QUERY).toContain(`object(expression: "HEAD:${CONFIG_PATH}")`);
    expect(REPO_STATE_QUERY).toContain("pullRequests(headRefName: $botBranch, first: 50, orderBy: {field: CREATED_AT, direction: DESC})");
  });
});

describe("fetchBlobs", () => {
  async function tree(octokit: Octokit, repo: string): Promise<Map<string, string>> {
    const state = await fetchRepoState(octokit, "acme", repo, BOT, "main");
    const { data } = await octokit.rest.git.getTree({ owner: "acme", repo, tree_sha: state.defaultBranch?.treeSha as string, recursive: "1" });
    return new Map(data.tree.filter((e) => e.type === "blob").map((e) => [e.path as string, e.sha as string]));
  }

  it("reads a repository in three calls: state, tree, blobs", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`svc-${i}/Dockerfile`] = `FROM node:${i}\nRUN echo ${"x".repeat(i)}\n`;
    gh.addRepo(1, { name: "mono", files });
    const octokit = client();
    gh.resetCounts();
    const paths = await tree(octokit, "mono");
    const blobs = await fetchBlobs(octokit, "acme", "mono", [...paths.values()]);
    expect(routes()).toEqual(["POST /graphql 200", "GET /repos/{owner}/{repo}/git/trees/{tree_sha} 200", "POST /graphql 200"]);
    for (const [path, sha] of paths) expect(blobs.get(sha)?.toString("utf8")).toBe(files[path]);
  });

  it("batches 120 blobs into three queries of at most 50", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`d/${i}.Dockerfile`] = `FROM busybox:${i}\n`;
    gh.addRepo(1, { name: "many", files });
    const octokit = client();
    const paths = await tree(octokit, "many");
    gh.resetCounts();
    const blobs = await fetchBlobs(octokit, "acme", "many", [...paths.values()]);
    expect(gh.counts().byRoute).toEqual({ "POST /graphql": 3 });
    expect(blobs.size).toBe(120);
    for (const [path, sha] of paths) expect(blobs.get(sha)?.toString("utf8")).toBe(files[path]);
    expect(BLOB_BATCH_SIZE).toBe(50);
  });

  it("returns exact bytes when GraphQL text cannot carry them, over REST for those blobs only", async () => {
    await start({ graphqlBlobTextLimit: 64 });
    const files = {
      plain: Buffer.from("FROM alpine:3.19\n"),
      latin1: Buffer.from([0x46, 0x52, 0x4f, 0x4d, 0x20, 0x78, 0x0a, 0x23, 0x20, 0xe9, 0x74, 0xe9, 0x0a]), // "# été" in Latin-1
      crlfBom: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("FROM node:20\r\nRUN true\r\n")]),
      // A cut 4-byte sequence: one U+FFFD of the same UTF-8 length replaces it.
      sameLength: Buffer.concat([Buffer.from("FROM x\n# "), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from("!\n")]),
      binary: Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe]),
      long: Buffer.from(`FROM scratch\n${"# padding\n".repeat(20)}`),
      utf8: Buffer.from("FROM x\n# naïve 🐳 ünïcödé\r\n"),
      crlf: Buffer.from("FROM x\r\nRUN a\r\n"),
    };
    gh.addRepo(1, { name: "bytes", files });
    const octokit = client();
    const oids = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, hashObject("blob", v)]));
    gh.resetCounts();
    const blobs = await fetchBlobs(octokit, "acme", "bytes", Object.values(oids));
    for (const [name, data] of Object.entries(files)) expect(blobs.get(oids[name] as string)?.equals(data), name).toBe(true);
    const blobCalls = gh.calls.filter((c) => c.route === "GET /repos/{owner}/{repo}/git/blobs/{file_sha}").map((c) => c.path.split("/").pop());
    expect(blobCalls.sort()).toEqual([oids.latin1, oids.crlfBom, oids.sameLength, oids.binary, oids.long].sort());
    expect(gh.counts().byRoute["POST /graphql"]).toBe(1);
  });

  it("rejects malformed ids before any request, and accepts duplicates and upper case", async () => {
    gh.addRepo(1, { name: "web", files: { Dockerfile: "FROM x\n" } });
    const octokit = client();
    gh.resetCounts();
    for (const bad of ["abc", "g".repeat(40), "a".repeat(41), `${"a".repeat(39)}"`, `a") { x } b: object(oid: "${"a".repeat(40)}`]) {
      await expect(fetchBlobs(octokit, "acme", "web", [bad])).rejects.toThrow(TypeError);
    }
    expect(() => blobsQuery(["zz"])).toThrow(TypeError);
    expect(gh.calls).toEqual([]);
    const oid = hashObject("blob", Buffer.from("FROM x\n"));
    const blobs = await fetchBlobs(octokit, "acme", "web", [oid, oid.toUpperCase(), oid]);
    expect([...blobs.keys()]).toEqual([oid, oid.toUpperCase()]);
    expect(blobs.get(oid.toUpperCase())?.toString()).toBe("FROM x\n");
    expect(gh.counts().total).toBe(1);
    expect(await fetchBlobs(octokit, "acme", "web", [])).toEqual(new Map());
    expect(gh.counts().total).toBe(1);
  });

  it("throws a GitHubQueryError for ids that are not blobs of the repository", async () => {
    gh.addRepo(1, { name: "web", files: { Dockerfile: "FROM x\n" } });
    const octokit = client();
    const missing = await fetchBlobs(octokit, "acme", "web", ["0".repeat(40)]).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GitHubQueryError);
    expect(missing).toMatchObject({ notFound: true, operation: "DigestPinBlobs" });
    expect((missing as Error).message).toContain(`${"0".repeat(40)} is not a blob of acme/web`);
    const treeSha = gh.getCommit("acme", "web", gh.getRef("acme", "web", "main") as string)?.tree as string;
    await expect(fetchBlobs(octokit, "acme", "web", [treeSha])).rejects.toBeInstanceOf(GitHubQueryError);
    await expect(fetchBlobs(client(2), "acme", "web", [treeSha])).rejects.toMatchObject({ notFound: true });
  });
});

describe("fetchConfigFile", () => {
  it("reads another repository's config file in one query, byte-exact", async () => {
    gh.addRepo(1, { name: ".github", files: { [CONFIG_PATH]: "labels: [org]\n", "other/x.yml": "a: 1\n" } });
    const octokit = client();
    gh.resetCounts();
    expect(await fetchConfigFile(octokit, "acme", ".github", CONFIG_PATH)).toBe("labels: [org]\n");
    expect(await fetchConfigFile(octokit, "acme", ".github", "other/x.yml")).toBe("a: 1\n");
    expect(routes()).toEqual(["POST /graphql 200", "POST /graphql 200"]);
  });

  it("is null for a missing file, a missing repository and one the installation cannot see", async () => {
    gh.addRepo(1, { name: ".github", files: { README: "x\n" } });
    gh.addRepo(2, { name: ".github", files: { [CONFIG_PATH]: "labels: [theirs]\n" } });
    const octokit = client(1);
    expect(await fetchConfigFile(octokit, "acme", ".github", CONFIG_PATH)).toBeNull();
    expect(await fetchConfigFile(octokit, "acme", "nope", CONFIG_PATH)).toBeNull();
    expect(await fetchConfigFile(octokit, "other", ".github", CONFIG_PATH)).toBeNull();
  });
});
