// The plan: references + resolutions + options → edits, with a reason for everything left alone. Pure.

import type { Edit, FoundReference, ReferenceKind, SkipReason } from "./dockerfile/types.js";
import { imageName, pinnedText } from "./reference.js";
import type { Resolution, ResolveOptions } from "./registry/types.js";
import { RegistryError } from "./registry/types.js";
import type { ImageReference } from "./reference.js";

export interface ScannedFile {
  /** Relative path, `/` separators. */
  path: string;
  references: FoundReference[];
  /** Why the file could not be scanned, for people (its references are then unknown, not none). */
  error?: string;
}

/** One registry question: which digest a reference should carry now. */
export interface ResolveRequest {
  key: string;
  reference: ImageReference;
  options: ResolveOptions;
}

export type SkipReasonCode =
  | SkipReason // decided by the scanner: variable, invalid, build-arg, ignored-inline, multiline
  | "digest-only" // pinned without a tag: cannot drift
  | "not-pinned" // unpinned, and the config says only refresh existing pins
  | "ignored" // matched ignorePaths or ignoreImages
  | "declined" // this digest was proposed before in a PR closed without merging
  | "too-new" // younger than minimumAge
  | "schedule" // a refresh outside the configured schedule
  | "platforms-unchanged"; // a refresh whose manifests for the repository's platforms are the same

export interface Change {
  path: string;
  line: number;
  kind: ReferenceKind;
  image: string;
  tag: string;
  /** The text as written now, and what replaces it. */
  from: string;
  to: string;
  oldDigest: string | null;
  newDigest: string;
  /** Platforms the new digest covers (an index), when known. */
  platforms?: string[];
  /** The FROM's literal `--platform`, when it has one. */
  platform?: string;
  /** What a reviewer needs to judge an update (filled in by the app after planning). */
  review?: ChangeReview;
  /** Where the bytes live, for the rewriter. */
  start: number;
  end: number;
  /** The bytes written over [start, end) when they are not `to` (a kustomization's `digest:` value). */
  replacement?: string;
  /** The bytes at [start, end) the plan was made from, when they are not `from` (a pin site elsewhere). */
  expected?: string;
  /** Something people should know about the new digest (e.g. why it is an index where the pin was not). */
  note?: string;
}

/** What the registry says about one image, for the pull request. */
export interface ImageFacts {
  /** When it was built (its config's `created`), ISO 8601, when it says. */
  created?: string;
  /** Its OCI labels (`org.opencontainers.image.*`), as written. */
  labels: Record<string, string>;
  /** The platforms an index covers (`os/arch[/variant]`), when it is one. */
  platforms?: string[];
}

/** The old and new image of an update, as far as the registry could tell. */
export interface ChangeReview {
  old?: ImageFacts;
  new?: ImageFacts;
}

export interface Skipped {
  path: string;
  line: number;
  text: string;
  reason: SkipReasonCode;
  detail?: string;
}

export interface PlanError {
  path: string;
  line: number;
  text: string;
  error: string;
  code?: string;
}

export interface Current {
  path: string;
  line: number;
  text: string;
  image: string;
  tag: string;
  digest: string;
}

export interface Plan {
  changes: Change[];
  skipped: Skipped[];
  errors: PlanError[];
  current: Current[];
}

/**
 * Caps on the references of one scan that are resolved, counted in file order over the references that ask the
 * registry a question. References past a cap are errors (`TOO_MANY_REFERENCES`): never asked, never dropped.
 */
export interface ReferenceLimits {
  perFile: number;
  perRepository: number;
}

/** The caps (documented in SECURITY.md): no real Dockerfile comes near them; hostile content costs no more. */
export const REFERENCE_LIMITS: Readonly<ReferenceLimits> = { perFile: 1_000, perRepository: 5_000 };

export const TOO_MANY_REFERENCES = "TOO_MANY_REFERENCES";

