// Reports every GitHub API request an Octokit makes (method, route template, status, time, rate limit left), for
// metrics. Routes are templates (`GET /repos/{owner}/{repo}`), never concrete URLs, so label values stay bounded; a
// request made with a full URL (pagination's next links) is collapsed to a template-like path. Reads no header but
// x-ratelimit-remaining, and never sees tokens.

import type { ProbotOctokit } from "probot";

type OctokitInstance = InstanceType<typeof ProbotOctokit>;

export interface GithubRequestInfo {
  method: string;
  /** `GET /repos/{owner}/{repo}/git/trees/{tree_sha}`. */
  route: string;
  /** The HTTP status (304 and errors included); 0 when no answer arrived (network failure, abort). */
  status: number;
  durationMs: number;
  /** x-ratelimit-remaining of the answer, when it had one. */
  rateLimitRemaining?: number;
}

export type GithubRequestObserver = (info: GithubRequestInfo) => void;

/** Segment after which the next one is a value (name → its placeholder). */
const VALUE_AFTER: Record<string, string> = {
  users: "{username}",
  orgs: "{org}",
  collaborators: "{username}",
  assignees: "{assignee}",
  trees: "{tree_sha}",
  blobs: "{file_sha}",
  commits: "{ref}",
  statuses: "{ref}",
  tarball: "{ref}",
  zipball: "{ref}",
  labels: "{name}",
  branches: "{branch}",
  tags: "{tag}",
};

/** Segment after which everything left is one value that may contain slashes. */
const REST_AFTER: Record<string, string> = {
  contents: "{path}",
  ref: "{ref}",
  refs: "{ref}",
  "matching-refs": "{ref}",
  compare: "{basehead}",
};

const WORD = /^[a-z][a-z0-9_-]*$/;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** A concrete API path → a template-like one: `/repositories/42/pulls` → `/repositories/{id}/pulls`. */
export function normalizeApiPath(path: string): string {
  const segments = path.split("/").filter((s) => s !== "");
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    // The previous segment as normalized: a repository named `contents` is `{repo}` by then.
    const previous = out[i - 1];
    if (/^\{[^{}]*\}$/.test(segment)) {
      out.push(segment);
    } else if (i === 1 && previous === "repos") {
      out.push("{owner}");
    } else if (i === 2 && segments[0] === "repos") {
      out.push("{repo}");
    } else if (previous !== undefined && REST_AFTER[previous]) {
      out.push(REST_AFTER[previous]);
      break;
    } else if (previous !== undefined && VALUE_AFTER[previous] && !(previous === "tags" && segment === "protection")) {
      out.push(VALUE_AFTER[previous]);
    } else if (/^\d+$/.test(segment)) {
      out.push("{id}");
    } else if (SHA.test(segment)) {
      out.push("{sha}");
    } else if (WORD.test(segment)) {
      out.push(segment);
    } else {
      out.push("{value}");
    }
  }
  return `/${out.join("/")}`;
}

/** The route template of a request's `url` option (before expansion), without query strings. */
export function routeOf(method: string, url: string): string {
  let path: string;
  if (/^https?:\/\//i.test(url)) {
    try {
      // GitHub Enterprise Server serves the API under /api/v3.
      path = normalizeApiPath(new URL(url).pathname.replace(/^\/api\/v3(?=\/|$)/, ""));
    } catch {
      path = "/{value}";
    }
  } else {
    const bare = url.replace(/\{\?[^}]*\}/g, "").replace(/[?#].*$/, "");
    // A template is bounded by the code that wrote it; a concrete path (no placeholders) may not be.
    path = bare.includes("{") ? bare : normalizeApiPath(bare);
  }
  return `${method.toUpperCase()} ${path}`;
}

function remainingOf(headers: unknown): number | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  const value = (headers as Record<string, unknown>)["x-ratelimit-remaining"];
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Report each request `octokit` makes to `onRequest`, once per call (after Octokit's own retries and throttling,
 * which wrap inside this). Errors are reported with their status and re-thrown unchanged.
 */
export function instrumentOctokit(octokit: Pick<OctokitInstance, "hook">, onRequest: GithubRequestObserver): void {
  octokit.hook.wrap("request", async (request, options) => {
    const method = String(options.method ?? "GET").toUpperCase();
    const route = routeOf(method, String(options.url ?? ""));
    const started = performance.now();
    const report = (status: number, headers: unknown) => {
      const rateLimitRemaining = remainingOf(headers);
      try {
        onRequest({
          method,
          route,
          status,
          durationMs: performance.now() - started,
          ...(rateLimitRemaining === undefined ? {} : { rateLimitRemaining }),
        });
      } catch {
        // Metrics are best effort.
      }
    };
    try {
      const response = await request(options);
      report(response.status, response.headers);
      return response;
    } catch (error) {
      // A RequestError with a response is an answer (304, 404, 5xx…); without one, nothing came back.
      const response = (error as { response?: { status?: unknown; headers?: unknown } } | null)?.response;
      report(typeof response?.status === "number" ? response.status : 0, response?.headers);
      throw error;
    }
  });
}

/** The same as an Octokit plugin, for `ProbotOctokit.plugin(octokitInstrumentation(fn))`. */
export function octokitInstrumentation(onRequest: GithubRequestObserver): (octokit: Pick<OctokitInstance, "hook">) => void {
  return (octokit) => instrumentOctokit(octokit, onRequest);
}
