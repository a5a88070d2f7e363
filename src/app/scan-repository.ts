// One repository's whole run: read it, check its config, scan, resolve, plan, and bring its PR in line.

import { scanDockerfile } from "../dockerfile/scan.js";
import { resolveFiles } from "../engine.js";
import { ignoreMatcher, parseConfig } from "../github/config.js";
import { reportConfigError, resolveConfigError } from "../github/config-issue.js";
import { readRepository, type Octokit } from "../github/files.js";
import { fingerprint, isUnchanged, type RepoState, type RepoStateCache } from "./repo-state.js";
import { declinedDigests, syncPullRequest, type SyncResult } from "../github/pull-request.js";
import { formatPlatforms, plan, type Plan, type PlanOptions, type ScannedFile } from "../plan.js";
import type { Resolver } from "../registry/types.js";
import { parseReference } from "../reference.js";

export interface ScanRequest {
  installationId: number;
  owner: string;
  repo: string;
  /** Rebuild the bot branch even over other people's commits. */
  recreate?: boolean;
  /** What the caller already knows of the repository (a listing or a webhook payload). */
  defaultBranch?: string;
  /** `pushed_at` from a repository listing: with it, a drift check may answer from the cached state. */
  pushedAt?: string | null;
  /** A drift check: an unchanged repository whose registry answers are unchanged costs no GitHub call. */
  drift?: boolean;
  /** The push touched the config file: a config-error issue may need closing even if the file is gone. */
  configTouched?: boolean;
}

export interface Services {
  resolver: Resolver;
  /** The app's own login, `<slug>[bot]`. */
  botLogin: string;
  /** Remembered scans, for cheap drift checks. */
  states?: RepoStateCache;
  now?: () => number;
}

export type ScanOutcome =
  | { status: "skipped"; reason: "archived" | "disabled" | "empty" | "not-enabled" }
  | { status: "cached" }
  | { status: "config-error"; error: string; issue: number }
  | { status: "done"; files: number; plan: Plan; sync: SyncResult };

async function tooNewCheck(p: Plan, minimumAgeMs: number, services: Services): Promise<PlanOptions["isTooNew"]> {
  if (minimumAgeMs <= 0 || p.changes.length === 0) return undefined;
  const now = services.now?.() ?? Date.now();
  const young = new Set<string>();
  await Promise.all(
    [...new Set(p.changes.map((c) => `${c.image}@${c.newDigest}`))].map(async (key) => {
      const [image = "", digest = ""] = key.split("@");
      // Unknown age counts as too new: adopting a digest early is the risk minimumAge exists to avoid.
      const ref = parseReference(image);
      const created =
        ref.ok && services.resolver.createdAt
          ? await services.resolver.createdAt(ref.value, digest).catch(() => null)
          : null;
      if (created === null || now - created.getTime() < minimumAgeMs) young.add(key);
    }),
  );
  return (image, _tag, digest) => young.has(`${image}@${digest}`);
}

/**
 * The platforms each proposed index covers, for the PR table. Only changes need it, so the drift check of a current
 * repository stays at one HEAD per tag; a failure here only leaves the column empty.
 */
async function addPlatforms(p: Plan, resolver: Resolver): Promise<Plan> {
  const changes = await Promise.all(
    p.changes.map(async (change) => {
      const ref = parseReference(`${change.image}:${change.tag}`);
      if (!ref.ok || change.platforms) return change;
      const resolution = await resolver.resolve(ref.value, { withPlatforms: true }).catch(() => null);
      const platforms = resolution?.digest === change.newDigest ? formatPlatforms(resolution) : undefined;
      return platforms ? { ...change, platforms } : change;
    }),
  );
  return { ...p, changes };
}

/** The drift check's shortcut: the repository has not moved and the registries answer as before. */
async function unchangedSinceLastScan(
  request: ScanRequest,
  state: RepoState | null | undefined,
  services: Services,
): Promise<boolean> {
  const { states } = services;
  if (!request.drift || !states || request.pushedAt === undefined || !request.defaultBranch) return false;
  if (!state || !isUnchanged(state, request.pushedAt, request.defaultBranch)) return false;
  const resolutions = await resolveFiles(state.files, services.resolver);
  if (fingerprint(state.files, resolutions) !== state.fingerprint) return false;
  if (state.pushedAt !== request.pushedAt) {
    // Our own push moved pushed_at: remember the new value so the next check matches exactly.
    await states.set(request.installationId, request.owner, request.repo, { ...state, pushedAt: request.pushedAt });
  }
  return true;
}

