// The pull request lifecycle, derived from GitHub alone: gather what GitHub says, decide (lifecycle/decide.ts, pure),
// execute (lifecycle/execute.ts). Declined digests are remembered through closed pull requests' markers.

import { failedFiles, type Plan } from "../plan.js";
import type { BodyContext } from "./body.js";
import type { RepoConfig } from "./config.js";
import { branchFor, type Octokit, type RepoSnapshot } from "./files.js";
import { decide, type LifecycleSnapshot, type LifecycleWant } from "./lifecycle/decide.js";
import { baseFiles, execute, headCarriesPlan, type Execution, type RepoRef, type SyncResult } from "./lifecycle/execute.js";
import { planHash, proposalKey, readMarker, refKey } from "./marker.js";
import { isInBase, isOwnHead, type BotAccount } from "./ownership.js";

export { branchFor };
export type { RepoRef, SyncAction, SyncResult } from "./lifecycle/execute.js";

/**
 * Whether a digest was declined: proposed by a pull request closed without merging (and not closed by the app
 * itself because nothing was left to change).
 *
 * @example declinedBy(snapshot)("docker.io/library/python", "3.12", "sha256:…") // true once its PR was closed
 */
export function declinedBy(snapshot: Pick<RepoSnapshot, "pulls">): (image: string, tag: string, digest: string) => boolean {
  const keys = new Set<string>();
  for (const pull of snapshot.pulls) {
    if (pull.state !== "closed" || pull.merged) continue;
    const marker = readMarker(pull.body);
    if (!marker || marker.resolved) continue;
    for (const key of marker.proposed) keys.add(key);
  }
  return (image, tag, digest) => keys.size > 0 && keys.has(proposalKey(image, tag, digest));
}

export interface SyncOptions {
  config: RepoConfig;
  /** The app's bot account, the author and committer of the commits it makes (asked only when the branch exists). */
  bot: () => Promise<BotAccount>;
  /** `/digest-pin recreate`: rebuild the branch even over someone else's commits. */
  recreate?: boolean;
  /** What the body shows besides the plan (the effective config). */
  body?: BodyContext;
}

/**
 * Bring the bot PR of `snapshot.branch` in line with `plan`.
 *
 * @example await syncPullRequest(octokit, { owner, repo }, snapshot, plan, { config, bot })
 */
export async function syncPullRequest(
  octokit: Octokit,
  ref: RepoRef,
  snapshot: RepoSnapshot,
  plan: Plan,
  { config, bot, recreate = false, body = {} }: SyncOptions,
): Promise<SyncResult> {
  const branch = branchFor(snapshot.branch);
  const open = snapshot.pulls.find((p) => p.state === "open" && p.headRefName === branch);
  const head = snapshot.botBranchHead;
  const marker = open ? readMarker(open.body) : null;
  const facts: LifecycleSnapshot = {
    branch,
    open: open ? { number: open.number, url: open.url } : null,
    head,
    // GitHub's answer, never the marker's: anyone who can push to the branch can edit the body too.
    ours: head !== null && isOwnHead(snapshot.botBranchCommit, await bot()),
    inBase: isInBase(snapshot.botBranchCommit),
    recreate,
  };
  const want: LifecycleWant = {
    changes: plan.changes.length,
    plan: planHash({ files: baseFiles(snapshot, plan), changes: plan.changes }),
    unscanned: failedFiles(plan).length,
    failed: plan.errors.map((e) => refKey(e.path, e.text)),
  };
  // Whose auto-merge it is matters only when one is on: the bot account is asked only then.
  const automerge = !open?.autoMergeBy ? "off" : open.autoMergeBy === (await bot()).login ? "ours" : "theirs";
  const execution: Execution = { octokit, ref, snapshot, plan, config, body, open, marker, automerge };
  let action = decide(facts, want, marker);
  if (action.kind === "inspect") {
    facts.headCarriesPlan = head !== null && (await headCarriesPlan(execution, head));
    action = decide(facts, want, marker);
  }
  return execute(action, execution);
}
