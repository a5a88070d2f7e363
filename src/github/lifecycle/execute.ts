// The executor of the lifecycle's decisions (decide.ts): commits through the Git data API, branch moves, pull request
// bodies, comments, auto-merge. Each function does what one action says and nothing else.

import { applyEdits } from "../../dockerfile/rewrite.js";
import { editsFor, type Plan } from "../../plan.js";
import { automergeNotice, automergeWanted, disableAutomerge, enableAutomerge } from "../automerge.js";
import { commitMessage, renderBody, titleFor, type BodyContext } from "../body.js";
import type { RepoConfig } from "../config.js";
import { branchFor, type Octokit, type RepoSnapshot } from "../files.js";
import { gitBlobId, type BotPull } from "../graphql.js";
import { inlineCode, inlineText, link } from "../markdown.js";
import { markerFor, renderMarker, replaceMarker, type Marker } from "../marker.js";
import type { Action, PullRef } from "./decide.js";

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

/** Everything the executor acts on. */
export interface Execution {
  octokit: Octokit;
  ref: RepoRef;
  snapshot: RepoSnapshot;
  plan: Plan;
  config: RepoConfig;
  body: BodyContext;
  /** The open pull request from the bot branch (as GitHub listed it), and its marker. */
  open: BotPull | undefined;
  marker: Marker | null;
  /**
   * Auto-merge on the open pull request: off, enabled by the app (which turns it off again when the pull request no
   * longer qualifies), or enabled by a person (their decision: left alone).
   */
  automerge: AutomergeState;
}

export type AutomergeState = "off" | "ours" | "theirs";

const FOREIGN_MARK = "<!-- digest-pin:foreign-commits ";
/** GitHub lists at most this many files of a commit in one answer: a head with more is simply rewritten. */
const COMMIT_FILES_LIMIT = 300;

/** The base blob id of each file the plan rewrites: part of what makes two plans the same. */
export function baseFiles(snapshot: RepoSnapshot, plan: Plan): Record<string, string> {
  const files: Record<string, string> = {};
  for (const path of new Set(plan.changes.map((c) => c.path))) {
    const file = snapshot.files.find((f) => f.path === path);
    if (file) files[path] = file.sha;
  }
  return files;
}

/** The rewritten bytes of every file the plan changes. */
function rewritten(snapshot: RepoSnapshot, plan: Plan): { path: string; mode: string; content: Buffer }[] {
  return [...new Set(plan.changes.map((c) => c.path))].sort().map((path) => {
    const file = snapshot.files.find((f) => f.path === path);
    if (!file) throw new Error(`internal: no content for ${path}`);
    return { path, mode: file.mode, content: applyEdits(file.content, editsFor(plan.changes, path)) };
  });
}

/**
 * Whether the head commit carries exactly the plan's edits, from what GitHub says about it: the files it changes
 * against its parent are the plan's files, each with the blob the plan would write. For an own head whose marker is
 * lost or names another commit (a body edited by a person or a bot, a run that died between moving the branch and
 * writing the body), so that it is recognised instead of rewritten. One REST call.
 */
export async function headCarriesPlan({ octokit, ref, snapshot, plan }: Execution, head: string): Promise<boolean> {
  const { data } = await octokit.rest.repos.getCommit({ owner: ref.owner, repo: ref.repo, ref: head, per_page: COMMIT_FILES_LIMIT });
  const files = data.files ?? [];
  const wanted = new Map(rewritten(snapshot, plan).map((f) => [f.path, gitBlobId(f.content)]));
  if (files.length !== wanted.size || files.length >= COMMIT_FILES_LIMIT) return false;
  return files.every((f) => f.status === "modified" && wanted.get(f.filename) === f.sha);
}

/** One commit on top of the base head holding every rewritten file, made with the Git data API. */
async function createCommit({ octokit, ref, snapshot, plan, config }: Execution): Promise<string> {
  const { owner, repo } = ref;
  const tree = [];
  for (const file of rewritten(snapshot, plan)) {
    const mode = file.mode as "100644";
    // Text that is exactly UTF-8 goes inside the tree: a write less per file, against GitHub's pacing of writes (one a
    // second) and its budget of content creation (500 an hour). Other bytes need a blob of their own.
    const text = file.content.toString("utf8");
    if (Buffer.from(text, "utf8").equals(file.content)) {
      tree.push({ path: file.path, mode, type: "blob" as const, content: text });
      continue;
    }
    const { data: blob } = await octokit.rest.git.createBlob({ owner, repo, content: file.content.toString("base64"), encoding: "base64" });
    tree.push({ path: file.path, mode, type: "blob" as const, sha: blob.sha });
  }
  const { data: newTree } = await octokit.rest.git.createTree({ owner, repo, base_tree: snapshot.treeSha, tree });
  const { data: commit } = await octokit.rest.git.createCommit({
    owner,
    repo,
    message: commitMessage(plan, config.commitMessagePrefix),
    tree: newTree.sha,
    parents: [snapshot.headSha],
  });
  return commit.sha;
}