export async function scanRepository(octokit: Octokit, request: ScanRequest, services: Services): Promise<ScanOutcome> {
  const { owner, repo, installationId } = request;
  const ref = { owner, repo };
  const previous = await services.states?.get(installationId, owner, repo);
  if (await unchangedSinceLastScan(request, previous, services)) return { status: "cached" };

  const read = await readRepository(octokit, owner, repo, request.defaultBranch);
  if (read.status !== "ok") {
    await services.states?.forget(installationId, owner, repo);
    return { status: "skipped", reason: read.status };
  }
  const { snapshot } = read;

  const config = parseConfig(snapshot.configText);
  if (!config.ok) {
    await services.states?.forget(installationId, owner, repo);
    const issue = await reportConfigError(octokit, ref, services.botLogin, config.error);
    return { status: "config-error", error: config.error, issue };
  }
  // Only a repository that has (or just lost) a config can have a config-error issue to close.
  if (snapshot.configText !== null || request.configTouched) {
    await resolveConfigError(octokit, ref, services.botLogin);
  }
  if (!config.config.enabled) return { status: "skipped", reason: "not-enabled" };

  const files: ScannedFile[] = snapshot.files.map((f) => ({ path: f.path, references: scanDockerfile(f.content) }));
  const options: PlanOptions = {
    pinUnpinned: config.config.pinUnpinned,
    isIgnored: ignoreMatcher(config.config),
    declined: declinedDigests(snapshot),
  };
  const resolutions = await resolveFiles(files, services.resolver);
  let result = plan(files, resolutions, options);
  const isTooNew = await tooNewCheck(result, config.config.minimumAgeMs, services);
  if (isTooNew) result = plan(files, resolutions, { ...options, isTooNew });
  result = await addPlatforms(result, services.resolver);

  const sync = await syncPullRequest(octokit, ref, snapshot, result, {
    config: config.config,
    botLogin: services.botLogin,
    recreate: request.recreate ?? false,
  });
  const wrote = sync.action === "opened" || sync.action === "updated" || sync.action === "closed";
  await services.states?.set(installationId, owner, repo, {
    v: 1,
    // As read with the files: a scan from a webhook (which knows no pushed_at) also makes the next drift check cheap.
    pushedAt: snapshot.pushedAt ?? request.pushedAt ?? null,
    defaultBranch: snapshot.branch,
    files,
    fingerprint: fingerprint(files, resolutions),
    volatile: config.config.minimumAgeMs > 0 || sync.action === "blocked",
    ownWritesUntil: wrote ? (services.now?.() ?? Date.now()) : previous?.ownWritesUntil,
  });
  return { status: "done", files: files.length, plan: result, sync };
}

/** The reply to a comment command: what was found and done. */
export function summarize(outcome: ScanOutcome): string {
  if (outcome.status === "skipped") {
    const why = {
      archived: "the repository is archived",
      disabled: "the repository is disabled",
      empty: "the repository is empty",
      "not-enabled": "`enabled: false` in `.github/digest-pin.yml`",
    }[outcome.reason];
    return `digest-pin did not scan: ${why}.`;
  }
  if (outcome.status === "cached") return "digest-pin found nothing new since the last scan.";
  if (outcome.status === "config-error") {
    return `digest-pin did not scan: the configuration is invalid (see #${outcome.issue}).\n\n> ${outcome.error}`;
  }
  const { plan: p, sync } = outcome;
  const pinned = p.changes.filter((c) => c.oldDigest === null).length;
  const references = p.changes.length + p.current.length + p.skipped.length + p.errors.length;
  const byReason = new Map<string, number>();
  for (const s of p.skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const skipped = [...byReason].map(([reason, n]) => `${n} ${reason}`).join(", ");
  const lines = [
    `digest-pin scanned ${outcome.files} Dockerfile${outcome.files === 1 ? "" : "s"}: ` +
      `${references} references, ${pinned} to pin, ${p.changes.length - pinned} to refresh, ` +
      `${p.current.length} current, ${p.skipped.length} skipped${skipped ? ` (${skipped})` : ""}, ` +
      `${p.errors.length} error${p.errors.length === 1 ? "" : "s"}.`,
  ];
  for (const e of p.errors) lines.push(`- \`${e.path}\` line ${e.line}: \`${e.text}\`: ${e.error}`);
  const link = sync.pull ? ` #${sync.pull.number} (${sync.pull.url})` : "";
  const action: Record<SyncResult["action"], string> = {
    opened: `Opened${link}.`,
    updated: `Updated${link}.`,
    unchanged: `The pull request${link} is already current.`,
    closed: `Nothing left to change: closed${link}.`,
    blocked: `Left the branch alone: ${sync.detail ?? "someone else pushed to it"}${link ? ` (${link.trim()})` : ""}.`,
    none: "Nothing to change.",
  };
  lines.push("", action[sync.action]);
  return lines.join("\n");
}
