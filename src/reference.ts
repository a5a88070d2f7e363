// Image reference grammar (Docker's distribution/reference): parse, normalize, format.
// [registry[:port]/]path[:tag][@algorithm:hex]

export const DOCKER_HUB = "docker.io";
/** The host that actually serves Docker Hub's registry API. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

export interface ImageReference {
  /** Normalized registry host with optional port: `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path, lower case: `library/python`, `acme/app`. */
  repository: string;
  tag: string | null;
  /** `algorithm:hex`, e.g. `sha256:<64 lower-case hex>`. */
  digest: string | null;
}

export type ParseResult = { ok: true; value: ImageReference } | { ok: false; error: string };

const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]*$/;
/** The algorithms Docker's digest parser accepts, with their hex lengths (lower case only). */
const DIGEST_RE = /^(?:sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/;
/** A bare 64-hex name is an image ID, which Docker refuses as a repository name. */
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Whether `digest` is a digest Docker accepts: sha256, sha384 or sha512 with lower-case hex of the right length. */
export function isValidDigest(digest: string): boolean {
  return DIGEST_RE.test(digest);
}

/**
 * Split the registry off a name as Docker does: the first component is a registry when it contains `.` or `:`,
 * is `localhost`, or has upper-case letters (which a repository path cannot have).
 */
function splitRegistry(name: string): { registry: string | null; path: string } {
  const slash = name.indexOf("/");
  if (slash === -1) return { registry: null, path: name };
  const first = name.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
    return { registry: first, path: name.slice(slash + 1) };
  }
  return { registry: null, path: name };
}

export function parseReference(text: string): ParseResult {
  const fail = (error: string): ParseResult => ({ ok: false, error });
  if (text.length === 0) return fail("empty reference");
  if (/\s/.test(text)) return fail("reference contains white space");
  if (IDENTIFIER_RE.test(text)) return fail("a 64-character hexadecimal name is an image ID, not a repository");

  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isValidDigest(digest)) {
      return fail(`invalid digest "${digest}" (expected sha256:<64 lower-case hex>, or sha384/sha512)`);
    }
  }

  // A tag is after the last colon that comes after the last slash (a colon before it is a port).
  let tag: string | null = null;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/") && !rest.endsWith("]")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (tag.length > MAX_TAG_LENGTH) return fail(`tag is longer than ${MAX_TAG_LENGTH} characters`);
    if (!TAG_RE.test(tag)) return fail(`invalid tag "${tag}"`);
  }

  if (rest.length === 0) return fail("missing repository name");
  const { registry: rawRegistry, path } = splitRegistry(rest);
  if (rawRegistry !== null && !DOMAIN_RE.test(rawRegistry)) return fail(`invalid registry "${rawRegistry}"`);
  if (path.length === 0) return fail("missing repository name");
  for (const component of path.split("/")) {
    if (component !== component.toLowerCase()) return fail(`repository name must be lower case: "${path}"`);
    if (!PATH_COMPONENT_RE.test(component)) return fail(`invalid repository path component "${component}"`);
  }
  if (rest.length > MAX_NAME_LENGTH) return fail(`repository name is longer than ${MAX_NAME_LENGTH} characters`);

  let registry = rawRegistry ?? DOCKER_HUB;
  if (registry === "index.docker.io") registry = DOCKER_HUB;
  const repository = registry === DOCKER_HUB && !path.includes("/") ? `library/${path}` : path;
  return { ok: true, value: { registry, repository, tag, digest } };
}

/** `registry/repository`, the normalized image name. */
export function imageName(ref: Pick<ImageReference, "registry" | "repository">): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full normalized reference: `docker.io/library/python:3.12@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  let out = imageName(ref);
  if (ref.tag !== null) out += `:${ref.tag}`;
  if (ref.digest !== null) out += `@${ref.digest}`;
  return out;
}

/**
 * The text that replaces a reference as written when pinning it to `digest`: the name and tag stay exactly as the
 * author wrote them, an untagged reference gains `:latest` so its drift can still be followed. `tagged` says whether
 * the reference has a tag when the written text alone cannot tell (it uses variables: `${REPO}` has none).
 *
 * @example
 * pinnedText("python", "sha256:…") // "python:latest@sha256:…"
 */
export function pinnedText(written: string, digest: string, tagged?: boolean): string {
  const at = written.indexOf("@");
  const withoutDigest = at === -1 ? written : written.slice(0, at);
  let hasTag = tagged;
  if (hasTag === undefined) {
    const parsed = parseReference(withoutDigest);
    hasTag = parsed.ok && parsed.value.tag !== null;
  }
  return `${withoutDigest}${hasTag ? "" : ":latest"}@${digest}`;
}

/** The host that serves a registry's API (Docker Hub's API is not at docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}
