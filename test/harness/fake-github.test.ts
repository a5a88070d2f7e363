import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { restEndpointMethods } from "@octokit/plugin-rest-endpoint-methods";
import { Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub, hashObject } from "../../bench/harness/fake-github.js";
import { EMPTY_TREE_SHA, ObjectStore } from "../../bench/harness/git-store.js";

const RestOctokit = Octokit.plugin(restEndpointMethods, paginateRest);
type Client = InstanceType<typeof RestOctokit>;

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjQyNDJ9.c2lnbmF0dXJl";

function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync("git", args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", ...env },
    encoding: "utf8",
  }).trim();
}

function statusOf(err: unknown): number | undefined {
  return (err as { status?: number }).status;
}

async function expectStatus(promise: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected the request to fail").toBeDefined();
  expect(statusOf(err)).toBe(status);
  if (message) expect(String((err as Error).message)).toMatch(message);
}

let fake: FakeGitHub;
let tmp: string;

beforeEach(async () => {
  fake = await FakeGitHub.start();
  tmp = mkdtempSync(join(tmpdir(), "fake-github-"));
});

afterEach(async () => {
  await fake.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** An Octokit acting as installation `id` with a token minted over HTTP by the "app". */
async function installationClient(id: number): Promise<Client> {
  const app = new RestOctokit({ baseUrl: fake.apiUrl, auth: JWT });
  const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: id });
  return new RestOctokit({ baseUrl: fake.apiUrl, auth: data.token });
}

function setup(files: Record<string, string | Buffer> = { Dockerfile: "FROM alpine:3.19\n" }) {
  fake.addInstallation(1, { login: "acme", type: "Organization" });
  return fake.addRepo(1, { name: "web", files });
}

describe("git object ids", () => {
  const files = {
    Dockerfile: "FROM node:20\n",
    "a-b": "dash\n",
    "a.txt": "dot\n",
    "a/b/c.txt": "nested\n",
    a0: "zero\n",
    "docs/README.md": "# hi\n",
  };

  function realGitTree(): string {
    git(tmp, ["init", "-q"]);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(tmp, path)), { recursive: true });
      writeFileSync(join(tmp, path), content);
    }
    writeFileSync(join(tmp, "run.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(tmp, "run.sh"), 0o755);
    symlinkSync("Dockerfile", join(tmp, "link"));
    git(tmp, ["add", "-A"]);
    return git(tmp, ["write-tree"]);
  }

  it("blobs, trees and commits hash like git", async () => {
    const expectedTree = realGitTree();
    setup({});
    const gh = await installationClient(1);
    const tree: { path: string; mode: "100644" | "100755" | "120000"; type: "blob"; content: string }[] = Object.entries(files).map(
      ([path, content]) => ({ path, mode: "100644", type: "blob", content }),
    );
    tree.push({ path: "run.sh", mode: "100755", type: "blob", content: "#!/bin/sh\necho hi\n" });
    tree.push({ path: "link", mode: "120000", type: "blob", content: "Dockerfile" });
    const created = await gh.rest.git.createTree({ owner: "acme", repo: "web", tree });
    expect(created.data.sha).toBe(expectedTree);
    // Top-level order is git's: "a-b" < "a.txt" < "a/" < "a0".
    expect(created.data.tree.map((e) => e.path)).toEqual(["Dockerfile", "a-b", "a.txt", "a", "a0", "docs", "link", "run.sh"]);

    const blob = await gh.rest.git.createBlob({ owner: "acme", repo: "web", content: "FROM node:20\n" });
    expect(blob.data.sha).toBe(git(tmp, ["hash-object", "Dockerfile"]));
    const binary = Buffer.from([0, 1, 2, 255, 254]);
    const b64 = await gh.rest.git.createBlob({ owner: "acme", repo: "web", content: binary.toString("base64"), encoding: "base64" });
    writeFileSync(join(tmp, "bin.dat"), binary);
    expect(b64.data.sha).toBe(git(tmp, ["hash-object", "bin.dat"]));

    // Root commit and a child, with explicit identities and a non-UTC offset.
    const who = { name: "Ada", email: "ada@example.com", date: "2024-01-02T05:04:05+02:00" };
    const root = await gh.rest.git.createCommit({ owner: "acme", repo: "web", message: "first\n", tree: expectedTree, parents: [], author: who, committer: who });
    const env = {
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_AUTHOR_DATE: "@1704164645 +0200",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@example.com",
      GIT_COMMITTER_DATE: "@1704164645 +0200",
    };
    const gitRoot = git(tmp, ["commit-tree", expectedTree, "-m", "first"], env);
    expect(root.data.sha).toBe(gitRoot);
    expect(root.data.author.date).toBe("2024-01-02T03:04:05Z");
    expect(root.data.verification?.verified).toBe(false); // custom committer

    const child = await gh.rest.git.createCommit({
      owner: "acme",
      repo: "web",
      message: "second\n\nbody\n",
      tree: EMPTY_TREE_SHA,
      parents: [root.data.sha],
      author: who,
    });
    const gitEmpty = git(tmp, ["hash-object", "-t", "tree", "/dev/null"]);
    expect(gitEmpty).toBe(EMPTY_TREE_SHA);
    const gitChild = git(tmp, ["commit-tree", EMPTY_TREE_SHA, "-p", gitRoot, "-m", "second", "-m", "body"], env);
    expect(child.data.sha).toBe(gitChild);
    // GitHub signs an app's commit only without custom author, committer or signature information.
    expect(child.data.verification?.verified).toBe(false); // custom author
  });

  it("addRepo and pushFiles build the same trees as git", async () => {
    const expected = realGitTree();
    const { fullName } = setup({
      ...files,
      "run.sh": { content: "#!/bin/sh\necho hi\n", mode: "100755" },
      link: { content: "Dockerfile", mode: "120000" },
    } as never);
    expect(fullName).toBe("acme/web");
    const gh = await installationClient(1);
    const branch = await gh.rest.repos.getBranch({ owner: "acme", repo: "web", branch: "main" });
    expect(branch.data.commit.commit.tree.sha).toBe(expected);

    rmSync(join(tmp, "a"), { recursive: true });
    writeFileSync(join(tmp, "docs/new.txt"), "new\n");
    git(tmp, ["add", "-A"]);
    const expected2 = git(tmp, ["write-tree"]);
    const sha = fake.pushFiles("acme", "web", "main", { "a/b/c.txt": null, "docs/new.txt": "new\n" });
    const commit = await gh.rest.git.getCommit({ owner: "acme", repo: "web", commit_sha: sha });
    expect(commit.data.tree.sha).toBe(expected2);
    expect(fake.listFiles("acme", "web", "main")).not.toContain("a/b/c.txt");
    expect(fake.readFile("acme", "web", "main", "docs/new.txt")?.toString()).toBe("new\n");
  });
});