async function writeBranch({ octokit, ref }: Execution, branch: string, sha: string, exists: boolean): Promise<void> {
  if (exists) {
    await octokit.rest.git.updateRef({ ...ref, ref: `heads/${branch}`, sha, force: true });
  } else {
    await octokit.rest.git.createRef({ ...ref, ref: `refs/heads/${branch}`, sha });
  }
}

async function deleteBranch({ octokit, ref }: Execution, branch: string): Promise<void> {
  try {
    await octokit.rest.git.deleteRef({ ...ref, ref: `heads/${branch}` });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== 404 && status !== 422) throw error;
  }
}

/** Who wrote the head commit, in plain words (GitHub's login for it, else the name in the commit). */
function authorOf(snapshot: RepoSnapshot): string {
  const commit = snapshot.botBranchCommit;
  const who = commit?.authorLogin ?? commit?.authorName;
  return who ? inlineText(who) : "someone who is not digest-pin";
}

/** Say once per foreign head, naming who pushed which commit, that the branch is left alone and how to reset it. */
async function reportForeignPush({ octokit, ref, snapshot }: Execution, pull: PullRef, head: string): Promise<void> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...ref, issue_number: pull.number, per_page: 100 });
  const mark = `${FOREIGN_MARK}${head} -->`;
  if (comments.some((c) => c.body?.includes(mark))) return;
  let commit = `\`${head.slice(0, 7)}\``;
  try {
    commit = link(head.slice(0, 7), new URL(`${pull.url}/commits/${head}`));
  } catch {
    // A pull request URL that is not one: the short id alone still names the commit.
  }
  await octokit.rest.issues.createComment({
    ...ref,
    issue_number: pull.number,
    body:
      `Someone else pushed to this branch: its newest commit, ${commit}, was made by ${authorOf(snapshot)}, not by ` +
      "digest-pin. digest-pin never writes over other people's commits, so it leaves this branch alone and stops " +
      "updating this pull request.\n\n" +
      `To hand the branch back, comment \`/digest-pin recreate\`: digest-pin rebuilds it from ${inlineCode(snapshot.branch)} ` +
      `and the pushed commits are dropped from it.\n\n${mark}`,
  });
}

async function applyMetadata({ octokit, ref, config }: Execution, number: number): Promise<void> {
  if (config.labels.length > 0) {
    await octokit.rest.issues.addLabels({ ...ref, issue_number: number, labels: config.labels });
  }
  if (config.reviewers.length > 0) {
    const reviewers = config.reviewers.filter((r) => !r.includes("/"));
    const teams = config.reviewers.filter((r) => r.includes("/")).map((r) => r.split("/").pop() ?? r);
    await octokit.rest.pulls
      .requestReviewers({ ...ref, pull_number: number, reviewers, team_reviewers: teams })
      .catch(() => undefined); // an unknown reviewer must not lose the PR
  }
  if (config.assignees.length > 0) {
    await octokit.rest.issues.addAssignees({ ...ref, issue_number: number, assignees: config.assignees });
  }
}

/** The marker for `commit`, carrying what the old one remembered of this pull request. */
function markerOf(x: Execution, commit: string): Marker {
  const marker = markerFor(commit, { files: baseFiles(x.snapshot, x.plan), changes: x.plan.changes });
  if (x.marker?.automergeNoticed) marker.automergeNoticed = true;
  return marker;
}

/**
 * Auto-merge in line with the config for an open pull request: turned on when the plan qualifies and it is off,
 * turned off when it does not and the app had turned it on (auto-merge a person turned on is theirs). A refusal is said
 * once, in a comment; the marker remembers it was said. Returns the marker to write (changed only when a notice was
 * just posted).
 */
