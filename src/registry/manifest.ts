// Manifests and indexes as registries serve them: the Accept header, media types, and the few fields the client
// reads (an index's entries with their platforms, a manifest's config descriptor, a config's platform).

import type { PlatformSpec } from "./platform.js";
import { formatPlatform, platformMatches } from "./platform.js";
import { isValidDigest } from "../reference.js";
import { MEDIA_TYPES, RegistryError } from "./types.js";
import type { Platform } from "./types.js";

/**
 * Every type the client understands. Leaving the list type out makes Distribution answer a Docker list tag with one
 * child's digest, and leaving the OCI index out makes an OCI index tag a 404, so all four always go together.
 */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(", ");

const KNOWN_TYPES = new Set<string>(Object.values(MEDIA_TYPES));

export function isIndexType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

export function isKnownManifestType(mediaType: string): boolean {
  return KNOWN_TYPES.has(mediaType);
}

/** `application/json; charset=utf-8` → `application/json`. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: PlatformSpec;
}

export interface Manifest {
  mediaType: string;
  /** The entries of an index (empty for a single-platform manifest). */
  manifests: Descriptor[];
  /** The config blob of a single-platform manifest. */
  config?: Descriptor;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function platformOf(value: unknown): PlatformSpec | undefined {
  const p = asObject(value);
  if (!p || typeof p.os !== "string" || typeof p.architecture !== "string") return undefined;
  const out: PlatformSpec = { os: p.os, architecture: p.architecture };
  if (typeof p.variant === "string" && p.variant !== "") out.variant = p.variant;
  if (typeof p["os.version"] === "string" && p["os.version"] !== "") out.osVersion = p["os.version"];
  return out;
}

function descriptorOf(value: unknown, what: string): Descriptor {
  const d = asObject(value);
  if (!d || typeof d.digest !== "string" || !isValidDigest(d.digest)) {
    throw new RegistryError("INVALID_RESPONSE", `${what}: an entry has no valid digest`);
  }
  const out: Descriptor = {
    mediaType: typeof d.mediaType === "string" ? d.mediaType : "",
    digest: d.digest,
    size: typeof d.size === "number" ? d.size : 0,
  };
  const platform = platformOf(d.platform);
  if (platform) out.platform = platform;
  return out;
}

/** Parse a manifest body; its type comes from its `mediaType` field, else Content-Type, else its shape. */
export function parseManifest(body: Uint8Array, contentType: string | undefined, what: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new RegistryError("INVALID_RESPONSE", `${what}: the manifest is not JSON`);
  }
  const m = asObject(json);
  if (!m) throw new RegistryError("INVALID_RESPONSE", `${what}: the manifest is not a JSON object`);
  const header = bareMediaType(contentType);
  let mediaType = typeof m.mediaType === "string" && m.mediaType !== "" ? m.mediaType : header;
  if (!isKnownManifestType(mediaType)) {
    // OCI makes `mediaType` optional, and some registries send application/json: fall back on the shape.
    if (Array.isArray(m.manifests)) mediaType = MEDIA_TYPES.ociIndex;
    else if (asObject(m.config)) mediaType = MEDIA_TYPES.ociManifest;
    else throw new RegistryError("INVALID_RESPONSE", `${what}: unsupported manifest type "${mediaType || "unknown"}"`);
  }
  if (isIndexType(mediaType)) {
    if (!Array.isArray(m.manifests)) throw new RegistryError("INVALID_RESPONSE", `${what}: the index lists no manifests`);
    return { mediaType, manifests: m.manifests.map((d) => descriptorOf(d, what)) };
  }
  const out: Manifest = { mediaType, manifests: [] };
  if (m.config !== undefined) out.config = descriptorOf(m.config, what);
  return out;
}

/** The platforms an index lists, without attestation and other non-platform entries (`unknown/unknown`). */
export function indexPlatforms(index: Manifest): Platform[] {
  const out: Platform[] = [];
  for (const d of index.manifests) {
    if (!d.platform || d.platform.os === "unknown") continue;
    const p: Platform = { os: d.platform.os, architecture: d.platform.architecture };
    if (d.platform.variant) p.variant = d.platform.variant;
    out.push(p);
  }
  return out;
}

/** The platform an image config declares (`{"os":"linux","architecture":"arm64","variant":"v8"}`), if any. */
export function configPlatform(body: Uint8Array): PlatformSpec | undefined {
  try {
    return platformOf(JSON.parse(Buffer.from(body).toString("utf8")));
  } catch {
    return undefined;
  }
}

/**
 * The index entry for a platform. None, or several that cannot be told apart, is PLATFORM_NOT_FOUND: guessing
 * would pin an image for another machine.
 */
export function selectPlatform(index: Manifest, want: PlatformSpec, what: string): Descriptor {
  const matches = index.manifests.filter((d) => d.platform && platformMatches(want, d.platform));
  const distinct = [...new Map(matches.map((d) => [d.digest, d])).values()];
  const first = distinct[0];
  if (first && distinct.length === 1) return first;
  const listed = indexPlatforms(index).map(formatPlatform).join(", ") || "none";
  if (distinct.length === 0) {
    throw new RegistryError(
      "PLATFORM_NOT_FOUND",
      `${what} has no manifest for ${formatPlatform(want)} (it lists: ${listed})`,
    );
  }
  throw new RegistryError(
    "PLATFORM_NOT_FOUND",
    `${what} has ${distinct.length} manifests for ${formatPlatform(want)}; cannot tell which one the pin should follow`,
  );
}

/** Labels kept from an image config: the OCI ones a pull request shows, bounded in number and length. */
const LABEL_PREFIX = "org.opencontainers.image.";
const MAX_LABELS = 32;
const MAX_LABEL_CHARS = 2048;

/** What an image config says for people: when it was built and its OCI labels. */
export interface ConfigInfo {
  created: Date | null;
  labels: Record<string, string>;
}

/**
 * The `created` time and `org.opencontainers.image.*` labels of an image config (`config.Labels`); nothing for a
 * body that is not a JSON object. A time that does not parse is null.
 *
 * @example configInfo(Buffer.from('{"created":"2024-05-01T00:00:00Z","config":{"Labels":{}}}')).created // Date
 */
export function configInfo(body: Uint8Array): ConfigInfo {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return { created: null, labels: {} };
  }
  const config = asObject(json);
  const created = typeof config?.created === "string" ? new Date(config.created) : null;
  const labels: Record<string, string> = {};
  const raw = asObject(asObject(config?.config)?.Labels);
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (Object.keys(labels).length >= MAX_LABELS) break;
    if (key.startsWith(LABEL_PREFIX) && typeof value === "string") labels[key] = value.slice(0, MAX_LABEL_CHARS);
  }
  return { created: created && !Number.isNaN(created.getTime()) ? created : null, labels };
}