describe("git data API", () => {
  it("commits through blobs → trees(base_tree) → commits → refs", async () => {
    setup({ Dockerfile: "FROM alpine:3.19\n", "svc/Dockerfile": "FROM node:20\n", "old.txt": "bye\n" });
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    const ref = await gh.rest.git.getRef({ ...o, ref: "heads/main" });
    const base = ref.data.object.sha;
    const baseCommit = await gh.rest.git.getCommit({ ...o, commit_sha: base });
    const blob = await gh.rest.git.createBlob({ ...o, content: "FROM alpine:3.19@sha256:abc\n" });
    const tree = await gh.rest.git.createTree({
      ...o,
      base_tree: baseCommit.data.tree.sha,
      tree: [
        { path: "Dockerfile", mode: "100644", type: "blob", sha: blob.data.sha },
        { path: "svc/deep/er/Dockerfile", mode: "100644", type: "blob", content: "FROM x\n" },
        { path: "old.txt", mode: "100644", type: "blob", sha: null },
      ],
    });
    const commit = await gh.rest.git.createCommit({ ...o, message: "Pin digests", tree: tree.data.sha, parents: [base] });
    expect(commit.data.verification?.verified).toBe(true);
    expect(commit.data.author.name).toBe("digest-pin[bot]");
    const created = await gh.rest.git.createRef({ ...o, ref: "refs/heads/digest-pin/update", sha: commit.data.sha });
    expect(created.status).toBe(201);
    expect(created.data.ref).toBe("refs/heads/digest-pin/update");

    expect(fake.getRef("acme", "web", "digest-pin/update")).toBe(commit.data.sha);
    expect(fake.listFiles("acme", "web", "digest-pin/update")).toEqual(["Dockerfile", "svc/Dockerfile", "svc/deep/er/Dockerfile"]);
    expect(fake.readFile("acme", "web", "digest-pin/update", "Dockerfile")?.toString()).toBe("FROM alpine:3.19@sha256:abc\n");
    expect(fake.getCommit("acme", "web", commit.data.sha)?.verified).toBe(true);

    // Branch names with slashes round-trip through getRef / matching-refs / getBranch.
    const got = await gh.rest.git.getRef({ ...o, ref: "heads/digest-pin/update" });
    expect(got.data.object.sha).toBe(commit.data.sha);
    const matching = await gh.rest.git.listMatchingRefs({ ...o, ref: "heads/digest-pin/" });
    expect(matching.data.map((r) => r.ref)).toEqual(["refs/heads/digest-pin/update"]);
    const none = await gh.rest.git.listMatchingRefs({ ...o, ref: "heads/nope" });
    expect(none.data).toEqual([]);
    const branch = await gh.rest.repos.getBranch({ ...o, branch: "digest-pin/update" });
    expect(branch.data.commit.sha).toBe(commit.data.sha);
    expect(branch.data.commit.commit.tree.sha).toBe(tree.data.sha);

    // REST commit shape, with files and the bot's login.
    const rest = await gh.rest.repos.getCommit({ ...o, ref: "digest-pin/update" });
    expect(rest.data.sha).toBe(commit.data.sha);
    expect(rest.data.author?.login).toBe("digest-pin[bot]");
    expect(rest.data.files?.map((f) => [f.filename, f.status])).toEqual([
      ["Dockerfile", "modified"],
      ["old.txt", "removed"],
      ["svc/deep/er/Dockerfile", "added"],
    ]);
    const list = await gh.rest.repos.listCommits({ ...o, sha: "digest-pin/update", per_page: 10 });
    expect(list.data.map((c) => c.sha)).toEqual([commit.data.sha, base]);
    await expectStatus(gh.rest.repos.getCommit({ ...o, ref: "nope" }), 422, /No commit found/);

    // Blob read-back.
    const readBlob = await gh.rest.git.getBlob({ ...o, file_sha: blob.data.sha });
    expect(Buffer.from(readBlob.data.content, "base64").toString()).toBe("FROM alpine:3.19@sha256:abc\n");
    expect(readBlob.data.encoding).toBe("base64");
    expect(readBlob.data.size).toBe(28);
  });

  it("refuses non-fast-forward updates and duplicate refs", async () => {
    setup();
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    const main = fake.getRef("acme", "web", "main") as string;
    const a = fake.pushFiles("acme", "web", "feature", { "a.txt": "a\n" });
    const b = fake.pushFiles("acme", "web", "other", { "b.txt": "b\n" });
    await expectStatus(gh.rest.git.createRef({ ...o, ref: "refs/heads/feature", sha: main }), 422, /Reference already exists/);
    await expectStatus(gh.rest.git.updateRef({ ...o, ref: "heads/feature", sha: b }), 422, /Update is not a fast forward/);
    await expectStatus(gh.rest.git.updateRef({ ...o, ref: "heads/feature", sha: main, force: false }), 422, /not a fast forward/);
    expect(fake.getRef("acme", "web", "feature")).toBe(a);
    // A descendant is fine without force.
    const a2 = fake.pushFiles("acme", "web", "scratch", { "c.txt": "c\n" }); // from main, not from feature
    await expectStatus(gh.rest.git.updateRef({ ...o, ref: "heads/feature", sha: a2 }), 422);
    fake.setBranch("acme", "web", "scratch", a);
    const child = fake.pushFiles("acme", "web", "scratch", { "d.txt": "d\n" });
    const ff = await gh.rest.git.updateRef({ ...o, ref: "heads/feature", sha: child });
    expect(ff.data.object.sha).toBe(child);
    // force moves anywhere.
    await gh.rest.git.updateRef({ ...o, ref: "heads/feature", sha: b, force: true });
    expect(fake.getRef("acme", "web", "feature")).toBe(b);
    await expectStatus(gh.rest.git.updateRef({ ...o, ref: "heads/missing", sha: b }), 422, /Reference does not exist/);
    await expectStatus(gh.rest.git.createRef({ ...o, ref: "refs/heads/x", sha: "0".repeat(40) }), 422, /Object does not exist/);
    await gh.rest.git.deleteRef({ ...o, ref: "heads/feature" });
    await expectStatus(gh.rest.git.getRef({ ...o, ref: "heads/feature" }), 404);
    expect(fake.getRef("acme", "web", "feature")).toBeNull();
  });

  it("validates tree entries", async () => {
    setup();
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    await expectStatus(gh.rest.git.createTree({ ...o, tree: [{ path: "x", mode: "100644", type: "blob", sha: "1".repeat(40) }] }), 422);
    await expectStatus(gh.rest.git.createTree({ ...o, tree: [{ path: "/x", mode: "100644", type: "blob", content: "x" }] }), 422);
    await expectStatus(gh.rest.git.createTree({ ...o, base_tree: "2".repeat(40), tree: [] }), 422);
    await expectStatus(gh.rest.git.createCommit({ ...o, message: "m", tree: "3".repeat(40) }), 422);
  });

  it("truncates large recursive tree listings when configured", async () => {
    fake.addInstallation(1, { login: "acme" });
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`dir/f${i}.txt`] = `${i}\n`;
    fake.addRepo(1, { name: "big", files, truncateTreesOver: 5 });
    fake.addRepo(1, { name: "small", files });
    const gh = await installationClient(1);
    const big = await gh.rest.git.getTree({ owner: "acme", repo: "big", tree_sha: "main", recursive: "1" });
    expect(big.data.truncated).toBe(true);
    expect(big.data.tree).toHaveLength(5);
    expect(big.data.tree[0]).toMatchObject({ path: "dir", type: "tree", mode: "040000" });
    const flat = await gh.rest.git.getTree({ owner: "acme", repo: "big", tree_sha: "main" });
    expect(flat.data.truncated).toBe(false);
    expect(flat.data.tree.map((e) => e.path)).toEqual(["dir"]);
    const small = await gh.rest.git.getTree({ owner: "acme", repo: "small", tree_sha: "main", recursive: "true" });
    expect(small.data.truncated).toBe(false);
    expect(small.data.tree).toHaveLength(11);
    expect(small.data.tree[1]).toMatchObject({ path: "dir/f0.txt", type: "blob", size: 2 });
  });

  it("serves contents as JSON, raw, directory listings and 404s", async () => {
    setup({ ".github/digest-pin.yml": "schedule: daily\n", Dockerfile: "FROM a\n" });
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    const file = await gh.rest.repos.getContent({ ...o, path: ".github/digest-pin.yml" });
    expect(Array.isArray(file.data)).toBe(false);
    const data = file.data as { content: string; sha: string; type: string; encoding: string };
    expect(data.type).toBe("file");
    expect(Buffer.from(data.content, "base64").toString()).toBe("schedule: daily\n");
    const raw = await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { ...o, path: ".github/digest-pin.yml", mediaType: { format: "raw" } });
    expect(raw.data).toBe("schedule: daily\n");
    const dir = await gh.rest.repos.getContent({ ...o, path: "" });
    expect((dir.data as { name: string }[]).map((e) => e.name)).toEqual([".github", "Dockerfile"]);
    await expectStatus(gh.rest.repos.getContent({ ...o, path: "missing.yml" }), 404);
    fake.pushFiles("acme", "web", "dev", { Dockerfile: "FROM b\n" });
    const onDev = await gh.rest.repos.getContent({ ...o, path: "Dockerfile", ref: "dev" });
    expect(Buffer.from((onDev.data as { content: string }).content, "base64").toString()).toBe("FROM b\n");
  });
});

