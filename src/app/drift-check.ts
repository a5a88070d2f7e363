// The scheduled drift check: list every installation's repositories (100 a page, conditional requests so that an
// unchanged listing is a 304) and queue one cheap job per repository, interleaving installations so a large
// organization does not hold up the others.

import type { Probot } from "probot";
import type { Octokit } from "../github/files.js";

export interface RepoInfo {
  id: number;
  owner: string;
  repo: string;
  defaultBranch: string;
  pushedAt: string | null;
  archived: boolean;
  disabled: boolean;
}

export interface DriftTarget {
  installationId: number;
  repository: RepoInfo;
}

interface ListedRepo {
  id: number;
  name: string;
  owner: { login: string };
  default_branch?: string;
  pushed_at?: string | null;
  archived?: boolean;
  disabled?: boolean;
}

export function repoInfo(r: ListedRepo): RepoInfo {
  return {
    id: r.id,
    owner: r.owner.login,
    repo: r.name,
    defaultBranch: r.default_branch ?? "main",
    pushedAt: r.pushed_at ?? null,
    archived: r.archived ?? false,
    disabled: r.disabled ?? false,
  };
}

/** Round-robin across lists: a1 b1 c1 a2 b2 … */
export function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const list of lists) if (i < list.length) out.push(list[i] as T);
  }
  return out;
}

export interface DriftCheckOptions {
  /**
   * Make a client cheap to re-read (conditional requests, instrumentation): the app's (no installation id) and each
   * installation's. Installations must not share a conditional-request namespace: they list the same URL.
   */
  prepare?: (octokit: Octokit, installationId?: number) => void;
  log?: Probot["log"];
}

/**
 * The active repositories of one installation (100 a page), archived and disabled ones left out.
 *
 * @example for (const r of await listInstallation(octokit)) await queue.push({ installationId, owner: r.owner, repo: r.repo, … })
 */
export async function listInstallation(octokit: Octokit): Promise<RepoInfo[]> {
  const repos = (await octokit.paginate("GET /installation/repositories", { per_page: 100 })) as ListedRepo[];
  return repos.map(repoInfo).filter((r) => !r.archived && !r.disabled);
}

/** Every repository of every installation, interleaved; archived and disabled ones left out. */
export async function listFleet(probot: Probot, options: DriftCheckOptions = {}): Promise<DriftTarget[]> {
  const app = (await probot.auth()) as Octokit;
  options.prepare?.(app);
  const installations = (await app.paginate(app.rest.apps.listInstallations, { per_page: 100 })).filter(
    (i) => !i.suspended_at,
  );
  const lists: DriftTarget[][] = [];
  for (const installation of installations) {
    try {
      const octokit = (await probot.auth(installation.id)) as Octokit;
      options.prepare?.(octokit, installation.id);
      lists.push((await listInstallation(octokit)).map((repository) => ({ installationId: installation.id, repository })));
    } catch (error) {
      // One installation's failure (revoked, suspended meanwhile) must not stop the others.
      options.log?.warn({ err: error, installation: installation.id }, "could not list an installation's repositories");
    }
  }
  return interleave(lists);
}
