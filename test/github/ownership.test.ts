// Whether the bot branch's head is the app's, from what the state query reads of it (the fake answers author,
// committer, signature, parents and the comparison with the base as GitHub does), for the commits people can put there.
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import type { Octokit } from "../../src/github/files.js";
import { fetchRepoState } from "../../src/github/graphql.js";
import { isInBase, isOwnHead, type BotAccount } from "../../src/github/ownership.js";
import { branchFor } from "../../src/github/pull-request.js";

const BOT = branchFor("main");

let gh: FakeGitHub;
let octokit: Octokit;
let bot: BotAccount;

beforeEach(async () => {
  gh = await FakeGitHub.start();
  gh.addInstallation(1, { login: "acme" });
  gh.addRepo(1, { name: "web", files: { Dockerfile: "FROM alpine:3.19\n" } });
  octokit = new ProbotOctokit({
    auth: { token: gh.createInstallationToken(1) },
    baseUrl: gh.apiUrl,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
  // What the app asks GitHub once: its bot account's id.
  const { data } = await octokit.rest.users.getByUsername({ username: gh.botLogin });
  bot = { login: data.login, id: data.id };
});

afterEach(async () => {
  await gh.close();
});

/** A commit made the way the app makes one (Git data API, installation token), on top of `parent`. */
async function appCommit(parent: string, extra: { author?: { name: string; email: string } } = {}): Promise<string> {
  const base = gh.getCommit("acme", "web", parent)?.tree as string;
  const { data: blob } = await octokit.rest.git.createBlob({ owner: "acme", repo: "web", content: "FROM alpine:3.19@sha256:" + "a".repeat(64) + "\n" });
  const { data: tree } = await octokit.rest.git.createTree({
    owner: "acme",
    repo: "web",
    base_tree: base,
    tree: [{ path: "Dockerfile", mode: "100644", type: "blob", sha: blob.sha }],
  });
  const { data } = await octokit.rest.git.createCommit({ owner: "acme", repo: "web", message: "Pin", tree: tree.sha, parents: [parent], ...extra });
  return data.sha;
}

async function head() {
  const state = await fetchRepoState(octokit, "acme", "web", BOT, "main");
  return state.botBranchCommit;
}

const main = () => gh.getRef("acme", "web", "main") as string;

describe("isOwnHead", () => {
  it("is the app's verified commit on the base head, and stays so when the base moves on", async () => {
    const sha = await appCommit(main());
    gh.setBranch("acme", "web", BOT, sha);
    const commit = await head();
    expect(commit).toMatchObject({
      oid: sha,
      authorEmail: `${bot.id}+${bot.login}@users.noreply.github.com`,
      committerEmail: `${bot.id}+${bot.login}@users.noreply.github.com`,
      verified: true,
      parents: [main()],
      parentCount: 1,
      aheadOfBase: 1,
    });
    expect(isOwnHead(commit, bot)).toBe(true);
    expect(gh.getCommit("acme", "web", sha)?.verified).toBe(true); // what REST says, too

    gh.pushFiles("acme", "web", "main", { "README.md": "later\n" });
    expect(isOwnHead(await head(), bot)).toBe(true);
    // Another account id (another app of the same name on another host, say) is not us.
    expect(isOwnHead(await head(), { ...bot, id: bot.id + 1 })).toBe(false);
  });

  it("is not a commit written as the app by someone else, nor one on top of the app's", async () => {
    const ours = await appCommit(main());
    gh.setBranch("acme", "web", BOT, ours);
    // git lets anyone write any name and email: the commit carries no signature GitHub made.
    const forged = gh.pushFiles("acme", "web", BOT, { "notes.txt": "x\n" }, { author: gh.botLogin });
    const commit = await head();
    expect(commit).toMatchObject({ oid: forged, committerEmail: `${bot.id}+${bot.login}@users.noreply.github.com`, verified: false });
    expect(isOwnHead(commit, bot)).toBe(false);

    // Even the app's own signed commit is not ours with someone's commit under it…
    const writer = gh.pushFiles("acme", "web", BOT, { "notes.txt": "y\n" }, { author: "writer" });
    const onTop = await appCommit(writer);
    gh.setBranch("acme", "web", BOT, onTop);
    expect(await head()).toMatchObject({ verified: true, aheadOfBase: 4 }); // ours, forged, writer's, onTop
    expect(isOwnHead(await head(), bot)).toBe(false);

    // …or when it was made on another branch.
    const feature = gh.pushFiles("acme", "web", "feature", { "feature.txt": "z\n" }, { author: "writer" });
    gh.setBranch("acme", "web", BOT, await appCommit(feature));
    expect(await head()).toMatchObject({ verified: true, parents: [feature], aheadOfBase: 2 });
    expect(isOwnHead(await head(), bot)).toBe(false);
  });

  it("is not an app commit with custom author information, which GitHub does not sign", async () => {
    const sha = await appCommit(main(), { author: { name: bot.login, email: `${bot.id}+${bot.login}@users.noreply.github.com` } });
    gh.setBranch("acme", "web", BOT, sha);
    expect(await head()).toMatchObject({ verified: false });
    expect(gh.getCommit("acme", "web", sha)?.verified).toBe(false);
    expect(isOwnHead(await head(), bot)).toBe(false);
  });

  it("reports a head the base already has, and no commit when there is no branch", async () => {
    expect(await head()).toBeNull();
    expect(isOwnHead(null, bot)).toBe(false);
    gh.createBranch("acme", "web", BOT, "main");
    expect(await head()).toMatchObject({ aheadOfBase: 0, verified: false });
    expect(isInBase(await head())).toBe(true);
    expect(isOwnHead(await head(), bot)).toBe(false);
  });
});
