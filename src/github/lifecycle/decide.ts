// The pull request lifecycle as one pure decision: what GitHub says about the bot branch and its pull request, what
// the plan wants, and the body's marker (a hint) → one action. Every state is a row of a table test; the executor
// (execute.ts) does the I/O. Ownership of the branch head is GitHub's answer (ownership.ts), never the marker's:
// anyone who can push to the branch can edit the body too. The marker only saves asking GitHub whether our own head
// already carries the plan; when it is lost or names another commit, the answer comes from GitHub's data instead.

import type { Marker } from "../marker.js";

/** An existing pull request, as the actions name it. */
export interface PullRef {
  number: number;
  url: string;
}

/** What GitHub says about the bot branch and its pull request, gathered before deciding. */
export interface LifecycleSnapshot {
  /** The bot branch, `digest-pin/<base>`. */
  branch: string;
  /** The open pull request from the bot branch, if any. */
  open: PullRef | null;
  /** The bot branch's head commit, or null when the branch does not exist. */
  head: string | null;
  /** GitHub says the head is the app's own commit. */
  ours: boolean;
  /** The head is already part of the base branch (a merged pull request's kept branch). */
  inBase: boolean;
  /** `/digest-pin recreate`: rebuild the branch even over other people's commits. */
  recreate: boolean;
  /**
   * Whether GitHub's data about the head commit shows exactly the wanted edits: asked (action `inspect`) only when the
   * marker cannot vouch for an own head; undefined until then.
   */
  headCarriesPlan?: boolean;
}

/** What the plan asks of the branch, reduced to what the decision needs. */
export interface LifecycleWant {
  /** How many edits the plan makes. */
  changes: number;
  /** planHash of those edits. */
  plan: string;
  /** Files that could not be scanned (their references are unknown, not none). */
  unscanned: number;
  /** refKey of each reference that could not be resolved. */
  failed: readonly string[];
}

export type Action =
  /** No pull request and nothing to change. */
  | { kind: "none" }
  /** Leave everything as it is; `notice`: tell the pull request once that someone else pushed `head`. */
  | { kind: "blocked"; detail: string; pull?: PullRef; notice?: { head: string } }
  /** Nothing left to change: comment, close (not a decline), delete the branch. */
  | { kind: "close"; pull: PullRef }
  /** The head already carries the plan: only the body may need rewriting (with a marker for the head). */
  | { kind: "keep"; pull: PullRef }
  /** Ask GitHub whether the head carries the plan (fills `headCarriesPlan`), then decide again. */
  | { kind: "inspect"; pull: PullRef }
  /** A new commit on the base head, the branch moved to it, the pull request updated (`pull`) or opened (null). */
  | { kind: "write"; pull: PullRef | null; branchExists: boolean };

export const FOREIGN_DETAIL = "foreign commits";

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/**
 * The one thing to do now.
 *
 * @example
 * decide({ branch: "digest-pin/main", open: null, head: null, ours: false, inBase: false, recreate: false }, want, null)
 * // { kind: "write", pull: null, branchExists: false }
 */
export function decide(s: LifecycleSnapshot, want: LifecycleWant, marker: Marker | null): Action {
  const { open, head, ours, recreate } = s;

  // A file that failed to scan has unknown references, not none: while any does, our pull request is neither closed
  // nor called current nor rebuilt without them. /digest-pin recreate may rebuild it, but never closes it.
  if (open && want.unscanned > 0 && (recreate ? want.changes === 0 : ours)) {
    const n = want.unscanned;
    return {
      kind: "blocked",
      pull: open,
      detail: `${plural(n, "file")} could not be scanned, so the pull request stays as it is until ${n === 1 ? "it can" : "they can"} be`,
    };
  }

  // A registry failure is never "nothing left to change": while references it proposes digests for fail to resolve,
  // our open pull request is neither closed (which would also decline its digests) nor stripped of those proposals.
  // A marker whose lists were cut cannot tell which it proposes: any failure then holds the pull request.
  if (open && ours && marker && !recreate && want.failed.length > 0) {
    if (marker.cut || want.failed.some((key) => marker.refs.includes(key))) {
      return {
        kind: "blocked",
        pull: open,
        detail: `${plural(want.failed.length, "reference")} could not be resolved, so the pull request stays as it is until the registry answers`,
      };
    }
  }

  if (open && !ours && !recreate) {
    return { kind: "blocked", pull: open, detail: FOREIGN_DETAIL, ...(head ? { notice: { head } } : {}) };
  }

  if (want.changes === 0) return open ? { kind: "close", pull: open } : { kind: "none" };

  if (open) {
    if (ours && !recreate) {
      if (marker?.commit === head) {
        if (marker.plan === want.plan) return { kind: "keep", pull: open };
      } else if (s.headCarriesPlan === undefined) {
        return { kind: "inspect", pull: open };
      } else if (s.headCarriesPlan) {
        return { kind: "keep", pull: open };
      }
    }
    return { kind: "write", pull: open, branchExists: head !== null };
  }

  // No open pull request. A leftover branch (of a closed pull request, or of a run that died between pushing it and
  // opening the pull request) is reused only when its head is a commit we made, or one the base branch already has.
  if (head !== null && !recreate && !ours && !s.inBase) {
    return { kind: "blocked", detail: `branch ${s.branch} exists with commits digest-pin did not make` };
  }
  return { kind: "write", pull: null, branchExists: head !== null };
}
