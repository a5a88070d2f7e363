import { deadlineOf } from "../deadline.js";
import type { ImageReference } from "../reference.js";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** What a tag points at now. */
export interface Resolution {
  digest: string;
  mediaType: string;
  /** The platforms an index lists (absent for a single-platform manifest). */
  platforms?: Platform[];
  /** Why this digest is not of the kind the current pin is, when the client had to choose (for people). */
  note?: string;
}

export interface ResolveOptions {
  /**
   * The digest currently pinned, when refreshing. When it is a single-platform manifest the result keeps that kind:
   * the same platform's manifest from the tag's index.
   */
  currentDigest?: string;
  /** The FROM's literal `--platform` (e.g. `linux/arm64/v8`), used to pick a platform manifest. */
  platform?: string;
  /** Also list an index's platforms (costs a GET of the index; by default a tag costs one HEAD). */
  withPlatforms?: boolean;
  /**
   * The caller's deadline (a repository scan's): when it aborts, the resolution fails with TIMEOUT. The client also
   * gives every reference a budget of its own (`timeouts.referenceMs`) for all its requests.
   */
  signal?: AbortSignal;
}

export type RegistryErrorCode =
  | "NOT_FOUND" // no such repository or tag
  | "UNAUTHORIZED" // 401/403
  | "REFUSED_HOST" // policy: private address, plain HTTP, bad redirect or realm
  | "RATE_LIMITED" // 429 after retries
  | "SERVER_ERROR" // 5xx after retries
  | "NETWORK" // connection failure, DNS, reset
  | "TIMEOUT"
  | "DIGEST_MISMATCH" // Docker-Content-Digest differs from the body's sha256
  | "TOO_LARGE" // body over the limit
  | "PLATFORM_NOT_FOUND" // the index has no manifest for the pinned platform
  | "CREDENTIAL_HELPER_MISSING" // config.json names a docker-credential-<name> that is not on PATH
  | "CREDENTIAL_HELPER_FAILED" // it exited with an error, printed too much, or printed no credential
  | "CREDENTIAL_HELPER_TIMEOUT" // it did not answer in time (and was killed)
  | "INVALID_RESPONSE"; // anything else a registry got wrong

/** A failure to resolve one reference: never "up to date", never an edit. */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The TIMEOUT for `what` (a reference) when `error` came from a deadline running out, else null.
 *
 * @example
 * timeoutOf("docker.io/library/python:3.12", error)?.message
 * // "docker.io/library/python:3.12: gave up after 60 s, the time allowed for one reference (…)"
 */
export function timeoutOf(what: string, error: unknown): RegistryError | null {
  const deadline = deadlineOf(error);
  if (!deadline) return null;
  return new RegistryError("TIMEOUT", `${what}: ${deadline.message}`, undefined, { cause: error });
}

/** Options for the questions that are not about a tag (when an image was built). */
export interface LookupOptions {
  signal?: AbortSignal;
}

/** What a registry says about the image a digest names: immutable, so callers may cache it. */
export interface ImageInfo {
  mediaType: string;
  /** Its config's `created` (for an index, that of its linux/amd64 manifest, else the first), when it says. */
  created: Date | null;
  /** Its config's `org.opencontainers.image.*` labels (the same manifest's), as written. */
  labels: Record<string, string>;
  /** An index's platform manifests, attestations left out; absent for a single-platform manifest. */
  manifests?: { platform: Platform; digest: string }[];
}

/** What the rest of the program needs from a registry client. */
export interface Resolver {
  resolve(ref: ImageReference, options?: ResolveOptions): Promise<Resolution>;
  /** When the image a digest names was built, if the registry says (for minimumAge). */
  createdAt?(ref: ImageReference, digest: string, options?: LookupOptions): Promise<Date | null>;
  /** Created time, labels and platforms of the image a digest names; NOT_FOUND when the registry no longer has it. */
  imageInfo?(ref: ImageReference, digest: string, options?: LookupOptions): Promise<ImageInfo>;
}