export interface PlanOptions {
  /** Pin references that have no digest yet (false: only refresh existing pins). */
  pinUnpinned: boolean;
  /** References to leave alone (ignorePaths/ignoreImages), decided by the caller. */
  isIgnored?: (path: string, ref: FoundReference) => boolean;
  /** Digests declined for an image:tag (from PRs closed without merging), keyed by `image:tag`. */
  declined?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Digests declined, decided by the caller (e.g. from the hashes in closed pull requests). */
  isDeclined?: (image: string, tag: string, digest: string) => boolean;
  /** Digests too young to adopt (minimumAge), decided by the caller. */
  isTooNew?: (image: string, tag: string, digest: string) => boolean;
  /** The caps the resolutions were made with (default REFERENCE_LIMITS). */
  limits?: ReferenceLimits;
  /** Changes the caller holds back (a schedule, unchanged platforms), with the reason; null lets a change through. */
  hold?: (change: Change) => { reason: SkipReasonCode; detail: string } | null;
}

/**
 * The text that replaces a reference's `text` when pinning it to `digest`, as written (variables and all), with
 * `:latest` added when the reference has no tag, so that its drift can still be followed.
 *
 * @example
 * pinnedTextFor(scanDockerfile(Buffer.from("ARG V=3\nFROM py:${V}\n"))[0], "sha256:…") // "py:${V}@sha256:…"
 */
export function pinnedTextFor(found: FoundReference, digest: string): string {
  const tagged = found.reference === null ? undefined : found.reference.tag !== null;
  return pinnedText(found.text, digest, tagged);
}

/** The tag a reference follows: untagged references follow `latest`. */
export function followedTag(ref: ImageReference): string {
  return ref.tag ?? "latest";
}

/** The registry question a reference asks, or null when it asks none (skipped or digest-only). */
export function resolveRequestFor(found: FoundReference): ResolveRequest | null {
  const ref = found.reference;
  if (found.skip !== null || ref === null) return null;
  if (ref.digest !== null && ref.tag === null) return null;
  const tagged: ImageReference = { ...ref, tag: followedTag(ref), digest: null };
  const options: ResolveOptions = {};
  // The platform matters only when the current pin might be a single-platform manifest.
  if (ref.digest !== null) options.currentDigest = ref.digest;
  if (ref.digest !== null && found.platform) options.platform = found.platform;
  const key = `${imageName(tagged)}:${tagged.tag}|${options.currentDigest ?? ""}|${options.platform ?? ""}`;
  return { key, reference: tagged, options };
}

/**
 * The references past the caps, each with the message that says so. Only references that ask the registry count.
 *
 * @example
 * overLimits(files, { perFile: 1, perRepository: 10 }).get(secondFromOfAFile); // "… has more than 1 image reference…"
 */
export function overLimits(
  files: readonly ScannedFile[],
  limits: ReferenceLimits = REFERENCE_LIMITS,
): Map<FoundReference, string> {
  const over = new Map<FoundReference, string>();
  const n = (count: number) => count.toLocaleString("en-US");
  const perRepository =
    `not resolved: the repository has more than ${n(limits.perRepository)} image references, and digest-pin ` +
    `resolves the first ${n(limits.perRepository)}`;
  let total = 0;
  for (const file of files) {
    let inFile = 0;
    const perFile =
      `not resolved: ${file.path} has more than ${n(limits.perFile)} image references, and digest-pin resolves ` +
      `the first ${n(limits.perFile)} of a file`;
    for (const found of file.references) {
      if (resolveRequestFor(found) === null) continue;
      if (inFile >= limits.perFile) over.set(found, perFile);
      else if (total >= limits.perRepository) over.set(found, perRepository);
      else {
        inFile++;
        total++;
      }
    }
  }
  return over;
}

/**
 * The distinct registry questions of a set of files (each asked once however many references share it), leaving out
 * references past the caps.
 */
export function resolveRequests(
  files: readonly ScannedFile[],
  limits: ReferenceLimits = REFERENCE_LIMITS,
): ResolveRequest[] {
  const over = overLimits(files, limits);
  const byKey = new Map<string, ResolveRequest>();
  for (const file of files) {
    for (const found of file.references) {
      if (over.has(found)) continue;
      const request = resolveRequestFor(found);
      if (request && !byKey.has(request.key)) byKey.set(request.key, request);
    }
  }
  return [...byKey.values()];
}

export function formatPlatforms(resolution: Resolution): string[] | undefined {
  return resolution.platforms?.map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join("/"));
}

/** The text of an error about a whole file rather than one reference. */
export const WHOLE_FILE = "(whole file)";

/** A file the scanner failed on: an error, so that its unknown references never count as none. */
function scanFailure(path: string, error: string): PlanError {
  return { path, line: 1, text: WHOLE_FILE, error, code: "SCAN_FAILED" };
}

