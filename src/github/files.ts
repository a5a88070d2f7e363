// Read a repository through the API, without cloning: branch head → tree → the blobs worth scanning.

import type { ProbotOctokit } from "probot";
import { isDockerfilePath } from "../dockerfile/files.js";
import { CONFIG_PATH } from "./config.js";

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** Files larger than this are skipped: no real Dockerfile is. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Bound on the number of files read from one repository. */
export const MAX_FILES = 500;

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
  /** Files passed over, with the reason. */
  skipped: { path: string; reason: "too-large" | "binary" | "too-many" }[];
}

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

/** Binary files (a NUL byte near the start, as git judges) are not Dockerfiles. */
function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

async function readBlob(octokit: Octokit, owner: string, repo: string, sha: string): Promise<Buffer> {
  const { data } = await octokit.rest.git.getBlob({ owner, repo, file_sha: sha });
  return Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
}

/**
 * The files of `branch` worth scanning (selected by `wanted`, default the Dockerfile names), and the config.
 * Returns null for an empty repository (no such branch).
 */
export async function readRepository(
  octokit: Octokit,
  owner: string,
  repo: string,
  branch: string,
  wanted: (path: string) => boolean = isDockerfilePath,
): Promise<RepoSnapshot | null> {
  let headSha: string;
  try {
    const { data } = await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` });
    headSha = data.object.sha;
  } catch (error) {
    // An empty repository has no branch: 404, or 409 "Git Repository is empty".
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 409) return null;
    throw error;
  }
  const { data: commit } = await octokit.rest.git.getCommit({ owner, repo, commit_sha: headSha });
  const treeSha = commit.tree.sha;
  const entries = await listTree(octokit, owner, repo, treeSha);

  const snapshot: RepoSnapshot = { branch, headSha, treeSha, files: [], configText: null, skipped: [] };
  const configEntry = entries.find((e) => e.path === CONFIG_PATH);
  if (configEntry) snapshot.configText = (await readBlob(octokit, owner, repo, configEntry.sha)).toString("utf8");

  for (const entry of entries.filter((e) => wanted(e.path))) {
    if ((entry.size ?? 0) > MAX_FILE_BYTES) {
      snapshot.skipped.push({ path: entry.path, reason: "too-large" });
      continue;
    }
    if (snapshot.files.length >= MAX_FILES) {
      snapshot.skipped.push({ path: entry.path, reason: "too-many" });
      continue;
    }
    const content = await readBlob(octokit, owner, repo, entry.sha);
    if (isBinary(content)) {
      snapshot.skipped.push({ path: entry.path, reason: "binary" });
      continue;
    }
    snapshot.files.push({ path: entry.path, sha: entry.sha, mode: entry.mode, content });
  }
  return snapshot;
}
