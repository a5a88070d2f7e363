// What a scan remembers about a repository so that a drift check of an unchanged one costs no GitHub call: its
// scanned references, keyed by `pushed_at`, and a fingerprint of the registry answers its last plan was made from.
// Losing this state only costs a full read; it is a cache, never a source of truth.

import { createHash } from "node:crypto";
import type { Resolutions } from "../engine.js";
import type { KeyValueStore } from "../jobs/types.js";
import { resolveRequests, type ScannedFile } from "../plan.js";
import { RegistryError } from "../registry/types.js";

export interface RepoState {
  v: 1;
  /** `pushed_at` of the repository when it was read. */
  pushedAt: string | null;
  defaultBranch: string;
  files: ScannedFile[];
  /** The registry answers the last full scan planned with. */
  fingerprint: string;
  /** The last full scan depended on time (minimumAge) or was blocked: always read again. */
  volatile: boolean;
  /** Our own writes move `pushed_at` too: a `pushed_at` up to this time (ms) is ours, not news. */
  ownWritesUntil?: number;
}

/** Slack for the difference between GitHub's clock and ours when recognising our own pushes. */
const CLOCK_SLACK_MS = 60_000;
/** State expires a month after it was written: an unchanged repository is still read in full once a month. */
const STATE_TTL_MS = 30 * 24 * 3600 * 1000;

export class RepoStateCache {
  constructor(private readonly store: KeyValueStore) {}

  private key(installationId: number, owner: string, repo: string): string {
    return `repo-state:${installationId}:${owner}/${repo}`.toLowerCase();
  }

  async get(installationId: number, owner: string, repo: string): Promise<RepoState | null> {
    const raw = await this.store.get(this.key(installationId, owner, repo));
    if (!raw) return null;
    try {
      const state = JSON.parse(raw) as RepoState;
      return state.v === 1 && Array.isArray(state.files) ? state : null;
    } catch {
      return null;
    }
  }

  async set(installationId: number, owner: string, repo: string, state: RepoState): Promise<void> {
    await this.store.set(this.key(installationId, owner, repo), JSON.stringify(state), STATE_TTL_MS);
  }

  async forget(installationId: number, owner: string, repo: string): Promise<void> {
    await this.store.delete(this.key(installationId, owner, repo));
  }
}

/** Whether a repository is as it was when `state` was recorded (or moved only by our own pushes). */
export function isUnchanged(state: RepoState, pushedAt: string | null, defaultBranch: string): boolean {
  if (state.volatile || state.defaultBranch !== defaultBranch) return false;
  if (pushedAt === state.pushedAt) return true;
  if (pushedAt === null || state.ownWritesUntil === undefined) return false;
  const at = Date.parse(pushedAt);
  return Number.isFinite(at) && at <= state.ownWritesUntil + CLOCK_SLACK_MS;
}

/** A stable digest of the registry answers that matter to these files' plan. */
export function fingerprint(files: readonly ScannedFile[], resolutions: Resolutions): string {
  const parts = resolveRequests(files)
    .map((request) => {
      const answer = resolutions.get(request.key);
      const value =
        answer === undefined
          ? "?"
          : answer instanceof RegistryError
            ? `!${answer.code}`
            : answer instanceof Error
              ? "!error"
              : answer.digest;
      return `${request.key}=${value}`;
    })
    .sort();
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}
