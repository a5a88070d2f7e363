// The pull request lifecycle, derived from GitHub alone: open, refresh in place, respect other people's pushes,
// close when nothing is left, remember declined digests through closed PRs' markers.

import { applyEdits } from "../dockerfile/rewrite.js";
import { editsFor, failedFiles, type Plan } from "../plan.js";
import { renderBody, titleFor } from "./body.js";
import type { RepoConfig } from "./config.js";
import { branchFor, type Octokit, type RepoSnapshot } from "./files.js";
import { markChanges, readMarker, renderMarker, replaceMarker, samePlan, type Marker } from "./marker.js";
import { isInBase, isOwnHead, type BotAccount } from "./ownership.js";

export { branchFor };

export interface RepoRef {
  owner: string;
  repo: string;
}

export type SyncAction =
  | "opened" // a new PR
  | "updated" // a new commit and body on the open PR
  | "unchanged" // the open PR already proposes exactly this
  | "closed" // nothing left to change: PR closed, branch deleted
  | "blocked" // someone else pushed to the branch: left alone
  | "none"; // nothing to change and no PR

export interface SyncResult {
  action: SyncAction;
  pull?: { number: number; url: string };
  /** Why a sync was blocked, for the summary. */
  detail?: string;
}

const FOREIGN_MARK = "<!-- digest-pin:foreign-commits ";

/** Digests proposed by PRs closed without merging, by `image:tag`: not proposed again. */
export function declinedDigests(snapshot: Pick<RepoSnapshot, "pulls">): Map<string, Set<string>> {
  const declined = new Map<string, Set<string>>();
  for (const pull of snapshot.pulls) {
    if (pull.state !== "closed" || pull.merged) continue;
    const marker = readMarker(pull.body);
    if (marker?.resolved) continue;
    for (const change of marker?.changes ?? []) {
      const key = `${change.image}:${change.tag}`;
      if (!declined.has(key)) declined.set(key, new Set());
      declined.get(key)?.add(change.newDigest);
    }
  }
  return declined;
}

/** One commit on top of the base head holding every rewritten file, made with the Git data API. */
async function createCommit(octokit: Octokit, { owner, repo }: RepoRef, snapshot: RepoSnapshot, plan: Plan) {
  const tree = [];
  for (const path of [...new Set(plan.changes.map((c) => c.path))].sort()) {
    const file = snapshot.files.find((f) => f.path === path);
    if (!file) throw new Error(`internal: no content for ${path}`);
    const content = applyEdits(file.content, editsFor(plan.changes, path));
    const mode = file.mode as "100644";
    // Text that is exactly UTF-8 goes inside the tree: a write less per file, against GitHub's pacing of writes (one a
    // second) and its budget of content creation (500 an hour). Other bytes need a blob of their own.
    const text = content.toString("utf8");
    if (Buffer.from(text, "utf8").equals(content)) {
      tree.push({ path, mode, type: "blob" as const, content: text });
      continue;
    }
    const { data: blob } = await octokit.rest.git.createBlob({
      owner,
      repo,
      content: content.toString("base64"),
      encoding: "base64",
    });
    tree.push({ path, mode, type: "blob" as const, sha: blob.sha });
  }
  const { data: newTree } = await octokit.rest.git.createTree({ owner, repo, base_tree: snapshot.treeSha, tree });
  const { data: commit } = await octokit.rest.git.createCommit({
    owner,
    repo,
    message: titleFor(plan.changes),
    tree: newTree.sha,
    parents: [snapshot.headSha],
  });
  return commit.sha;
}

function desiredMarker(snapshot: RepoSnapshot, plan: Plan): Pick<Marker, "files" | "changes"> {
  const files: Record<string, string> = {};
  for (const path of new Set(plan.changes.map((c) => c.path))) {
    const file = snapshot.files.find((f) => f.path === path);
    if (file) files[path] = file.sha;
  }
  return { files, changes: markChanges(plan.changes) };
}

async function writeBranch(octokit: Octokit, { owner, repo }: RepoRef, branch: string, sha: string, exists: boolean) {
  if (exists) {
    await octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha, force: true });
  } else {
    await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha });
  }
}

async function deleteBranch(octokit: Octokit, { owner, repo }: RepoRef, branch: string) {
  try {
    await octokit.rest.git.deleteRef({ owner, repo, ref: `heads/${branch}` });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== 404 && status !== 422) throw error;
  }
}

/** Say once per foreign head that the branch is left alone. */
async function reportForeignPush(octokit: Octokit, { owner, repo }: RepoRef, number: number, head: string) {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: number,
    per_page: 100,
  });
  const mark = `${FOREIGN_MARK}${head} -->`;
  if (comments.some((c) => c.body?.includes(mark))) return;
  await octokit.rest.issues.createComment({
    owner,
    repo,
    issue_number: number,
    body:
      `Someone else pushed to \`${head.slice(0, 7)}\` on this branch, so digest-pin leaves it alone and stops ` +
      "updating this pull request.\n\nComment `/digest-pin recreate` to rebuild the branch from the base branch " +
      `(discarding the pushed commits).\n\n${mark}`,
  });
}

async function applyMetadata(octokit: Octokit, { owner, repo }: RepoRef, number: number, config: RepoConfig) {
  if (config.labels.length > 0) {
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels: config.labels });
  }
  if (config.reviewers.length > 0) {
    const reviewers = config.reviewers.filter((r) => !r.includes("/"));
    const teams = config.reviewers.filter((r) => r.includes("/")).map((r) => r.split("/").pop() ?? r);
    await octokit.rest.pulls
      .requestReviewers({ owner, repo, pull_number: number, reviewers, team_reviewers: teams })
      .catch(() => undefined); // an unknown reviewer must not lose the PR
  }
  if (config.assignees.length > 0) {
    await octokit.rest.issues.addAssignees({ owner, repo, issue_number: number, assignees: config.assignees });
  }
}

