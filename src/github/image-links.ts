// Where a reviewer can look at an image: its page on its registry, and its source, from the OCI labels its builder
// set (`org.opencontainers.image.source`, `.revision`, `.version`). Labels are anyone's text: a source becomes a link
// only through safeHttpsUrl, and a revision only when it is a commit id. Pure.

import { KNOWN_FORGES, safeHttpsUrl } from "./markdown.js";

export const LABEL_SOURCE = "org.opencontainers.image.source";
export const LABEL_REVISION = "org.opencontainers.image.revision";
export const LABEL_VERSION = "org.opencontainers.image.version";

/** A commit id, full or abbreviated: the only revision that becomes part of a URL. */
const REVISION_RE = /^[0-9a-f]{7,64}$/i;
const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const MAX_VERSION_CHARS = 64;

/** What the labels of one image say about its source. */
export interface ImageSource {
  /** The repository the image was built from (a validated https URL), when a label names one. */
  repository?: URL;
  /** The commit it was built from, when the label is a commit id. */
  revision?: string;
  /** The version label as written (escaped where shown), at most 64 characters. */
  version?: string;
  /** For Docker Official Images (no labels): the definition of the image in docker-library/official-images. */
  definition?: URL;
}

/**
 * The page of an image on its registry, for the registries that have one.
 *
 * @example registryPage("docker.io/library/python")?.href // "https://hub.docker.com/_/python"
 */
export function registryPage(image: string): URL | null {
  const slash = image.indexOf("/");
  if (slash === -1) return null;
  const host = image.slice(0, slash);
  const path = image.slice(slash + 1);
  if (!path.split("/").every((part) => NAME_RE.test(part))) return null;
  switch (host) {
    case "docker.io":
      return path.startsWith("library/") && path.split("/").length === 2
        ? new URL(`https://hub.docker.com/_/${path.slice("library/".length)}`)
        : new URL(`https://hub.docker.com/r/${path}`);
    case "ghcr.io":
      // ghcr.io sends a browser on to the package's page on GitHub.
      return new URL(`https://ghcr.io/${path}`);
    case "quay.io":
      return new URL(`https://quay.io/repository/${path}`);
    case "mcr.microsoft.com":
      return new URL(`https://mcr.microsoft.com/artifact/mar/${path}`);
    case "public.ecr.aws":
      return new URL(`https://gallery.ecr.aws/${path}`);
    default:
      return null;
  }
}

/**
 * An https URL from a source label as builders write it: `https://…`, `git+https://…`, a `.git` suffix, or, for the
 * known forges, `git@github.com:acme/app.git` and `github.com/acme/app`. Null for anything else.
 */
export function sourceUrl(label: string): URL | null {
  let text = label.trim().replace(/^git\+/, "");
  const scp = /^git@([a-z0-9.-]+):(.+)$/i.exec(text);
  if (scp && isKnownForge(scp[1] ?? "")) text = `https://${scp[1]}/${scp[2]}`;
  else if (!/^[a-z][a-z0-9+.-]*:/i.test(text) && isKnownForge(text.split("/")[0] ?? "")) text = `https://${text}`;
  const url = safeHttpsUrl(text);
  if (!url) return null;
  url.hash = "";
  url.search = "";
  url.pathname = url.pathname.replace(/\.git\/?$/, "").replace(/\/+$/, "");
  return url;
}

function isKnownForge(host: string): boolean {
  return (KNOWN_FORGES as readonly string[]).includes(host.toLowerCase());
}

/**
 * What an image's labels say about its source; for a Docker Official Image without labels, its definition.
 *
 * @example imageSource("ghcr.io/acme/app", { "org.opencontainers.image.source": "https://github.com/acme/app" })
 */
export function imageSource(image: string, labels: Readonly<Record<string, string>>): ImageSource {
  const out: ImageSource = {};
  const repository = labels[LABEL_SOURCE] ? sourceUrl(labels[LABEL_SOURCE]) : null;
  if (repository) out.repository = repository;
  const revision = labels[LABEL_REVISION]?.trim();
  if (revision && REVISION_RE.test(revision)) out.revision = revision.toLowerCase();
  const version = labels[LABEL_VERSION]?.trim();
  if (version) out.version = version.slice(0, MAX_VERSION_CHARS);
  const official = /^docker\.io\/library\/([^/]+)$/.exec(image);
  if (!out.repository && official && NAME_RE.test(official[1] ?? "")) {
    out.definition = new URL(`https://github.com/docker-library/official-images/blob/master/library/${official[1]}`);
  }
  return out;
}

/** `https://github.com/acme/app` → `acme/app` (GitLab: every group), or null when the URL names no repository there. */
function forgeRepository(url: URL): { host: string; path: string } | null {
  const host = url.hostname.toLowerCase();
  if (!isKnownForge(host)) return null;
  const parts = url.pathname.split("/").filter(Boolean);
  const end = parts.indexOf("-");
  const repo = host === "gitlab.com" ? parts.slice(0, end === -1 ? undefined : end) : parts.slice(0, 2);
  if (repo.length < 2 || !repo.every((p) => /^[\w.-]+$/.test(p))) return null;
  return { host, path: repo.join("/") };
}

/**
 * The page of one commit of a known forge's repository.
 *
 * @example commitUrl(new URL("https://github.com/acme/app"), "0123abc")?.href // "https://github.com/acme/app/commit/0123abc"
 */
export function commitUrl(repository: URL, revision: string): URL | null {
  const repo = forgeRepository(repository);
  if (!repo || !REVISION_RE.test(revision)) return null;
  const page = repo.host === "gitlab.com" ? "-/commit" : repo.host === "bitbucket.org" ? "commits" : "commit";
  return new URL(`https://${repo.host}/${repo.path}/${page}/${revision}`);
}

/**
 * The compare view of two revisions of the same repository, on the forges that have one (GitHub, GitLab, Codeberg);
 * null when the images name different repositories or either revision is unknown.
 *
 * @example compareUrl(old, neu)?.href // "https://github.com/acme/app/compare/0123abc...4567def"
 */
export function compareUrl(from: ImageSource, to: ImageSource): URL | null {
  if (!from.repository || !to.repository || !from.revision || !to.revision || from.revision === to.revision) return null;
  const a = forgeRepository(from.repository);
  const b = forgeRepository(to.repository);
  if (!a || !b || a.host !== b.host || a.path.toLowerCase() !== b.path.toLowerCase() || b.host === "bitbucket.org") return null;
  const page = b.host === "gitlab.com" ? "-/compare" : "compare";
  return new URL(`https://${b.host}/${b.path}/${page}/${from.revision}...${to.revision}`);
}