describe("pull requests, issues and comments", () => {
  it("creates, lists, updates and merges pull requests", async () => {
    setup({ Dockerfile: "FROM a\n", "other.txt": "1\n" });
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    const head = fake.pushFiles("acme", "web", "digest-pin/a", { Dockerfile: "FROM a@sha256:1\n" }, { author: "digest-pin[bot]" });
    const issue = await gh.rest.issues.create({ ...o, title: "Dashboard" });
    expect(issue.data.number).toBe(1);
    const pr = await gh.rest.pulls.create({ ...o, title: "Pin", head: "digest-pin/a", base: "main", body: "body", maintainer_can_modify: true });
    expect(pr.data.number).toBe(2); // shared number sequence
    expect(pr.data.head).toMatchObject({ ref: "digest-pin/a", sha: head });
    expect(pr.data.user?.login).toBe("digest-pin[bot]");
    expect(pr.data.merged).toBe(false);
    expect(pr.data.mergeable).toBe(true);
    expect(pr.data.changed_files).toBe(1);
    await expectStatus(gh.rest.pulls.create({ ...o, title: "Again", head: "acme:digest-pin/a", base: "main" }), 422, /already exists/);
    await expectStatus(gh.rest.pulls.create({ ...o, title: "No", head: "missing", base: "main" }), 422);
    fake.createBranch("acme", "web", "same");
    await expectStatus(gh.rest.pulls.create({ ...o, title: "No", head: "same", base: "main" }), 422, /No commits between/);

    const listed = await gh.rest.pulls.list({ ...o, state: "open", head: "acme:digest-pin/a", base: "main", per_page: 100 });
    expect(listed.data.map((p) => p.number)).toEqual([2]);
    expect((await gh.rest.pulls.list({ ...o, head: "acme:other" })).data).toEqual([]);

    // The open PR follows its head branch.
    const head2 = fake.pushFiles("acme", "web", "digest-pin/a", { Dockerfile: "FROM a@sha256:2\n" });
    expect((await gh.rest.pulls.get({ ...o, pull_number: 2 })).data.head.sha).toBe(head2);

    const updated = await gh.rest.pulls.update({ ...o, pull_number: 2, title: "Pin 2", body: "new body" });
    expect(updated.data).toMatchObject({ title: "Pin 2", body: "new body", state: "open" });
    const reviewers = await gh.rest.pulls.requestReviewers({ ...o, pull_number: 2, reviewers: ["alice"] });
    expect(reviewers.data.requested_reviewers?.map((u) => u.login)).toEqual(["alice"]);
    await gh.rest.issues.addLabels({ ...o, issue_number: 2, labels: ["dependencies"] });
    expect(fake.pull("acme", "web", 2)?.labels).toEqual(["dependencies"]);

    // Base moved on; merging makes a real merge commit with a three-way tree.
    fake.pushFiles("acme", "web", "main", { "other.txt": "2\n" });
    const mergeSha = fake.mergePull("acme", "web", 2);
    const merged = await gh.rest.pulls.get({ ...o, pull_number: 2 });
    expect(merged.data).toMatchObject({ state: "closed", merged: true, merge_commit_sha: mergeSha });
    expect(merged.data.merged_at).not.toBeNull();
    expect(fake.getRef("acme", "web", "main")).toBe(mergeSha);
    expect(fake.getCommit("acme", "web", mergeSha)?.parents).toHaveLength(2);
    expect(fake.readFile("acme", "web", "main", "Dockerfile")?.toString()).toBe("FROM a@sha256:2\n");
    expect(fake.readFile("acme", "web", "main", "other.txt")?.toString()).toBe("2\n");
    const closedList = await gh.rest.pulls.list({ ...o, state: "closed" });
    expect(closedList.data[0]?.merged_at).not.toBeNull();

    // Closing unmerged, and deleting an open PR's head branch closes it.
    fake.pushFiles("acme", "web", "digest-pin/b", { Dockerfile: "FROM b\n" });
    const pr3 = await gh.rest.pulls.create({ ...o, title: "B", head: "digest-pin/b", base: "main" });
    const closed = await gh.rest.pulls.update({ ...o, pull_number: pr3.data.number, state: "closed" });
    expect(closed.data).toMatchObject({ state: "closed", merged: false, merged_at: null });
    const reopened = await gh.rest.pulls.update({ ...o, pull_number: pr3.data.number, state: "open" });
    expect(reopened.data.state).toBe("open");
    await gh.rest.git.deleteRef({ ...o, ref: "heads/digest-pin/b" });
    expect(fake.pull("acme", "web", pr3.data.number)?.state).toBe("closed");
    fake.pushFiles("acme", "web", "digest-pin/c", { Dockerfile: "FROM c\n" });
    const pr4 = fake.openPull("acme", "web", { head: "digest-pin/c", title: "C" });
    fake.closePull("acme", "web", pr4.number);
    expect(fake.pulls("acme", "web").map((p) => [p.number, p.state, p.merged])).toEqual([
      [2, "closed", true],
      [3, "closed", false],
      [4, "closed", false],
    ]);
  });

  it("refuses to merge conflicting pull requests", () => {
    setup({ Dockerfile: "FROM a\n" });
    fake.pushFiles("acme", "web", "topic", { Dockerfile: "FROM b\n" });
    fake.pushFiles("acme", "web", "main", { Dockerfile: "FROM c\n" });
    const pr = fake.openPull("acme", "web", { head: "topic", title: "t" });
    expect(() => fake.mergePull("acme", "web", pr.number)).toThrow(/conflict in Dockerfile/);
    fake.pushFiles("acme", "web", "t2", { x: "1" });
    const pr2 = fake.openPull("acme", "web", { head: "t2", title: "x" });
    const squash = fake.mergePull("acme", "web", pr2.number, { method: "squash", deleteBranch: true });
    expect(fake.getCommit("acme", "web", squash)?.parents).toHaveLength(1);
    expect(fake.getCommit("acme", "web", squash)?.message).toBe("x (#2)");
    expect(fake.listFiles("acme", "web", "main")).toEqual(["Dockerfile", "x"]);
    expect(fake.getRef("acme", "web", "t2")).toBeNull();
    const t3 = fake.pushFiles("acme", "web", "t3", { y: "1" });
    const pr3 = fake.openPull("acme", "web", { head: "t3", title: "y" });
    fake.pushFiles("acme", "web", "main", { z: "1" });
    expect(() => fake.mergePull("acme", "web", pr3.number, { method: "fast-forward" })).toThrow(/fast-forward/);
    fake.setBranch("acme", "web", "t3", fake.pushFiles("acme", "web", "t3-base", { y: "1" }));
    expect(fake.mergePull("acme", "web", pr3.number, { method: "fast-forward" })).toBe(fake.getRef("acme", "web", "t3"));
    expect(fake.getRef("acme", "web", "main")).toBe(fake.getRef("acme", "web", "t3"));
    expect(t3).not.toBe(fake.getRef("acme", "web", "t3"));
  });

  it("handles issues, comments, labels, assignees, reactions and permissions", async () => {
    setup();
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    const issue = await gh.rest.issues.create({ ...o, title: "Digest Pin Dashboard", body: "x", labels: ["digest-pin"] });
    expect(issue.status).toBe(201);
    fake.openIssue("acme", "web", { title: "user issue", user: "bob" });
    const mine = await gh.rest.issues.listForRepo({ ...o, state: "open", creator: "digest-pin[bot]", labels: "digest-pin" });
    expect(mine.data.map((i) => i.title)).toEqual(["Digest Pin Dashboard"]);
    const all = await gh.rest.issues.listForRepo({ ...o, state: "all" });
    expect(all.data.map((i) => i.number)).toEqual([2, 1]);

    const patched = await gh.rest.issues.update({ ...o, issue_number: 1, body: "y", state: "closed", state_reason: "not_planned" });
    expect(patched.data).toMatchObject({ body: "y", state: "closed", state_reason: "not_planned" });
    expect((await gh.rest.issues.get({ ...o, issue_number: 1 })).data.state).toBe("closed");

    const comment = await gh.rest.issues.createComment({ ...o, issue_number: 2, body: "hello" });
    fake.addComment("acme", "web", 2, "@digest-pin rebase", "bob");
    const comments = await gh.rest.issues.listComments({ ...o, issue_number: 2 });
    expect(comments.data.map((c) => [c.user?.login, c.body])).toEqual([
      ["digest-pin[bot]", "hello"],
      ["bob", "@digest-pin rebase"],
    ]);
    const bobComment = fake.comments("acme", "web", 2)[1];
    const reaction = await gh.rest.reactions.createForIssueComment({ ...o, comment_id: bobComment?.id as number, content: "eyes" });
    expect(reaction.status).toBe(201);
    const again = await gh.rest.reactions.createForIssueComment({ ...o, comment_id: bobComment?.id as number, content: "eyes" });
    expect(again.status).toBe(200);
    expect(fake.reactions("acme", "web", bobComment?.id as number).map((r) => [r.user, r.content])).toEqual([["digest-pin[bot]", "eyes"]]);
    expect(comment.data.id).not.toBe(bobComment?.id);

    const labels = await gh.rest.issues.addLabels({ ...o, issue_number: 2, labels: ["a", "b"] });
    expect(labels.data.map((l) => l.name)).toEqual(["a", "b"]);
    const assigned = await gh.rest.issues.addAssignees({ ...o, issue_number: 2, assignees: ["carol"] });
    expect(assigned.data.assignees?.map((a) => a.login)).toEqual(["carol"]);

    fake.setPermission("acme", "web", "bob", "write");
    fake.setPermission("acme", "web", "eve", "triage");
    const bob = await gh.rest.repos.getCollaboratorPermissionLevel({ ...o, username: "bob" });
    expect(bob.data).toMatchObject({ permission: "write", role_name: "write", user: { login: "bob" } });
    const eve = await gh.rest.repos.getCollaboratorPermissionLevel({ ...o, username: "eve" });
    expect(eve.data).toMatchObject({ permission: "read", role_name: "triage" });
    const nobody = await gh.rest.repos.getCollaboratorPermissionLevel({ ...o, username: "nobody" });
    expect(nobody.data.permission).toBe("read"); // public repo
    expect(fake.issues("acme", "web").map((i) => i.number)).toEqual([1, 2]);
  });
});

