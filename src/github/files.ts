// Read a repository through the API, without cloning, in three calls: one GraphQL query for its state (default
// branch head, config, bot branch, bot PRs), the recursive tree, and one GraphQL query per 50 blobs worth scanning.

import type { ProbotOctokit } from "probot";
import { isDockerfilePath } from "../dockerfile/files.js";
import { fetchBlobs, fetchRepoState, type BotBranchCommit, type BotPull, type MergeSettings } from "./graphql.js";

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** Files larger than this are skipped: no real Dockerfile is. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Bound on the number of files read from one repository. */
export const MAX_FILES = 500;

export function branchFor(base: string): string {
  return `digest-pin/${base}`;
}

export interface RepoFile {
  path: string;
  /** The blob's git id. */
  sha: string;
  /** Git file mode, kept when the file is rewritten. */
  mode: string;
  content: Buffer;
}

export interface RepoSnapshot {
  branch: string;
  /** The commit read. */
  headSha: string;
  treeSha: string;
  files: RepoFile[];
  /** The config file's text, or null when there is none. */
  configText: string | null;
  /** The config file's size when it is over MAX_CONFIG_BYTES and was not read (`configText` is then empty). */
  configTooLarge?: number;
  /** Files passed over, with the reason. */
  skipped: { path: string; reason: "too-large" | "binary" | "too-many" }[];
  /** The head of `digest-pin/<branch>`, or null when it does not exist. */
  botBranchHead: string | null;
  /** What GitHub says of that head commit: who made it, its signature, its parents. */
  botBranchCommit: BotBranchCommit | null;
  /** The repository's `pushed_at` when it was read (the same instant as `headSha`), or null. */
  pushedAt: string | null;
  /** Pull requests from the bot branch, newest first. */
  pulls: BotPull[];
  /** Whether auto-merge is allowed, and which merge methods. */
  merging: MergeSettings;
}

export type RepoRead =
  | { status: "ok"; snapshot: RepoSnapshot }
  | { status: "archived" | "disabled" | "empty" };

interface TreeEntry {
  path: string;
  type: string;
  sha: string;
  mode: string;
  size?: number;
}

/** All blobs of a tree; a truncated recursive listing is completed by walking its subtrees one by one. */
async function listTree(octokit: Octokit, owner: string, repo: string, treeSha: string): Promise<TreeEntry[]> {
  const { data } = await octokit.rest.git.getTree({ owner, repo, tree_sha: treeSha, recursive: "1" });
  const entries = data.tree as TreeEntry[];
  if (!data.truncated) return entries.filter((e) => e.type === "blob");
  const out: TreeEntry[] = [];
  const walk = async (sha: string, prefix: string): Promise<void> => {
    const { data: level } = await octokit.rest.git.getTree({ owner, repo, tree_sha: sha });
    for (const entry of level.tree as TreeEntry[]) {
      const path = prefix + entry.path;
      if (entry.type === "blob") out.push({ ...entry, path });
      else if (entry.type === "tree") await walk(entry.sha, `${path}/`);
    }
  };
  await walk(treeSha, "");
  return out;
}

/** Binary files (a NUL byte near the start, as git judges) are not Dockerfiles (the CLI skips them alike). */
export function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

/**
 * The files of the default branch worth scanning (selected by `wanted`), the config and the bot branch's state.
 * `expectedBranch` names the default branch when the caller knows it; a wrong guess costs one more query.
 */
export async function readRepository(
  octokit: Octokit,
  owner: string,
  repo: string,
  expectedBranch: string | undefined,
  wanted: (path: string) => boolean = isDockerfilePath,
): Promise<RepoRead> {
  const guess = expectedBranch ?? "main";
  let state = await fetchRepoState(octokit, owner, repo, branchFor(guess), guess);
  if (state.archived) return { status: "archived" };
  if (state.disabled) return { status: "disabled" };
  if (state.empty || state.defaultBranch === null) return { status: "empty" };
  if (state.defaultBranch.name !== guess) {
    state = await fetchRepoState(octokit, owner, repo, branchFor(state.defaultBranch.name), state.defaultBranch.name);
    if (state.defaultBranch === null) return { status: "empty" };
  }
  const { name: branch, headSha, treeSha } = state.defaultBranch;

  const snapshot: RepoSnapshot = {
    branch,
    headSha,
    treeSha,
    files: [],
    configText: state.config?.text ?? null,
    ...(state.config?.tooLarge === undefined ? {} : { configTooLarge: state.config.tooLarge }),
    skipped: [],
    botBranchHead: state.botBranchHead,
    botBranchCommit: state.botBranchCommit,
    pushedAt: state.pushedAt,
    pulls: state.pulls,
    merging: state.merging,
  };
  const chosen: TreeEntry[] = [];
  for (const entry of (await listTree(octokit, owner, repo, treeSha)).filter((e) => wanted(e.path))) {
    if ((entry.size ?? 0) > MAX_FILE_BYTES) snapshot.skipped.push({ path: entry.path, reason: "too-large" });
    else if (chosen.length >= MAX_FILES) snapshot.skipped.push({ path: entry.path, reason: "too-many" });
    else chosen.push(entry);
  }
  const blobs = chosen.length > 0 ? await fetchBlobs(octokit, owner, repo, chosen.map((e) => e.sha)) : new Map();
  for (const entry of chosen) {
    const content = blobs.get(entry.sha) as Buffer;
    if (isBinary(content)) snapshot.skipped.push({ path: entry.path, reason: "binary" });
    else snapshot.files.push({ path: entry.path, sha: entry.sha, mode: entry.mode, content });
  }
  return { status: "ok", snapshot };
}
