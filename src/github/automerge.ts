// `automerge:` through GitHub's own auto-merge (GraphQL `enablePullRequestAutoMerge`), so that branch protection and
// required checks still decide when the pull request merges; where GitHub will not enable it, one clear comment says
// why and what to change. A pull request that stops qualifying (an update joins a pins-only one) has auto-merge
// turned off before its branch moves, so new image bytes are never merged on a pin's approval.

import type { Change } from "../plan.js";
import type { AutomergeSetting } from "./config.js";
import type { Octokit } from "./files.js";
import { GitHubQueryError, mutate, type MergeSettings } from "./graphql.js";
import { inlineText } from "./markdown.js";

export type MergeMethod = "SQUASH" | "MERGE" | "REBASE";

/**
 * Whether `setting` lets a pull request with these changes merge by itself: `pins` only pull requests that only pin,
 * `updates` only those that only update pins, `all` any.
 *
 * @example automergeWanted("pins", [pinChange]) // true
 */
export function automergeWanted(setting: AutomergeSetting, changes: readonly Change[]): boolean {
  if (setting === false || changes.length === 0) return false;
  if (setting === "all") return true;
  const pins = changes.every((c) => c.oldDigest === null);
  return setting === "pins" ? pins : changes.every((c) => c.oldDigest !== null);
}

/** The merge method auto-merge uses: squash where allowed (one commit with the summary), else merge, else rebase. */
export function mergeMethodFor(merging: MergeSettings): MergeMethod | null {
  if (merging.squash) return "SQUASH";
  if (merging.merge) return "MERGE";
  return merging.rebase ? "REBASE" : null;
}

export const ENABLE_AUTO_MERGE = `mutation DigestPinEnableAutoMerge($id: ID!, $mergeMethod: PullRequestMergeMethod!, $headline: String, $body: String) {
  enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $mergeMethod, commitHeadline: $headline, commitBody: $body }) {
    pullRequest {
      number
      autoMergeRequest {
        enabledAt
      }
    }
  }
}`;

export const DISABLE_AUTO_MERGE = `mutation DigestPinDisableAutoMerge($id: ID!) {
  disablePullRequestAutoMerge(input: { pullRequestId: $id }) {
    pullRequest {
      number
    }
  }
}`;

/** What asking GitHub for auto-merge came to: enabled, or why not (GitHub's words, or the repository's settings). */
export type AutomergeOutcome = { ok: true } | { ok: false; reason: string };

/**
 * Ask GitHub to merge the pull request once its checks pass, with the commit title and message a squash or merge
 * commit gets (the summary, without the body's marker). A refusal GitHub explains is an outcome, not an error.
 *
 * @example await enableAutomerge(octokit, pull.id, snapshot.merging, title, commitBody)
 */
export async function enableAutomerge(
  octokit: Octokit,
  pullId: string,
  merging: MergeSettings,
  headline: string,
  body: string,
): Promise<AutomergeOutcome> {
  if (!merging.autoMergeAllowed) return { ok: false, reason: "the repository does not allow auto-merge" };
  const method = mergeMethodFor(merging);
  if (method === null) return { ok: false, reason: "the repository allows no merge method" };
  try {
    await mutate(octokit, "DigestPinEnableAutoMerge", ENABLE_AUTO_MERGE, { id: pullId, mergeMethod: method, headline, body });
    return { ok: true };
  } catch (error) {
    if (!(error instanceof GitHubQueryError) || error.notFound || error.rateLimited) throw error;
    return { ok: false, reason: error.errors.map((e) => e.message).join("; ") || error.message };
  }
}

/** Turn auto-merge off (the pull request no longer qualifies, or the config says no more). */
export async function disableAutomerge(octokit: Octokit, pullId: string): Promise<void> {
  await mutate(octokit, "DigestPinDisableAutoMerge", DISABLE_AUTO_MERGE, { id: pullId });
}

/**
 * The comment that says, once, why this pull request will not merge by itself.
 *
 * @example automergeNotice("pins", "the repository does not allow auto-merge")
 */
export function automergeNotice(setting: Exclude<AutomergeSetting, false>, reason: string): string {
  return (
    `\`automerge: ${setting}\` asks digest-pin to merge this pull request once its checks pass, but GitHub would not ` +
    `enable auto-merge: ${inlineText(reason)}.\n\n` +
    "To let it, allow auto-merge in the repository's settings (*Settings → General → Pull Requests → Allow " +
    "auto-merge*); digest-pin asks again on its next run. Until then, merge this pull request by hand."
  );
}