export interface SyncOptions {
  config: RepoConfig;
  /** The app's bot account, the author and committer of the commits it makes (asked only when the branch exists). */
  bot: () => Promise<BotAccount>;
  /** `/digest-pin recreate`: rebuild the branch even over someone else's commits. */
  recreate?: boolean;
}

/** Bring the bot PR of `snapshot.branch` in line with `plan`. */
export async function syncPullRequest(
  octokit: Octokit,
  ref: RepoRef,
  snapshot: RepoSnapshot,
  plan: Plan,
  { config, bot, recreate = false }: SyncOptions,
): Promise<SyncResult> {
  const { owner, repo } = ref;
  const branch = branchFor(snapshot.branch);
  const open = snapshot.pulls.find((p) => p.state === "open" && p.headRefName === branch);
  const head = snapshot.botBranchHead;
  const openMarker = open ? readMarker(open.body) : null;
  // Whether the app made the head is GitHub's answer, never the marker's: anyone who can push to the branch can edit
  // the body too. The marker's commit only tells whether its plan describes this head (see "unchanged" below).
  const ours = head !== null && isOwnHead(snapshot.botBranchCommit, await bot());

  // A file that failed to scan has unknown references, not none: while any does, our pull request is neither closed
  // nor called current nor rebuilt without them. /digest-pin recreate may rebuild it, but never closes it.
  const unscanned = failedFiles(plan).length;
  if (open && unscanned > 0 && (recreate ? plan.changes.length === 0 : ours)) {
    return {
      action: "blocked",
      pull: { number: open.number, url: open.url },
      detail: `${unscanned} file${unscanned === 1 ? "" : "s"} could not be scanned, so the pull request stays as it is until ${unscanned === 1 ? "it can" : "they can"} be`,
    };
  }

  // A registry failure is never "nothing left to change": while references it proposes digests for fail to resolve,
  // our open pull request is neither closed (which would also decline its digests) nor stripped of those proposals.
  if (open && ours && openMarker && !recreate && plan.errors.length > 0) {
    const failed = new Set(plan.errors.map((e) => `${e.path}\n${e.text}`));
    if (openMarker.changes.some((c) => failed.has(`${c.path}\n${c.from}`))) {
      const n = plan.errors.length;
      return {
        action: "blocked",
        pull: { number: open.number, url: open.url },
        detail: `${n} reference${n === 1 ? "" : "s"} could not be resolved, so the pull request stays as it is until the registry answers`,
      };
    }
  }

  if (plan.changes.length === 0) {
    if (!open) return { action: "none" };
    if (!ours && !recreate) {
      if (head) await reportForeignPush(octokit, ref, open.number, head);
      return { action: "blocked", pull: { number: open.number, url: open.url }, detail: "foreign commits" };
    }
    await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: open.number,
      body: "Nothing is left for this pull request to change (the references are pinned and current, or gone), so it " +
        "is no longer needed. Closing it.",
    });
    // Marked resolved, so that closing it does not count as declining its digests.
    const body = openMarker ? replaceMarker(open.body, { ...openMarker, resolved: true }) : open.body;
    await octokit.rest.pulls.update({ owner, repo, pull_number: open.number, state: "closed", body });
    await deleteBranch(octokit, ref, branch);
    return { action: "closed", pull: { number: open.number, url: open.url } };
  }

  const desired = desiredMarker(snapshot, plan);
  if (open) {
    const pull = { number: open.number, url: open.url };
    if (!ours && !recreate) {
      if (head) await reportForeignPush(octokit, ref, open.number, head);
      return { action: "blocked", pull, detail: "foreign commits" };
    }
    if (ours && !recreate && openMarker?.commit === head && samePlan(openMarker, desired)) {
      // The same edits: only the list of unresolved references may have changed.
      const body = renderBody(plan, renderMarker(openMarker));
      if (body !== open.body) await octokit.rest.pulls.update({ owner, repo, pull_number: open.number, body });
      return { action: "unchanged", pull };
    }
    const commit = await createCommit(octokit, ref, snapshot, plan);
    await writeBranch(octokit, ref, branch, commit, head !== null);
    await octokit.rest.pulls.update({
      owner,
      repo,
      pull_number: open.number,
      title: titleFor(plan.changes),
      body: renderBody(plan, renderMarker({ v: 1, commit, ...desired })),
    });
    return { action: "updated", pull };
  }

  // No open PR. A leftover branch (of a closed PR, or of a run that died between pushing it and opening the PR) is
  // reused only when its head is a commit we made, or one the base branch already has (a merged PR's kept branch).
  if (head !== null && !recreate && !ours && !isInBase(snapshot.botBranchCommit)) {
    return { action: "blocked", detail: `branch ${branch} exists with commits digest-pin did not make` };
  }
  const commit = await createCommit(octokit, ref, snapshot, plan);
  await writeBranch(octokit, ref, branch, commit, head !== null);
  const { data: created } = await octokit.rest.pulls.create({
    owner,
    repo,
    head: branch,
    base: snapshot.branch,
    title: titleFor(plan.changes),
    body: renderBody(plan, renderMarker({ v: 1, commit, ...desired })),
    maintainer_can_modify: true,
  });
  await applyMetadata(octokit, ref, created.number, config);
  return { action: "opened", pull: { number: created.number, url: created.html_url } };
}
