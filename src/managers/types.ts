// A manager knows one kind of file: which paths it claims, and how to find the image references in such a file with
// the exact bytes that spell them. Nothing else: reading files, resolving and planning belong to the callers.

import type { FoundReference } from "../dockerfile/types.js";

export const MANAGER_IDS = ["dockerfile", "compose", "kubernetes", "github-actions", "gitlab-ci", "devcontainer"] as const;
export type ManagerId = (typeof MANAGER_IDS)[number];

/** Why a whole file was not read. */
export type FileSkipReason =
  | "too-large" // over the size cap of its kind
  | "unreadable" // not valid UTF-8, YAML or JSON
  | "templated" // Helm templating (`{{ }}`): the file is not the YAML it becomes
  | "too-complex"; // over a bound on documents, nesting, aliases or references

/** A build argument the repository passes when it builds an image. */
export interface BuildArgUse {
  name: string;
  /** Where: the file that passes it, and the line. */
  path: string;
  line: number;
  /** How, for people: `docker/build-push-action build-args`, `compose build.args`, `--build-arg in a run step`. */
  via: string;
  /** The Dockerfile it is passed to (repository path), when the file says; absent: possibly any Dockerfile. */
  dockerfile?: string;
}

export interface ExtractContext {
  /** The file's repository path, `/` separators. */
  path: string;
  /** Build arguments found in the repository's other files (for the Dockerfile manager's `build-arg` rule). */
  buildArgs?: readonly BuildArgUse[];
}

export interface Extraction {
  /** The file's references in file order, each with the exact byte range that spells it. */
  references: FoundReference[];
  /** Set when the file was not read at all, with why (then `references` is empty). */
  skipped?: { reason: FileSkipReason; detail: string };
  /** Build arguments this file passes (workflows, compose files, GitLab CI). */
  buildArgs?: BuildArgUse[];
  /** Repository paths this file includes (GitLab CI `include: local`), to be read by the same manager. */
  includes?: string[];
}

export interface Manager {
  readonly id: ManagerId;
  /** The file kind, for people. */
  readonly title: string;
  /** Globs (picomatch, relative to the repository root) this manager claims unless configured otherwise. */
  readonly defaultPaths: readonly string[];
  /** Whether `path` is one of `defaultPaths` (a fast check; the config may add or drop paths). */
  claims(path: string): boolean;
  /** The references of one file. Pure and synchronous, bounded in time and memory by the file's size. */
  extract(content: Uint8Array, context: ExtractContext): Extraction;
}