describe("HTTP behaviour", () => {
  it("answers 304 to a repeated conditional GET and counts it apart", async () => {
    await fake.close();
    let clock = Date.parse("2026-01-01T00:00:00Z");
    fake = await FakeGitHub.start({ now: () => clock });
    setup();
    const gh = await installationClient(1);
    fake.resetCounts();
    const first = await gh.rest.repos.get({ owner: "acme", repo: "web" });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"[0-9a-f]{40}"$/);
    expect(first.headers["x-ratelimit-used"]).toBe("1");
    await expectStatus(gh.rest.repos.get({ owner: "acme", repo: "web", headers: { "if-none-match": etag } }), 304);
    const third = await fetch(`${fake.apiUrl}/repos/acme/web`, {
      headers: { authorization: `token ${fake.createInstallationToken(1)}`, "if-none-match": etag },
    });
    expect(third.status).toBe(304);
    expect(await third.text()).toBe("");
    clock += 5_000;
    fake.pushFiles("acme", "web", "main", { x: "1" }); // pushed_at changes
    const fourth = await gh.rest.repos.get({ owner: "acme", repo: "web", headers: { "if-none-match": etag } });
    expect(fourth.status).toBe(200);
    expect(fourth.headers.etag).not.toBe(etag);
    expect(fourth.headers["x-ratelimit-used"]).toBe("2");
    const counts = fake.counts();
    expect(counts).toMatchObject({ total: 4, notModified: 2, counted: 2 });
    expect(counts.byRoute["GET /repos/{owner}/{repo}"]).toBe(2);
    expect(counts.notModifiedByRoute["GET /repos/{owner}/{repo}"]).toBe(2);
    expect(first.headers["x-ratelimit-limit"]).toBe("5000");
    expect(first.headers["x-ratelimit-resource"]).toBe("core");
  });

  it("paginates installation repositories with absolute Link headers", async () => {
    fake.addInstallation(7, { login: "fleet" });
    for (let i = 0; i < 250; i++) fake.addRepo(7, { name: `repo-${String(i).padStart(3, "0")}`, files: { Dockerfile: `FROM x:${i}\n` } });
    const gh = await installationClient(7);
    const page1 = await gh.request("GET /installation/repositories", { per_page: 100 });
    expect(page1.data.total_count).toBe(250);
    expect(page1.data.repositories).toHaveLength(100);
    expect(page1.data.repositories[0]).toMatchObject({
      name: "repo-000",
      full_name: "fleet/repo-000",
      owner: { login: "fleet", type: "Organization" },
      private: false,
      archived: false,
      disabled: false,
      fork: false,
      default_branch: "main",
    });
    expect(page1.headers.link).toBe(
      `<${fake.apiUrl}/installation/repositories?per_page=100&page=2>; rel="next", <${fake.apiUrl}/installation/repositories?per_page=100&page=3>; rel="last"`,
    );
    const page3 = await gh.request("GET /installation/repositories", { per_page: 100, page: 3 });
    expect(page3.data.repositories).toHaveLength(50);
    expect(page3.headers.link).toContain('rel="prev"');
    expect(page3.headers.link).toContain('rel="first"');
    expect(page3.headers.link).not.toContain('rel="next"');
    const all = await gh.paginate("GET /installation/repositories", { per_page: 100 });
    expect(all).toHaveLength(250);
    expect(new Set(all.map((r) => r.id)).size).toBe(250);
    // Without the /api/v3 prefix the links stay unprefixed.
    const token = fake.createInstallationToken(7);
    const bare = await fetch(`${fake.url}/installation/repositories?per_page=2`, { headers: { authorization: `token ${token}` } });
    expect(bare.headers.get("link")).toContain(`<${fake.url}/installation/repositories?per_page=2&page=2>; rel="next"`);
  });

  it("authenticates: JWT for app routes, scoped installation tokens, expiry", async () => {
    fake.addInstallation(1, { login: "acme" });
    fake.addInstallation(2, { login: "other", type: "User" });
    fake.addRepo(1, { name: "web", files: {} });
    fake.addRepo(2, { name: "secret", files: {} });
    const app = new RestOctokit({ baseUrl: fake.apiUrl, auth: JWT });
    const info = await app.rest.apps.getAuthenticated();
    expect(info.data).toMatchObject({ slug: "digest-pin", id: 4242 });
    const installs = await app.rest.apps.listInstallations();
    expect(installs.data.map((i) => [i.id, i.account && "login" in i.account ? i.account.login : null])).toEqual([
      [1, "acme"],
      [2, "other"],
    ]);
    expect((await app.rest.apps.getInstallation({ installation_id: 2 })).data.id).toBe(2);
    const token = await app.rest.apps.createInstallationAccessToken({ installation_id: 1 });
    expect(token.data).toMatchObject({ repository_selection: "all" });
    expect(Date.parse(token.data.expires_at)).toBeGreaterThan(Date.now());
    expect(fake.tokenRequests.map((t) => t.installationId)).toEqual([1]);

    const gh = new RestOctokit({ baseUrl: fake.apiUrl, auth: token.data.token });
    await gh.rest.repos.get({ owner: "acme", repo: "web" });
    await expectStatus(gh.rest.repos.get({ owner: "other", repo: "secret" }), 404);
    await expectStatus(app.rest.repos.get({ owner: "acme", repo: "web" }), 403);
    await expectStatus(new RestOctokit({ baseUrl: fake.apiUrl }).rest.repos.get({ owner: "acme", repo: "web" }), 401);
    // A token the fake did not issue acts as a plain user with access to everything.
    const user = new RestOctokit({ baseUrl: fake.apiUrl, auth: "x" });
    await user.rest.repos.get({ owner: "other", repo: "secret" });
    await expectStatus(user.request("GET /installation/repositories"), 403);
    fake.expireTokens();
    await expectStatus(gh.rest.repos.get({ owner: "acme", repo: "web" }), 401, /Bad credentials/);
  });

  it("records unknown routes, injects faults and applies latency", async () => {
    setup();
    const gh = await installationClient(1);
    await expectStatus(gh.request("GET /repos/{owner}/{repo}/actions/runs", { owner: "acme", repo: "web" }), 404);
    expect(fake.unknownRoutes).toEqual(["GET /repos/acme/web/actions/runs"]);
    expect(fake.counts().byRoute.UNKNOWN).toBe(1);

    fake.failNext("GET", /^\/repos\/acme\/web$/, 502);
    fake.failNext("*", "/git/ref/", 403, { headers: { "x-ratelimit-remaining": "0" }, body: { message: "API rate limit exceeded" } });
    await expectStatus(gh.rest.repos.get({ owner: "acme", repo: "web" }), 502);
    await gh.rest.repos.get({ owner: "acme", repo: "web" });
    const limited = await gh.rest.git.getRef({ owner: "acme", repo: "web", ref: "heads/main" }).catch((e: unknown) => e);
    expect(statusOf(limited)).toBe(403);
    expect((limited as { response: { headers: Record<string, string> } }).response.headers["x-ratelimit-remaining"]).toBe("0");
    await gh.rest.git.getRef({ owner: "acme", repo: "web", ref: "heads/main" });
    expect(fake.calls.filter((c) => c.injected).map((c) => c.status)).toEqual([502, 403]);

    fake.failNext("GET", /^\/repos\/acme\/web$/, 0);
    await expect(fetch(`${fake.apiUrl}/repos/acme/web`)).rejects.toThrow();
    expect(fake.calls.at(-1)).toMatchObject({ status: 0, injected: true });

    fake.setLatency(60);
    const started = Date.now();
    await gh.rest.repos.get({ owner: "acme", repo: "web" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    fake.setLatency(0);
  });

  it("rejects writes to archived repositories", async () => {
    fake.addInstallation(1, { login: "acme" });
    fake.addRepo(1, { name: "old", files: { a: "1" }, archived: true });
    const gh = await installationClient(1);
    const repo = await gh.rest.repos.get({ owner: "acme", repo: "old" });
    expect(repo.data.archived).toBe(true);
    await expectStatus(gh.rest.git.createBlob({ owner: "acme", repo: "old", content: "x" }), 403, /archived/);
  });
});

describe("secondary rate limits", () => {
  it("answers 403 with retry-after past a limit, as GitHub does, and records which limit", async () => {
    await fake.close();
    fake = await FakeGitHub.start({ secondaryLimits: { restPointsPerMinute: 12, contentPerMinute: 1 } });
    setup();
    const gh = await installationClient(1);
    fake.resetCounts();
    await gh.rest.git.createBlob({ owner: "acme", repo: "web", content: "one" }); // 5 points, 1 creation
    await expectStatus(gh.rest.git.createBlob({ owner: "acme", repo: "web", content: "two" }), 403, /secondary rate limit/);
    for (let i = 0; i < 7; i++) await gh.rest.repos.get({ owner: "acme", repo: "web" }); // 12 points
    const refused = await gh.rest.repos.get({ owner: "acme", repo: "web" }).catch((e: { status: number; response: { headers: Record<string, string> } }) => e);
    expect(refused).toMatchObject({ status: 403 });
    expect(Number((refused as { response: { headers: Record<string, string> } }).response.headers["retry-after"])).toBeGreaterThan(0);
    expect(fake.calls.map((c) => c.secondaryLimit ?? c.status)).toEqual([201, "content-minute", 200, 200, 200, 200, 200, 200, 200, "rest-points"]);
  });

  it("counts requests in flight, the latency included", async () => {
    await fake.close();
    fake = await FakeGitHub.start({ latencyMs: 100, secondaryLimits: { concurrency: 3 } });
    setup();
    const gh = await installationClient(1);
    fake.resetCounts();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => gh.rest.repos.get({ owner: "acme", repo: "web" }).then((r) => r.status, (e: { status: number }) => e.status)),
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(3);
    expect(fake.calls.filter((c) => c.secondaryLimit === "concurrency")).toHaveLength(3);
  });
});