async function syncAutomerge(x: Execution, pull: { number: number; id: string }, state: AutomergeState, marker: Marker): Promise<Marker> {
  const { octokit, ref, plan, config, snapshot } = x;
  if (!automergeWanted(config.automerge, plan.changes)) {
    if (state === "ours") await disableAutomerge(octokit, pull.id);
    return marker;
  }
  if (state !== "off" || config.automerge === false) return marker;
  const message = commitMessage(plan, config.commitMessagePrefix);
  const [headline = "", ...rest] = message.split("\n");
  const outcome = await enableAutomerge(octokit, pull.id, snapshot.merging, headline, rest.join("\n").trim());
  if (outcome.ok || marker.automergeNoticed) return marker;
  await octokit.rest.issues.createComment({ ...ref, issue_number: pull.number, body: automergeNotice(config.automerge, outcome.reason) });
  return { ...marker, automergeNoticed: true };
}

/**
 * Carry out one action (never `inspect`: the caller answers that and decides again).
 *
 * @example await execute({ kind: "close", pull }, execution)
 */
export async function execute(action: Action, x: Execution): Promise<SyncResult> {
  const { octokit, ref, snapshot, plan, config, open } = x;
  const branch = branchFor(snapshot.branch);
  const title = titleFor(plan.changes, config.commitMessagePrefix);
  switch (action.kind) {
    case "none":
      return { action: "none" };
    case "inspect":
      throw new Error("internal: inspect is answered before executing");
    case "blocked":
      if (action.notice && action.pull) await reportForeignPush(x, action.pull, action.notice.head);
      return { action: "blocked", detail: action.detail, ...(action.pull ? { pull: action.pull } : {}) };
    case "close": {
      await octokit.rest.issues.createComment({
        ...ref,
        issue_number: action.pull.number,
        body:
          "Nothing is left for this pull request to change (the references are pinned and current, or gone), so it " +
          "is no longer needed. Closing it.",
      });
      // Marked resolved, so that closing it does not count as declining its digests.
      const body = x.marker ? replaceMarker(open?.body ?? "", { ...x.marker, resolved: true }) : (open?.body ?? "");
      await octokit.rest.pulls.update({ ...ref, pull_number: action.pull.number, state: "closed", body });
      await deleteBranch(x, branch);
      return { action: "closed", pull: action.pull };
    }
    case "keep": {
      const head = snapshot.botBranchHead ?? "";
      let marker = markerOf(x, head);
      if (open) marker = await syncAutomerge(x, open, x.automerge, marker);
      const body = renderBody(plan, renderMarker(marker), x.body);
      // The same edits: only the body (unresolved references, the effective config) or the title's prefix may differ.
      if (body !== open?.body || title !== open.title) {
        await octokit.rest.pulls.update({ ...ref, pull_number: action.pull.number, title, body });
      }
      return { action: "unchanged", pull: action.pull };
    }
    case "write": {
      // New image bytes must never merge on the auto-merge the app turned on for a pins-only pull request.
      const stays = automergeWanted(config.automerge, plan.changes);
      if (open && x.automerge === "ours" && !stays) await disableAutomerge(octokit, open.id);
      const commit = await createCommit(x);
      await writeBranch(x, branch, commit, action.branchExists);
      let marker = markerOf(x, commit);
      if (action.pull && open) {
        marker = await syncAutomerge(x, open, x.automerge === "ours" && !stays ? "off" : x.automerge, marker);
        const body = renderBody(plan, renderMarker(marker), x.body);
        await octokit.rest.pulls.update({ ...ref, pull_number: action.pull.number, title, body });
        return { action: "updated", pull: action.pull };
      }
      // A repository that does not allow auto-merge says so in its settings: the first body already remembers the
      // notice, so that the pull request is not edited right after it was opened.
      const refused = automergeWanted(config.automerge, plan.changes) && !snapshot.merging.autoMergeAllowed;
      const first = refused ? { ...marker, automergeNoticed: true as const } : marker;
      const { data: created } = await octokit.rest.pulls.create({
        ...ref,
        head: branch,
        base: snapshot.branch,
        title,
        body: renderBody(plan, renderMarker(first), x.body),
        maintainer_can_modify: true,
      });
      await applyMetadata(x, created.number);
      const after = await syncAutomerge(x, { number: created.number, id: created.node_id }, "off", marker);
      if (after.automergeNoticed && !first.automergeNoticed) {
        await octokit.rest.pulls.update({ ...ref, pull_number: created.number, body: renderBody(plan, renderMarker(after), x.body) });
      }
      return { action: "opened", pull: { number: created.number, url: created.html_url } };
    }
  }
}