/**
 * The files of a plan that could not be scanned: while there are any, nothing may be called current or done.
 *
 * @example failedFiles(plan([{ path: "a", references: [], error: "could not be scanned: …" }], new Map(), o)) // ["a"]
 */
export function failedFiles(p: Plan): string[] {
  return p.errors.filter((e) => e.code === "SCAN_FAILED").map((e) => e.path);
}

/** Decide, for every reference, whether to pin, refresh, leave, skip or report it. */
export function plan(
  files: readonly ScannedFile[],
  resolutions: ReadonlyMap<string, Resolution | Error>,
  options: PlanOptions,
): Plan {
  const out: Plan = { changes: [], skipped: [], errors: [], current: [] };
  const over = overLimits(files, options.limits);
  for (const file of files) {
    if (file.error !== undefined) out.errors.push(scanFailure(file.path, file.error));
    for (const found of file.references) {
      const at = { path: file.path, line: found.line, text: found.text };
      const skip = (reason: SkipReasonCode, detail?: string) =>
        out.skipped.push(detail === undefined ? { ...at, reason } : { ...at, reason, detail });

      const ref = found.reference;
      if (found.skip !== null || ref === null) {
        skip(found.skip ?? "invalid", found.skipDetail);
        continue;
      }
      if (options.isIgnored?.(file.path, found)) {
        skip("ignored");
        continue;
      }
      if (ref.digest !== null && ref.tag === null) {
        skip("digest-only", "a digest without a tag cannot drift");
        continue;
      }
      if (ref.digest === null && !options.pinUnpinned) {
        skip("not-pinned", "pinUnpinned is off: only existing pins are refreshed");
        continue;
      }
      const tooMany = over.get(found);
      if (tooMany !== undefined) {
        out.errors.push({ ...at, error: tooMany, code: TOO_MANY_REFERENCES });
        continue;
      }
      const request = resolveRequestFor(found);
      const resolution = request ? resolutions.get(request.key) : undefined;
      if (!request || resolution === undefined) {
        out.errors.push({ ...at, error: "not resolved", code: "NOT_RESOLVED" });
        continue;
      }
      if (resolution instanceof Error) {
        const error: PlanError = { ...at, error: resolution.message };
        if (resolution instanceof RegistryError) error.code = resolution.code;
        out.errors.push(error);
        continue;
      }
      const image = imageName(ref);
      const tag = followedTag(ref);
      if (ref.digest === resolution.digest) {
        out.current.push({ ...at, image, tag, digest: resolution.digest });
        continue;
      }
      if (options.declined?.get(`${image}:${tag}`)?.has(resolution.digest) || options.isDeclined?.(image, tag, resolution.digest)) {
        skip("declined", `${resolution.digest} was proposed before and the pull request was closed without merging`);
        continue;
      }
      if (options.isTooNew?.(image, tag, resolution.digest)) {
        skip("too-new", `${resolution.digest} is younger than minimumAge`);
        continue;
      }
      const site = found.pin;
      const change: Change = {
        path: file.path,
        line: found.line,
        kind: found.kind,
        image,
        tag,
        from: found.text,
        to: pinnedTextFor(found, resolution.digest),
        oldDigest: ref.digest,
        newDigest: resolution.digest,
        start: site?.start ?? found.start,
        end: site?.end ?? found.end,
      };
      if (site) {
        change.replacement = `${site.before}${resolution.digest}${site.after}`;
        change.expected = site.expected;
      }
      if (resolution.note) change.note = resolution.note;
      const platforms = formatPlatforms(resolution);
      if (platforms) change.platforms = platforms;
      if (found.platform) change.platform = found.platform;
      const held = options.hold?.(change);
      if (held) {
        skip(held.reason, held.detail);
        continue;
      }
      out.changes.push(change);
    }
  }
  return out;
}

/** The byte edits of one file's changes, each checked against the text the scan read at its range. */
export function editsFor(changes: readonly Change[], path: string): Edit[] {
  return changes
    .filter((c) => c.path === path)
    .map((c) => ({
      start: c.start,
      end: c.end,
      replacement: c.replacement ?? c.to,
      // The bytes the plan saw there: a file changed since is refused, not corrupted.
      expected: c.expected ?? c.from,
    }));
}