describe("with Probot", () => {
  it("serves Probot's app auth, installation token and config plugin", async () => {
    setup({ ".github/digest-pin.yml": "schedule: daily\n" });
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const probot = new Probot({ appId: 4242, privateKey, baseUrl: fake.apiUrl, logLevel: "warn" });
    const gh = await probot.auth(1);
    const repos = await gh.paginate(gh.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    expect(repos.map((r) => r.full_name)).toEqual(["acme/web"]);
    const { config } = await gh.config.get({ owner: "acme", repo: "web", path: ".github/digest-pin.yml" });
    expect(config).toEqual({ schedule: "daily" });
    expect(fake.calls.map((c) => `${c.method} ${c.path} ${c.status} ${c.actor}`)).toEqual([
      "POST /app/installations/1/access_tokens 201 app",
      "GET /installation/repositories 200 installation:1",
      "GET /repos/acme/web/contents/.github/digest-pin.yml 200 installation:1",
    ]);
    expect(fake.unknownRoutes).toEqual([]);
    // Webhook payload pieces match what the API serves.
    const api = await gh.rest.repos.get({ owner: "acme", repo: "web" });
    expect(fake.repositoryPayload("acme", "web")).toEqual(api.data);
  });
});

describe("GraphQL", () => {
  interface GraphQLAnswer {
    status: number;
    headers: Headers;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test probing of loose JSON
    body: any;
  }

  async function gql(
    query: string,
    options: { variables?: Record<string, unknown>; token?: string | null; path?: string; operationName?: string } = {},
  ): Promise<GraphQLAnswer> {
    const token = options.token === undefined ? fake.createInstallationToken(1) : options.token;
    const res = await fetch(`${fake.url}${options.path ?? "/api/graphql"}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `bearer ${token}` }) },
      body: JSON.stringify({ query, variables: options.variables ?? {}, ...(options.operationName ? { operationName: options.operationName } : {}) }),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }

  it("answers repository queries from the git and pull request state", async () => {
    setup({ Dockerfile: "FROM alpine:3.19\n", "svc/api/Dockerfile": "FROM node:20\n" });
    const main = fake.getRef("acme", "web", "main") as string;
    const tree = fake.getCommit("acme", "web", main)?.tree as string;
    const feature = fake.pushFiles("acme", "web", "feature", { Dockerfile: "FROM alpine:3.20\n" });
    fake.openPull("acme", "web", { head: "feature", title: "one", body: "first" });
    fake.closePull("acme", "web", 1);
    fake.openPull("acme", "web", { head: "feature", title: "two", user: fake.botLogin });
    const dockerfile = hashObject("blob", Buffer.from("FROM alpine:3.19\n"));
    fake.resetCounts();

    const { status, headers, body } = await gql(
      `query State($owner: String!, $name: String!, $bot: String!) {
        repository(owner: $owner, name: $name) {
          __typename nameWithOwner isArchived isDisabled isEmpty isPrivate
          owner { login __typename }
          defaultBranchRef { name prefix target { __typename oid ... on Commit { tree { oid } } } }
          head: object(expression: "HEAD:Dockerfile") { ...blob }
          onFeature: object(expression: "feature:Dockerfile") { ... on Blob { text } }
          bySha: object(expression: "${main}:svc/api/Dockerfile") { ... on Blob { text } }
          dir: object(expression: "main:svc") { __typename oid }
          commit: object(expression: "feature") { oid ... on Commit { message } }
          missing: object(expression: "main:nope") { oid }
          noBranch: object(expression: "nope:Dockerfile") { oid }
          byOid: object(oid: "${dockerfile}") { __typename ...blob }
          unknownOid: object(oid: "${"0".repeat(40)}") { oid }
          feature: ref(qualifiedName: "refs/heads/feature") { name prefix target { oid } }
          short: ref(qualifiedName: "feature") { target { oid } }
          bot: ref(qualifiedName: $bot) { target { oid } }
          open: pullRequests(headRefName: "feature", states: [OPEN], first: 10) { totalCount nodes { number } }
          all: pullRequests(headRefName: "feature", first: 1, orderBy: {field: CREATED_AT, direction: DESC}) {
            totalCount
            pageInfo { hasNextPage endCursor }
            nodes { number state merged url body headRefName headRefOid baseRefName isCrossRepository author { __typename login } }
          }
        }
        rateLimit { limit remaining used cost }
      }
      fragment blob on Blob { oid byteSize isBinary isTruncated text }`,
      { variables: { owner: "acme", name: "web", bot: "refs/heads/digest-pin/main" } },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const blob = { oid: dockerfile, byteSize: 17, isBinary: false, isTruncated: false, text: "FROM alpine:3.19\n" };
    expect(body.data.repository).toEqual({
      __typename: "Repository",
      nameWithOwner: "acme/web",
      isArchived: false,
      isDisabled: false,
      isEmpty: false,
      isPrivate: false,
      owner: { login: "acme", __typename: "Organization" },
      defaultBranchRef: { name: "main", prefix: "refs/heads/", target: { __typename: "Commit", oid: main, tree: { oid: tree } } },
      head: blob,
      onFeature: { text: "FROM alpine:3.20\n" },
      bySha: { text: "FROM node:20\n" },
      dir: { __typename: "Tree", oid: expect.stringMatching(/^[0-9a-f]{40}$/) },
      commit: { oid: feature, message: "Update Dockerfile" },
      missing: null,
      noBranch: null,
      byOid: { __typename: "Blob", ...blob },
      unknownOid: null,
      feature: { name: "feature", prefix: "refs/heads/", target: { oid: feature } },
      short: { target: { oid: feature } },
      bot: null,
      open: { totalCount: 1, nodes: [{ number: 2 }] },
      all: {
        totalCount: 2,
        pageInfo: { hasNextPage: true, endCursor: expect.any(String) },
        nodes: [
          {
            number: 2,
            state: "OPEN",
            merged: false,
            url: `${fake.url}/acme/web/pull/2`,
            body: "",
            headRefName: "feature",
            headRefOid: feature,
            baseRefName: "main",
            isCrossRepository: false,
            author: { __typename: "Bot", login: "digest-pin" },
          },
        ],
      },
    });
    expect(body.data.rateLimit).toEqual({ limit: 5000, remaining: 4999, used: 1, cost: 1 });

    // The next page, by cursor.
    const next = await gql(
      `query($after: String) { repository(owner: "acme", name: "web") {
        pullRequests(headRefName: "feature", first: 1, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
          pageInfo { hasNextPage } nodes { number state author { login } }
        } } }`,
      { variables: { after: body.data.repository.all.pageInfo.endCursor } },
    );
    expect(next.body.data.repository.pullRequests).toEqual({
      pageInfo: { hasNextPage: false },
      nodes: [{ number: 1, state: "CLOSED", author: { login: "test-user" } }],
    });

    // Counted as calls, with GraphQL's own rate-limit bucket; also served without the /api prefix.
    expect(headers.get("x-ratelimit-resource")).toBe("graphql");
    expect(headers.get("x-ratelimit-used")).toBe("1");
    const bare = await gql(`{ repository(owner: "acme", name: "web") { isEmpty } }`, { path: "/graphql" });
    expect(bare.body).toEqual({ data: { repository: { isEmpty: false } } });
    expect(bare.headers.get("x-ratelimit-used")).toBe("3");
    expect(fake.counts().byRoute).toEqual({ "POST /graphql": 3 });
    const gh = await installationClient(1);
    expect((await gh.rest.repos.get({ owner: "acme", repo: "web" })).headers["x-ratelimit-used"]).toBe("1");
    expect(fake.unknownRoutes).toEqual([]);
  });

  it("answers a commit's author, committer, signature and parents, and compares refs, like GitHub", async () => {
    setup();
    const main = fake.getRef("acme", "web", "main") as string;
    const writer = fake.pushFiles("acme", "web", "topic", { "a.txt": "a\n" }, { author: "writer" });
    // The app's commit through the Git data API, which GitHub signs.
    const gh = await installationClient(1);
    const { data: signed } = await gh.rest.git.createCommit({ owner: "acme", repo: "web", message: "app", tree: fake.getCommit("acme", "web", writer)?.tree as string, parents: [writer] });
    fake.setBranch("acme", "web", "topic", signed.sha);
    const bot = fake.userPayload(fake.botLogin) as { id: number };
    const { body } = await gql(
      `{ repository(owner: "acme", name: "web") {
        topic: ref(qualifiedName: "refs/heads/topic") {
          target { ... on Commit {
            author { name email user { login } } committer { email }
            signature { __typename isValid state wasSignedByGitHub }
            parents(first: 2) { totalCount nodes { oid parents(first: 1) { nodes { oid } } } }
          } }
          compare(headRef: "main") { aheadBy behindBy status }
          none: compare(headRef: "nope") { status }
        }
        main: defaultBranchRef { compare(headRef: "topic") { aheadBy behindBy status } }
        byWriter: object(oid: "${writer}") { ... on Commit { author { user { login } } signature { isValid } } }
      } }`,
    );
    expect(body.errors).toBeUndefined();
    const email = `${bot.id}+${fake.botLogin}@users.noreply.github.com`;
    expect(body.data.repository).toEqual({
      topic: {
        target: {
          // A bot is not a User: GitActor.user is null for its commits.
          author: { name: fake.botLogin, email, user: null },
          committer: { email },
          signature: { __typename: "GpgSignature", isValid: true, state: "VALID", wasSignedByGitHub: true },
          parents: { totalCount: 1, nodes: [{ oid: writer, parents: { nodes: [{ oid: main }] } }] },
        },
        compare: { aheadBy: 0, behindBy: 2, status: "BEHIND" },
        none: null,
      },
      main: { compare: { aheadBy: 2, behindBy: 0, status: "AHEAD" } },
      byWriter: { author: { user: { login: "writer" } }, signature: null },
    });
    const unpaged = await gql(`{ repository(owner: "acme", name: "web") { object(oid: "${writer}") { ... on Commit { parents { totalCount } } } } }`);
    expect(unpaged.body.errors?.[0]?.type).toBe("MISSING_PAGINATION_BOUNDARIES");
  });

  it("answers what it does not know with GraphQL errors", async () => {
    setup();
    const errorOf = async (query: string, variables: Record<string, unknown> = {}) => {
      const { status, body } = await gql(query, { variables });
      expect(status).toBe(200);
      expect(body.errors?.length, query).toBeGreaterThan(0);
      return body;
    };
    const unknownField = await errorOf(`{ repository(owner: "acme", name: "web") { isEmpty stargazerCount } }`);
    expect(unknownField).toEqual({
      errors: [
        {
          message: "Field 'stargazerCount' doesn't exist on type 'Repository'",
          locations: [{ line: 1, column: 52 }],
          extensions: { code: "undefinedField", typeName: "Repository", fieldName: "stargazerCount" },
        },
      ],
    });
    const messages: [string, RegExp][] = [
      [`{ repository(owner: "acme", name: "web") { object(oid: "${"a".repeat(40)}") { ... on Blob { size } } } }`, /Field 'size' doesn't exist on type 'Blob'/],
      [`{ repository(owner: "acme", name: "web", private: true) { isEmpty } }`, /Field 'repository' doesn't accept argument 'private'/],
      [`{ repository(owner: "acme") { isEmpty } }`, /Field 'repository' is missing required arguments: name/],
      [`{ repository(owner: "acme", name: "web") { isEmpty `, /Parse error on end of file/],
      [`{ repository(owner: "acme", name: "web") { defaultBranchRef } }`, /Field must have selections/],
      [`{ repository(owner: "acme", name: "web") { isEmpty { x } } }`, /Selections can't be made on scalars/],
      [`{ repository(owner: $o, name: "web") { isEmpty } }`, /Variable \$o is used by anonymous query but not declared/],
      [`query($o: String!) { repository(owner: $o, name: "web") { isEmpty } }`, /Variable \$o of type String! was provided invalid value/],
      [`mutation { repository(owner: "acme", name: "web") { isEmpty } }`, /Field 'repository' doesn't exist on type 'Mutation'/],
      [`subscription { repository(owner: "acme", name: "web") { isEmpty } }`, /not configured for subscriptions/],
      [`{ repository(owner: "acme", name: "web") { object(oid: "xyz") { oid } } }`, /invalid value \("xyz"\)\. Expected type 'GitObjectID'/],
      [`{ repository(owner: "acme", name: "web") { defaultBranchRef { ... on Blob { oid } } } }`, /Fragment on Blob can't be spread inside Ref/],
      [`{ repository(owner: "acme", name: "web") { defaultBranchRef { target { ... on Nope { oid } } } } }`, /No such type Nope/],
      [`{ repository(owner: "acme", name: "web") { a: isEmpty a: isArchived } }`, /Field 'a' has a field conflict/],
      [`{ repository(owner: "acme", name: "web") { pullRequests(first: 1, orderBy: {field: NAME, direction: ASC}) { totalCount } } }`, /invalid value/],
      [`{ repository(owner: "acme", name: "web") { isEmpty @defer } }`, /Directive @defer is not defined/],
    ];
    for (const [query, message] of messages) {
      const body = await errorOf(query);
      expect(body.data, query).toBeUndefined();
      expect(body.errors[0].message, query).toMatch(message);
    }
    // Execution errors leave the rest of the answer.
    const tooMany = await errorOf(`{ repository(owner: "acme", name: "web") { isEmpty pullRequests(first: 101) { totalCount } } }`);
    expect(tooMany.data).toEqual({ repository: { isEmpty: false, pullRequests: null } });
    expect(tooMany.errors[0]).toMatchObject({ type: "EXCESSIVE_PAGINATION", path: ["repository", "pullRequests"] });
    const noBound = await errorOf(`{ repository(owner: "acme", name: "web") { pullRequests { totalCount } } }`);
    expect(noBound.errors[0].message).toMatch(/You must provide a `first` or `last` value/);
    // @include / @skip and operation names.
    const picked = await gql(
      `query A($x: Boolean!) { repository(owner: "acme", name: "web") { isEmpty @include(if: $x) isArchived @skip(if: true) } }
       query B { repository(owner: "acme", name: "web") { isDisabled } }`,
      { variables: { x: false }, operationName: "A" },
    );
    expect(picked.body).toEqual({ data: { repository: {} } });
    const noName = await errorOf(`query A { repository(owner: "acme", name: "web") { isEmpty } } query B { rateLimit { cost } }`);
    expect(noName.errors[0].message).toMatch(/An operation name is required/);
  });

  it("scopes repositories like the REST routes", async () => {
    fake.addInstallation(1, { login: "acme" });
    fake.addInstallation(2, { login: "other" });
    fake.addRepo(1, { name: "web", files: {} });
    fake.addRepo(1, { name: "api", files: {} });
    fake.addRepo(2, { name: "secret", files: {} });
    const query = `query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { nameWithOwner } }`;
    const other = await gql(query, { variables: { owner: "other", name: "secret" } });
    expect(other.body).toEqual({
      data: { repository: null },
      errors: [
        {
          type: "NOT_FOUND",
          path: ["repository"],
          locations: [{ line: 1, column: 42 }],
          message: "Could not resolve to a Repository with the name 'other/secret'.",
        },
      ],
    });
    const app = new RestOctokit({ baseUrl: fake.apiUrl, auth: JWT });
    const scoped = await app.rest.apps.createInstallationAccessToken({ installation_id: 1, repositories: ["api"] });
    expect((await gql(query, { variables: { owner: "acme", name: "api" }, token: scoped.data.token })).body.data.repository).toEqual({
      nameWithOwner: "acme/api",
    });
    expect((await gql(query, { variables: { owner: "acme", name: "web" }, token: scoped.data.token })).body.errors[0].type).toBe("NOT_FOUND");
    expect((await gql(query, { variables: { owner: "other", name: "secret" }, token: "a-user-token" })).body.data.repository).toEqual({
      nameWithOwner: "other/secret",
    });
    const anonymous = await gql(query, { variables: { owner: "acme", name: "web" }, token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toMatch(/requires you to be authenticated/);
    expect((await gql(query, { variables: { owner: "acme", name: "web" }, token: JWT })).status).toBe(403);
    fake.expireTokens();
    expect((await gql(query, { variables: { owner: "acme", name: "api" }, token: scoped.data.token })).status).toBe(401);
    // Faults can be injected like on REST routes.
    fake.failNext("POST", "^/graphql$", 502);
    expect((await gql(query, { variables: { owner: "acme", name: "web" }, token: "a-user-token" })).status).toBe(502);
  });

  it("gives blob text as lossily as GitHub may: BOM dropped, invalid bytes replaced, binary null, truncated", async () => {
    await fake.close();
    fake = await FakeGitHub.start({ graphqlBlobTextLimit: 16 });
    const files = {
      bom: Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a]),
      latin1: Buffer.from([0x61, 0xe9, 0x0a]),
      binary: Buffer.from([0x61, 0x00, 0x62]),
      long: Buffer.from("0123456789abcdefXYZ"),
    };
    setup(files);
    const aliases = Object.entries(files)
      .map(([name, data]) => `${name}: object(oid: "${hashObject("blob", data)}") { ... on Blob { byteSize isBinary isTruncated text } }`)
      .join("\n");
    const { body } = await gql(`{ repository(owner: "acme", name: "web") { ${aliases} } }`);
    expect(body.data.repository).toEqual({
      bom: { byteSize: 6, isBinary: false, isTruncated: false, text: "a\r\n" },
      latin1: { byteSize: 3, isBinary: false, isTruncated: false, text: "a\uFFFD\n" },
      binary: { byteSize: 3, isBinary: true, isTruncated: false, text: null },
      long: { byteSize: 19, isBinary: false, isTruncated: true, text: "0123456789abcdef" },
    });
  });

  it("serves empty repositories, and a first push to them", async () => {
    fake.addInstallation(1, { login: "acme" });
    fake.addRepo(1, { name: "new", empty: true });
    expect(() => fake.addRepo(1, { name: "bad", empty: true, files: {} })).toThrow(/empty/);
    const query = `{ repository(owner: "acme", name: "new") { isEmpty defaultBranchRef { name } object(expression: "HEAD:Dockerfile") { oid } } }`;
    expect((await gql(query)).body.data.repository).toEqual({ isEmpty: true, defaultBranchRef: null, object: null });
    const gh = await installationClient(1);
    await expectStatus(gh.rest.git.getRef({ owner: "acme", repo: "new", ref: "heads/main" }), 404);
    expect(fake.branches("acme", "new")).toEqual([]);
    const root = fake.pushFiles("acme", "new", "main", { Dockerfile: "FROM x\n" });
    expect(fake.getCommit("acme", "new", root)?.parents).toEqual([]);
    expect((await gql(query)).body.data.repository).toEqual({
      isEmpty: false,
      defaultBranchRef: { name: "main" },
      object: { oid: hashObject("blob", Buffer.from("FROM x\n")) },
    });
  });
});

describe("GitHub's limits and auto-merge", () => {
  async function mutate(query: string, variables: Record<string, unknown>, token = fake.createInstallationToken(1)) {
    const res = await fetch(`${fake.url}/api/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test probing of loose JSON
    return (await res.json()) as any;
  }
  const ENABLE = `mutation($id: ID!, $m: PullRequestMergeMethod) {
    enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $m, commitHeadline: "Pin", commitBody: "the summary" }) {
      pullRequest { number autoMergeRequest { mergeMethod commitHeadline commitBody enabledBy { login } } }
    }
  }`;

  it("refuses bodies over 65,536 characters with GitHub's 422, for pull requests, issues and comments", async () => {
    setup({ Dockerfile: "FROM a\n" });
    const gh = await installationClient(1);
    const o = { owner: "acme", repo: "web" };
    fake.pushFiles("acme", "web", "digest-pin/main", { Dockerfile: "FROM b\n" });
    const long = "é".repeat(65_537);
    await expectStatus(gh.rest.pulls.create({ ...o, title: "Pin", head: "digest-pin/main", base: "main", body: long }), 422, /body is too long \(maximum is 65536 characters\)/);
    // Characters, as GitHub counts them: 65,536 two-byte characters are within the limit.
    const pr = await gh.rest.pulls.create({ ...o, title: "Pin", head: "digest-pin/main", base: "main", body: long.slice(1) });
    await expectStatus(gh.rest.pulls.update({ ...o, pull_number: pr.data.number, body: `${long}` }), 422, /body is too long/);
    await expectStatus(gh.rest.issues.create({ ...o, title: "x", body: long }), 422, /body is too long/);
    await expectStatus(gh.rest.issues.createComment({ ...o, issue_number: pr.data.number, body: long }), 422, /Body is too long/);
    expect(fake.pull("acme", "web", pr.data.number)?.body).toBe(long.slice(1));
  });

  it("enables auto-merge through GraphQL where the repository allows it, and turns it off again", async () => {
    fake.addInstallation(1, { login: "acme" });
    fake.addRepo(1, { name: "web", files: { Dockerfile: "FROM a\n" }, allowAutoMerge: true, mergeMethods: { merge: false } });
    fake.pushFiles("acme", "web", "feature", { Dockerfile: "FROM b\n" });
    const pr = fake.openPull("acme", "web", { head: "feature", title: "one" });
    const id = Buffer.from(`011:PullRequest${pr.id}`).toString("base64");
    const enabled = await mutate(ENABLE, { id, m: "SQUASH" });
    expect(enabled.errors).toBeUndefined();
    expect(enabled.data.enablePullRequestAutoMerge.pullRequest.autoMergeRequest).toEqual({
      mergeMethod: "SQUASH",
      commitHeadline: "Pin",
      commitBody: "the summary",
      enabledBy: { login: fake.botLogin.replace(/\[bot\]$/, "") },
    });
    expect(fake.pull("acme", "web", pr.number)?.autoMerge?.mergeMethod).toBe("SQUASH");
    const refused = await mutate(ENABLE, { id, m: "MERGE" });
    expect(refused.errors[0].message).toBe("Pull request Merge method merge merging is not allowed on this repository");
    const off = await mutate(`mutation($id: ID!) { disablePullRequestAutoMerge(input: { pullRequestId: $id }) { pullRequest { autoMergeRequest { mergeMethod } } } }`, { id });
    expect(off.data.disablePullRequestAutoMerge.pullRequest.autoMergeRequest).toBeNull();
    // Closing drops a request, and a closed pull request takes none.
    await mutate(ENABLE, { id, m: "SQUASH" });
    fake.closePull("acme", "web", pr.number);
    expect(fake.pull("acme", "web", pr.number)?.autoMerge).toBeNull();
    expect((await mutate(ENABLE, { id, m: "SQUASH" })).errors[0].message).toBe("Pull request is not open");
  });

  it("refuses auto-merge as GitHub does where the repository does not allow it, and for pull requests the token cannot see", async () => {
    fake.addInstallation(1, { login: "acme" });
    fake.addInstallation(2, { login: "other" });
    fake.addRepo(1, { name: "web", files: { Dockerfile: "FROM a\n" } });
    fake.addRepo(2, { name: "secret", files: { Dockerfile: "FROM a\n" }, allowAutoMerge: true });
    fake.pushFiles("acme", "web", "feature", { Dockerfile: "FROM b\n" });
    fake.pushFiles("other", "secret", "feature", { Dockerfile: "FROM b\n" });
    const pr = fake.openPull("acme", "web", { head: "feature", title: "one" });
    const theirs = fake.openPull("other", "secret", { head: "feature", title: "two" });
    const notAllowed = await mutate(ENABLE, { id: Buffer.from(`011:PullRequest${pr.id}`).toString("base64"), m: "SQUASH" });
    expect(notAllowed.errors[0]).toMatchObject({ type: "UNPROCESSABLE", message: "Pull request Auto merge is not allowed for this repository" });
    expect(notAllowed.data.enablePullRequestAutoMerge).toBeNull();
    const hidden = await mutate(ENABLE, { id: Buffer.from(`011:PullRequest${theirs.id}`).toString("base64"), m: "SQUASH" });
    expect(hidden.errors[0].type).toBe("NOT_FOUND");
    expect(fake.pull("other", "secret", theirs.number)?.autoMerge).toBeNull();
    expect((await mutate(ENABLE, { id: "nope", m: "SQUASH" })).errors[0].type).toBe("NOT_FOUND");
    const unknown = await mutate(`mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: FAST }) { clientMutationId } }`, { id: "x" });
    expect(unknown.errors[0].message).toMatch(/invalid value/);
  });
});

describe("ObjectStore", () => {
  it("computes ancestry and merge bases over generations", () => {
    const s = new ObjectStore();
    const t = s.buildTree(undefined, [{ path: "f", entry: { mode: "100644", sha: s.writeBlob(Buffer.from("1")) } }]);
    const id = { name: "n", email: "e", time: 1, tz: "+0000" };
    const c1 = s.writeCommit({ tree: t, parents: [], author: id, committer: id, message: "1" });
    const c2 = s.writeCommit({ tree: t, parents: [c1], author: id, committer: id, message: "2" });
    const c3 = s.writeCommit({ tree: t, parents: [c1], author: id, committer: id, message: "3" });
    const m = s.writeCommit({ tree: t, parents: [c2, c3], author: id, committer: id, message: "m" });
    expect(s.isAncestor(c1, m)).toBe(true);
    expect(s.isAncestor(c3, m)).toBe(true);
    expect(s.isAncestor(m, c3)).toBe(false);
    expect(s.isAncestor(c2, c3)).toBe(false);
    expect(s.mergeBase(c2, c3)).toBe(c1);
    expect(s.mergeBase(m, c3)).toBe(c3);
    expect(s.buildTree(t, [{ path: "f", entry: null }])).toBe(EMPTY_TREE_SHA);
    expect(s.buildTree(t, [{ path: "missing/x", entry: null }])).toBe(t);
  });
});
