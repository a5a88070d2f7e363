// The registry of managers: which manager reads a path, under a repository's config. File matching lives here and
// nowhere else: the scanner, the app's repository reader, the drift check's cache and the CLI walk all ask it.

import { composeManager } from "./compose.js";
import { DEFAULT_MANAGERS, type ManagersConfig } from "./config.js";
import { devcontainerManager } from "./devcontainer.js";
import { dockerfileManager } from "./dockerfile.js";
import { githubActionsManager } from "./github-actions.js";
import { gitlabCiManager } from "./gitlab-ci.js";
import { compileGlobs } from "./glob.js";
import { kubernetesManager } from "./kubernetes.js";
import type { Manager, ManagerId } from "./types.js";

/** Every manager, in the order they claim paths (the generic Kubernetes globs last). */
export const MANAGERS: readonly Manager[] = [
  dockerfileManager,
  githubActionsManager,
  gitlabCiManager,
  composeManager,
  devcontainerManager,
  kubernetesManager,
];

/** Managers whose files pass build arguments to Dockerfiles (read for that even when switched off). */
const BUILD_ARG_SOURCES: readonly ManagerId[] = ["github-actions", "compose", "gitlab-ci"];

export function managerById(id: ManagerId): Manager {
  return MANAGERS.find((m) => m.id === id) as Manager;
}

/** A repository's view of the managers: who reads which path. */
export interface ManagerSelection {
  /** The manager that finds references in `path`, or null when no enabled manager does. */
  managerFor(path: string): Manager | null;
  /** The manager that reads `path` for build arguments only (its own manager is off), or null. */
  buildArgSourceFor(path: string): Manager | null;
  /** Whether `path` is worth reading at all (references or build arguments). */
  wanted(path: string): boolean;
}

/**
 * Compile a managers config. A path belongs to the first manager that claims it: first by the config's own `paths`
 * (enabled managers only), then by the managers' defaults; a path whose default owner is switched off is not
 * scanned by another manager.
 *
 * @example
 * selectManagers(DEFAULT_MANAGERS).managerFor("deploy/k8s/api.yaml")?.id // "kubernetes"
 */
export function selectManagers(config: ManagersConfig = DEFAULT_MANAGERS): ManagerSelection {
  const extra = MANAGERS.map((m) => {
    const settings = config[m.id];
    return settings.enabled && settings.paths.length > 0 ? compileGlobs(settings.paths) : null;
  });
  const defaultOwner = (path: string): Manager | null => MANAGERS.find((m) => config[m.id].defaultPaths && m.claims(path)) ?? null;
  const managerFor = (path: string): Manager | null => {
    for (let i = 0; i < MANAGERS.length; i++) if (extra[i]?.(path)) return MANAGERS[i] as Manager;
    const owner = defaultOwner(path);
    return owner !== null && config[owner.id].enabled ? owner : null;
  };
  const dockerfiles = config.dockerfile.enabled;
  const buildArgSourceFor = (path: string): Manager | null => {
    if (!dockerfiles || managerFor(path) !== null) return null;
    return MANAGERS.find((m) => BUILD_ARG_SOURCES.includes(m.id) && m.claims(path)) ?? null;
  };
  return { managerFor, buildArgSourceFor, wanted: (path) => managerFor(path) !== null || buildArgSourceFor(path) !== null };
}

const selections = new WeakMap<ManagersConfig, ManagerSelection>();

/**
 * The manager that reads `path` under `config` (compiled once per config object).
 *
 * @example
 * managerFor("services/api/Dockerfile")?.id // "dockerfile"
 * managerFor("docker-compose.yml", { ...DEFAULT_MANAGERS, compose: { enabled: false, paths: [], defaultPaths: true } }) // null
 */
export function managerFor(path: string, config: ManagersConfig = DEFAULT_MANAGERS): Manager | null {
  let selection = selections.get(config);
  if (!selection) {
    selection = selectManagers(config);
    selections.set(config, selection);
  }
  return selection.managerFor(path);
}

export { DEFAULT_MANAGERS };
export type { ManagersConfig };
