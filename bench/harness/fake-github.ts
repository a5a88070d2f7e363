// A local stand-in for the parts of the GitHub REST API the app uses, with real git object ids and
// ref semantics, for end-to-end tests and the fleet benchmark. Point Probot at it with
// GHE_HOST=<fake.host> GHE_PROTOCOL=http (routes are served under /api/v3 and at the root).
//
// Test-side methods (addRepo, pushFiles, mergePull, ...) change state directly; HTTP calls are
// recorded in `calls` (with 304s counted apart) and unknown routes in `unknownRoutes`.
//
// GraphQL: `POST /api/graphql` (and `/graphql`) answers the subset of GitHub's schema described in
// graphql-schema.ts from the same state, counted in `calls` as route `POST /graphql`, with its own rate-limit
// bucket (`x-ratelimit-resource: graphql`). Unknown fields, arguments and types are GraphQL errors.
//
// Secondary rate limits are enforced as GitHub documents them (secondary-limits.ts): 100 requests in flight, 900 REST
// and 2,000 GraphQL points a minute, 80 content-generating requests a minute and 500 an hour, per actor. A request
// over a limit is answered 403 "You have exceeded a secondary rate limit" with `retry-after`, like GitHub, and its
// CallRecord names the limit: a test against the fake shows that the app stays within them.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import {
  GitError,
  ObjectStore,
  TREE_MODES,
  identityTime,
  isoFromGit,
  typeForMode,
  type CommitObject,
  type FileEntry,
  type GitIdentity,
  type TreeChange,
  type TreeMode,
} from "./git-store.js";
import {
  HttpError,
  compileRoute,
  errorBody,
  etagMatches,
  isoSeconds,
  notFound,
  paginate,
  readBody,
  validationFailed,
  weakEtag,
  wrappedBase64,
} from "./http-util.js";
import { ManifestFlow, verifyAppJwt } from "./fake-github-manifest.js";
import { createExecutor } from "./graphql.js";
import { githubSchema, type GraphqlContext } from "./graphql-schema.js";
import { SecondaryLimits, isMutation, weigh, type LimitName, type SecondaryLimitOptions } from "./secondary-limits.js";

export { EMPTY_TREE_SHA, hashObject } from "./git-store.js";

// ---------------------------------------------------------------------------------------------
// Public types

export interface FakeGitHubOptions {
  /** Delay before each response is handled, in ms (benchmarks). */
  latencyMs?: number;
  appId?: number;
  /** Default `digest-pin`. */
  appSlug?: string;
  appName?: string;
  /** Default `${appSlug}[bot]`. */
  botLogin?: string;
  /** Who a token the fake did not issue (e.g. `auth: "x"`) acts as. Default `test-user`. */
  userLogin?: string;
  /** `x-ratelimit-limit` per installation and hour. Default 5000. Not enforced. */
  rateLimit?: number;
  /** Installation token permissions. Default contents/pull_requests/issues: write, metadata: read. */
  permissions?: Record<string, string>;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** GraphQL Blob `text` is cut beyond this many bytes (`isTruncated`). Default 512 KiB. */
  graphqlBlobTextLimit?: number;
  /** GitHub's secondary rate limits, per actor (defaults: GitHub's documented figures). */
  secondaryLimits?: SecondaryLimitOptions;
}

export type AccountType = "User" | "Organization";
export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";
/** A file for addRepo/pushFiles: text (UTF-8), bytes, or with an explicit mode. */
export type FileInput = string | Buffer | { content: string | Buffer; mode?: "100644" | "100755" | "120000" };

export interface RepoSpec {
  /** Default: the installation's account. */
  owner?: string;
  name: string;
  /** Default `main`. */
  defaultBranch?: string;
  /** Initial commit content (an empty map makes a commit with the empty tree). */
  files?: Record<string, FileInput>;
  /** No commits and no branches, as a newly created repository (`files` must not be given). */
  empty?: boolean;
  private?: boolean;
  archived?: boolean;
  disabled?: boolean;
  fork?: boolean;
  description?: string | null;
  topics?: string[];
  language?: string | null;
  /** Recursive tree listings with more entries than this come back `truncated: true`. */
  truncateTreesOver?: number;
  /** Delete head branches when a pull request is merged (mergePull). */
  deleteBranchOnMerge?: boolean;
  /** "Allow auto-merge" in the repository's settings (GitHub's default: off). */
  allowAutoMerge?: boolean;
  /** The merge methods the repository allows (default: all three, as GitHub). */
  mergeMethods?: { merge?: boolean; squash?: boolean; rebase?: boolean };
  /** ISO timestamps; default now. */
  createdAt?: string;
  pushedAt?: string;
  /** Initial commit message and author login. */
  message?: string;
  author?: string;
}

export interface RepoHandle {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  installationId: number;
  defaultBranch: string;
}

export type RepoPatch = Partial<
  Pick<
    RepoSpec,
    | "private"
    | "archived"
    | "disabled"
    | "description"
    | "topics"
    | "language"
    | "truncateTreesOver"
    | "deleteBranchOnMerge"
    | "allowAutoMerge"
  > & { defaultBranch: string; pushedAt: string }
>;

export interface IssueRecord {
  id: number;
  number: number;
  kind: "issue" | "pull";
  title: string;
  body: string | null;
  state: "open" | "closed";
  stateReason: "completed" | "not_planned" | "reopened" | null;
  /** Login of the author. */
  user: string;
  labels: string[];
  assignees: string[];
  locked: boolean;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: string | null;
}

export interface PullRecord extends IssueRecord {
  kind: "pull";
  /** `sha` follows the branch while the pull request is open, and freezes when it closes. */
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  draft: boolean;
  maintainerCanModify: boolean;
  requestedReviewers: string[];
  requestedTeams: string[];
  /** Auto-merge requested through GraphQL (`enablePullRequestAutoMerge`), or null. */
  autoMerge: AutoMergeRecord | null;
}

export interface AutoMergeRecord {
  enabledAt: string;
  enabledBy: string;
  mergeMethod: "MERGE" | "SQUASH" | "REBASE";
  commitHeadline: string | null;
  commitBody: string | null;
}

/** GitHub's limit for issue, pull request and comment bodies, in characters. */
export const BODY_LIMIT = 65_536;

export interface ReactionRecord {
  id: number;
  content: string;
  user: string;
  createdAt: string;
}

export interface CommentRecord {
  id: number;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionRecord[];
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  /** Signed by GitHub: created through the API with an installation token and no custom author or committer. */
  verified: boolean;
}

export interface CallRecord {
  method: string;
  /** Path without the `/api/v3` prefix and without the query, percent-decoded. */
  path: string;
  query: string;
  /** Route template, e.g. `GET /repos/{owner}/{repo}/git/ref/{ref}`; `UNKNOWN` when none matched. */
  route: string;
  status: number;
  notModified: boolean;
  /** Answered by failNext. */
  injected: boolean;
  /** Refused (403) for exceeding this secondary rate limit. */
  secondaryLimit?: LimitName;
  /** `app`, `installation:<id>`, `user:<login>` or `anonymous`. */
  actor: string;
  at: number;
  /** GraphQL only: the operation's name (`query DigestPinRepoState` → `DigestPinRepoState`), and its variables. */
  operation?: string;
  variables?: Record<string, unknown>;
}

export interface CallCounts {
  total: number;
  notModified: number;
  /** Calls that count against the rate limit: total − notModified. */
  counted: number;
  /** Non-304 calls per route template. */
  byRoute: Record<string, number>;
  /** 304 responses per route template. */
  notModifiedByRoute: Record<string, number>;
}

export interface TokenRequest {
  installationId: number;
  token: string;
  repositories?: string[];
  repositoryIds?: number[];
  permissions?: Record<string, string>;
  at: number;
}

export interface FailOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching calls to fail (default 1). */
  times?: number;
}

// ---------------------------------------------------------------------------------------------
// Internal state

interface UserRecord {
  login: string;
  id: number;
  type: "User" | "Organization" | "Bot";
  email: string;
}

interface InstallationState {
  id: number;
  account: UserRecord;
  repos: RepoState[];
  createdAt: string;
}

interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

interface RepoState {
  id: number;
  owner: UserRecord;
  name: string;
  fullName: string;
  installationId: number;
  private: boolean;
  archived: boolean;
  disabled: boolean;
  fork: boolean;
  description: string | null;
  topics: string[];
  language: string | null;
  defaultBranch: string;
  createdAt: string;
  updatedAt: string;
  pushedAt: string;
  sizeKb: number;
  truncateTreesOver: number | undefined;
  deleteBranchOnMerge: boolean;
  allowAutoMerge: boolean;
  mergeMethods: { merge: boolean; squash: boolean; rebase: boolean };
  store: ObjectStore;
  refs: Map<string, string>;
  /** Commits GitHub signed: created through the API by an installation without custom author, committer or
   * signature, or merged in the web UI. */
  verified: Set<string>;
  items: Map<number, IssueRecord | PullRecord>;
  nextNumber: number;
  comments: Map<number, CommentRecord[]>;
  permissions: Map<string, Permission>;
  labels: Map<string, LabelRecord>;
}

interface TokenRecord {
  token: string;
  installationId: number;
  expiresAt: number;
  repoIds: Set<number> | undefined;
  permissions: Record<string, string>;
}

type Actor =
  | { kind: "app" }
  | { kind: "installation"; installationId: number; token: TokenRecord }
  | { kind: "user"; login: string }
  | { kind: "anonymous" };

type Access = "app" | "installation" | "repo" | "any";

interface Ctx {
  req: http.IncomingMessage;
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  body: Record<string, unknown>;
  actor: Actor;
  /** `http://host[/api/v3]`, for Link headers. */
  linkBase: string;
  repoState: RepoState | undefined;
}

interface Reply {
  status: number;
  body?: unknown;
  raw?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  name: string;
  regex: RegExp;
  params: string[];
  access: Access;
  handler: (ctx: Ctx) => Reply;
}

interface Fault {
  method: string;
  pattern: RegExp;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  remaining: number;
}

const REACTIONS = new Set(["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]);
const WRITE_METHODS = new Set(["POST", "PATCH", "PUT", "DELETE"]);
const SHA_RE = /^[0-9a-f]{40}$/;
const ONE_MB = 1024 * 1024;
const GRAPHQL_ROUTE = "POST /graphql";
const executeGraphql = createExecutor(githubSchema());

function fileToEntry(store: ObjectStore, input: FileInput): FileEntry {
  if (typeof input === "string" || Buffer.isBuffer(input)) {
    return { mode: "100644", sha: store.writeBlob(Buffer.from(input)) };
  }
  return { mode: input.mode ?? "100644", sha: store.writeBlob(Buffer.from(input.content)) };
}

/** The `query` of a GraphQL request body, if it has one. */
function parseQuery(raw: Buffer): unknown {
  try {
    return (JSON.parse(raw.toString("utf8")) as { query?: unknown } | null)?.query;
  } catch {
    return undefined;
  }
}

/**
 * GitHub's answer to a body over BODY_LIMIT characters (code points, as GitHub counts them): 422, with the errors it
 * gives for an issue or pull request body and for a comment.
 */
function checkBodyLength(body: string | undefined, resource: "Issue" | "IssueComment" = "Issue"): void {
  if (body === undefined) return;
  let length = 0;
  for (const _ of body) if (++length > BODY_LIMIT) break;
  if (length <= BODY_LIMIT) return;
  throw validationFailed([
    resource === "Issue"
      ? { resource, code: "custom", field: "body", message: `body is too long (maximum is ${BODY_LIMIT} characters)` }
      : { resource, code: "unprocessable", field: "data", message: `Body is too long (maximum is ${BODY_LIMIT} characters)` },
  ]);
}

function normalizePath(path: string): string {
  return path.replace(/^\/+/, "").replace(/\/+$/, "");
}

function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  return typeof v === "string" ? v : undefined;
}

function stringList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v
    .map((x) => (typeof x === "string" ? x : x && typeof x === "object" && "name" in x ? String((x as { name: unknown }).name) : ""))
    .filter((x) => x !== "");
}

function isValidRefName(ref: string): boolean {
  if (!ref.startsWith("refs/") || ref.split("/").length < 3) return false;
  if (/[\x00-\x20~^:?*[\\\x7f]/.test(ref) || ref.includes("..") || ref.includes("//") || ref.includes("@{")) return false;
  if (ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock")) return false;
  return !ref.split("/").some((c) => c.startsWith("."));
}

function lineDelta(before: Buffer | undefined, after: Buffer | undefined): { additions: number; deletions: number } {
  const lines = (b: Buffer | undefined): string[] => (b && b.length > 0 ? b.toString("utf8").replace(/\n$/, "").split("\n") : []);
  const counts = new Map<string, number>();
  for (const l of lines(before)) counts.set(l, (counts.get(l) ?? 0) + 1);
  let additions = 0;
  for (const l of lines(after)) {
    const c = counts.get(l) ?? 0;
    if (c > 0) counts.set(l, c - 1);
    else additions++;
  }
  let deletions = 0;
  for (const c of counts.values()) deletions += c;
  return { additions, deletions };
}

// ---------------------------------------------------------------------------------------------

export class FakeGitHub {
  readonly calls: CallRecord[] = [];
  readonly unknownRoutes: string[] = [];
  readonly tokenRequests: TokenRequest[] = [];
  /** Apps registered from a manifest (the setup flow), in order. */
  readonly manifests: ManifestFlow;

  private server!: http.Server;
  private port = 0;
  private latencyMs: number;
  private readonly now: () => number;
  private readonly appId: number;
  private readonly appSlug: string;
  private readonly appName: string;
  private readonly bot: UserRecord;
  private readonly userLogin: string;
  private readonly rateLimit: number;
  private readonly tokenPermissions: Record<string, string>;
  private readonly createdAt: string;
  private readonly graphqlBlobTextLimit: number;

  private readonly users = new Map<string, UserRecord>();
  private readonly usersByEmail = new Map<string, UserRecord>();
  private readonly installations = new Map<number, InstallationState>();
  private readonly repos = new Map<string, RepoState>();
  private readonly reposById = new Map<number, RepoState>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly commentIndex = new Map<number, { repo: RepoState; comment: CommentRecord }>();
  private readonly buckets = new Map<string, { used: number; resetAt: number }>();
  private readonly secondary: SecondaryLimits;
  private readonly routes: Route[] = [];
  private faults: Fault[] = [];
  private nextId = 1000;
  private nextUserId = 5000;

  private constructor(options: FakeGitHubOptions) {
    this.latencyMs = options.latencyMs ?? 0;
    this.now = options.now ?? Date.now;
    this.appId = options.appId ?? 4242;
    this.appSlug = options.appSlug ?? "digest-pin";
    this.appName = options.appName ?? "Digest Pin";
    this.userLogin = options.userLogin ?? "test-user";
    this.rateLimit = options.rateLimit ?? 5000;
    this.tokenPermissions = options.permissions ?? {
      contents: "write",
      pull_requests: "write",
      issues: "write",
      metadata: "read",
    };
    this.createdAt = isoSeconds(this.now());
    this.graphqlBlobTextLimit = options.graphqlBlobTextLimit ?? 512 * 1024;
    this.manifests = new ManifestFlow(this.now);
    this.secondary = new SecondaryLimits(options.secondaryLimits);
    this.bot = this.ensureUser(options.botLogin ?? `${this.appSlug}[bot]`, "Bot");
    this.ensureUser(this.userLogin, "User");
    this.registerRoutes();
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const fake = new FakeGitHub(options);
    fake.server = http.createServer((req, res) => {
      fake.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
          res.end(JSON.stringify(errorBody(500, String(err))));
        } else res.destroy();
      });
    });
    fake.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      fake.server.once("error", reject);
      fake.server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `127.0.0.1:PORT`, for GHE_HOST. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT/api/v3`, an Octokit baseUrl. */
  get apiUrl(): string {
    return `${this.url}/api/v3`;
  }

  get botLogin(): string {
    return this.bot.login;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  // -------------------------------------------------------------------------------------------
  // Test API: setup

  addInstallation(id: number, account: { login: string; type?: AccountType }): void {
    if (this.installations.has(id)) throw new Error(`installation ${id} already exists`);
    const user = this.ensureUser(account.login, account.type ?? "Organization");
    this.installations.set(id, { id, account: user, repos: [], createdAt: isoSeconds(this.now()) });
  }

  addRepo(installationId: number, spec: RepoSpec): RepoHandle {
    const installation = this.installations.get(installationId);
    if (!installation) throw new Error(`no installation ${installationId}`);
    const owner = spec.owner === undefined ? installation.account : this.ensureUser(spec.owner, "Organization");
    const fullName = `${owner.login}/${spec.name}`;
    const key = fullName.toLowerCase();
    if (this.repos.has(key)) throw new Error(`repo ${fullName} already exists`);
    const now = isoSeconds(this.now());
    const repo: RepoState = {
      id: this.nextId++,
      owner,
      name: spec.name,
      fullName,
      installationId,
      private: spec.private ?? false,
      archived: spec.archived ?? false,
      disabled: spec.disabled ?? false,
      fork: spec.fork ?? false,
      description: spec.description ?? null,
      topics: spec.topics ?? [],
      language: spec.language ?? "Dockerfile",
      defaultBranch: spec.defaultBranch ?? "main",
      createdAt: spec.createdAt ?? now,
      updatedAt: spec.pushedAt ?? now,
      pushedAt: spec.pushedAt ?? now,
      sizeKb: 0,
      truncateTreesOver: spec.truncateTreesOver,
      deleteBranchOnMerge: spec.deleteBranchOnMerge ?? false,
      allowAutoMerge: spec.allowAutoMerge ?? false,
      mergeMethods: { merge: true, squash: true, rebase: true, ...spec.mergeMethods },
      store: new ObjectStore(),
      refs: new Map(),
      verified: new Set(),
      items: new Map(),
      nextNumber: 1,
      comments: new Map(),
      permissions: new Map(),
      labels: new Map(),
    };
    if (spec.empty) {
      if (spec.files !== undefined) throw new Error("an empty repository has no files");
    } else {
      const changes: TreeChange[] = Object.entries(spec.files ?? {}).map(([path, input]) => ({
        path: normalizePath(path),
        entry: fileToEntry(repo.store, input),
      }));
      const tree = repo.store.buildTree(undefined, changes);
      const author = this.identityFor(this.ensureUser(spec.author ?? this.userLogin));
      const commit = repo.store.writeCommit({
        tree,
        parents: [],
        author,
        committer: author,
        message: spec.message ?? "Initial commit",
      });
      repo.refs.set(`refs/heads/${repo.defaultBranch}`, commit);
      repo.sizeKb = this.computeSize(repo, tree);
    }
    this.repos.set(key, repo);
    this.reposById.set(repo.id, repo);
    installation.repos.push(repo);
    return this.handleFor(repo);
  }

  updateRepo(owner: string, name: string, patch: RepoPatch): void {
    const repo = this.mustRepo(owner, name);
    if (patch.private !== undefined) repo.private = patch.private;
    if (patch.archived !== undefined) repo.archived = patch.archived;
    if (patch.disabled !== undefined) repo.disabled = patch.disabled;
    if (patch.description !== undefined) repo.description = patch.description;
    if (patch.topics !== undefined) repo.topics = patch.topics;
    if (patch.language !== undefined) repo.language = patch.language;
    if ("truncateTreesOver" in patch) repo.truncateTreesOver = patch.truncateTreesOver;
    if (patch.deleteBranchOnMerge !== undefined) repo.deleteBranchOnMerge = patch.deleteBranchOnMerge;
    if (patch.allowAutoMerge !== undefined) repo.allowAutoMerge = patch.allowAutoMerge;
    if (patch.defaultBranch !== undefined) {
      if (!repo.refs.has(`refs/heads/${patch.defaultBranch}`)) throw new Error(`no branch ${patch.defaultBranch}`);
      repo.defaultBranch = patch.defaultBranch;
    }
    if (patch.pushedAt !== undefined) repo.pushedAt = patch.pushedAt;
    repo.updatedAt = isoSeconds(this.now());
  }

  repo(owner: string, name: string): RepoHandle | undefined {
    const repo = this.repos.get(`${owner}/${name}`.toLowerCase());
    return repo ? this.handleFor(repo) : undefined;
  }

  setPermission(owner: string, repo: string, user: string, permission: Permission): void {
    this.ensureUser(user);
    this.mustRepo(owner, repo).permissions.set(user.toLowerCase(), permission);
  }

  /** An installation token, as `POST /app/installations/:id/access_tokens` would issue. */
  createInstallationToken(installationId: number): string {
    if (!this.installations.has(installationId)) throw new Error(`no installation ${installationId}`);
    return this.issueToken(installationId, undefined).token;
  }

  /** Makes every issued installation token answer 401 "Bad credentials". */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  /**
   * The next `times` (default 1) calls matching `method` (`*` for any) and `path` (tested against
   * the path without `/api/v3` and query) get `status` with a GitHub-style error body (or `body`)
   * and `headers`. Status 0 drops the connection without a response.
   */
  failNext(method: string, path: RegExp | string, status: number, options: FailOptions = {}): void {
    this.faults.push({
      method: method.toUpperCase(),
      pattern: typeof path === "string" ? new RegExp(path) : path,
      status,
      headers: options.headers ?? {},
      body: options.body,
      remaining: options.times ?? 1,
    });
  }

  clearFaults(): void {
    this.faults = [];
  }

  // -------------------------------------------------------------------------------------------
  // Test API: git

  /**
   * Commits `files` on top of `branch` (created from the default branch when missing; in an empty
   * repository, a root commit) as a push by `author` (a login; default the `userLogin` option). `null`
   * deletes a path. Returns the commit.
   */
  pushFiles(
    owner: string,
    name: string,
    branch: string,
    files: Record<string, FileInput | null>,
    options: { message?: string; author?: string } = {},
  ): string {
    const repo = this.mustRepo(owner, name);
    const ref = `refs/heads/${branch}`;
    const parent = repo.refs.get(ref) ?? (repo.refs.size === 0 ? undefined : this.mustRef(repo, repo.defaultBranch));
    const changes: TreeChange[] = Object.entries(files).map(([path, input]) => ({
      path: normalizePath(path),
      entry: input === null ? null : fileToEntry(repo.store, input),
    }));
    const tree = repo.store.buildTree(parent === undefined ? undefined : (repo.store.commit(parent) as CommitObject).tree, changes);
    const author = this.identityFor(this.ensureUser(options.author ?? this.userLogin));
    const sha = repo.store.writeCommit({
      tree,
      parents: parent === undefined ? [] : [parent],
      author,
      committer: author,
      message: options.message ?? `Update ${Object.keys(files).join(", ")}`,
    });
    this.setRef(repo, ref, sha);
    return sha;
  }

  /** Creates `branch` at `from` (a branch, ref or sha; default the default branch). */
  createBranch(owner: string, name: string, branch: string, from?: string): string {
    const repo = this.mustRepo(owner, name);
    const sha = this.resolveCommitish(repo, from ?? repo.defaultBranch);
    if (!sha) throw new Error(`cannot resolve ${from}`);
    if (repo.refs.has(`refs/heads/${branch}`)) throw new Error(`branch ${branch} exists`);
    this.setRef(repo, `refs/heads/${branch}`, sha);
    return sha;
  }

  /** Moves (or with `null`, deletes) a branch without any fast-forward check. */
  setBranch(owner: string, name: string, branch: string, sha: string | null): void {
    const repo = this.mustRepo(owner, name);
    if (sha !== null && !repo.store.commit(sha)) throw new Error(`no commit ${sha}`);
    this.setRef(repo, `refs/heads/${branch}`, sha);
  }

  getRef(owner: string, name: string, branch: string): string | null {
    return this.mustRepo(owner, name).refs.get(`refs/heads/${branch}`) ?? null;
  }

  /** Branch names, sorted. */
  branches(owner: string, name: string): string[] {
    return [...this.mustRepo(owner, name).refs.keys()]
      .filter((r) => r.startsWith("refs/heads/"))
      .map((r) => r.slice("refs/heads/".length))
      .sort();
  }

  /** A file's bytes at `ref` (branch, ref or commit sha), or null. */
  readFile(owner: string, name: string, ref: string, path: string): Buffer | null {
    const repo = this.mustRepo(owner, name);
    const commit = this.resolveCommitish(repo, ref);
    if (!commit) return null;
    const entry = repo.store.lookup((repo.store.commit(commit) as CommitObject).tree, normalizePath(path));
    if (!entry || entry.mode === "040000") return null;
    return repo.store.blob(entry.sha)?.data ?? null;
  }

  /** Paths of all files at `ref`, sorted. */
  listFiles(owner: string, name: string, ref: string): string[] {
    const repo = this.mustRepo(owner, name);
    const commit = this.resolveCommitish(repo, ref);
    if (!commit) throw new Error(`cannot resolve ${ref}`);
    return [...repo.store.flatten((repo.store.commit(commit) as CommitObject).tree).keys()].sort();
  }

  getCommit(owner: string, name: string, sha: string): CommitInfo | null {
    const repo = this.mustRepo(owner, name);
    const c = repo.store.commit(sha);
    if (!c) return null;
    const id = (i: GitIdentity): CommitInfo["author"] => ({ name: i.name, email: i.email, date: isoFromGit(i) });
    return {
      sha,
      tree: c.tree,
      parents: [...c.parents],
      message: c.message,
      author: id(c.author),
      committer: id(c.committer),
      verified: repo.verified.has(sha),
    };
  }

  /** Commits reachable from `ref`, newest first (by committer date). */
  log(owner: string, name: string, ref: string): string[] {
    const repo = this.mustRepo(owner, name);
    const start = this.resolveCommitish(repo, ref);
    return start ? this.walk(repo, start) : [];
  }

  // -------------------------------------------------------------------------------------------
  // Test API: pulls, issues, comments

  pulls(owner: string, name: string): PullRecord[] {
    return [...this.mustRepo(owner, name).items.values()].filter((i): i is PullRecord => i.kind === "pull");
  }

  pull(owner: string, name: string, number: number): PullRecord | undefined {
    const item = this.mustRepo(owner, name).items.get(number);
    return item?.kind === "pull" ? (item as PullRecord) : undefined;
  }

  /** Issues only (not pull requests). */
  issues(owner: string, name: string): IssueRecord[] {
    return [...this.mustRepo(owner, name).items.values()].filter((i) => i.kind === "issue");
  }

  comments(owner: string, name: string, number: number): CommentRecord[] {
    return this.mustRepo(owner, name).comments.get(number) ?? [];
  }

  reactions(owner: string, name: string, commentId: number): ReactionRecord[] {
    const found = this.commentIndex.get(commentId);
    if (!found || found.repo !== this.mustRepo(owner, name)) return [];
    return found.comment.reactions;
  }

  /** A pull request opened by `user` (default the `userLogin` option), as from the web UI. */
  openPull(
    owner: string,
    name: string,
    pull: { head: string; base?: string; title: string; body?: string; user?: string; draft?: boolean },
  ): PullRecord {
    const repo = this.mustRepo(owner, name);
    return this.createPullRecord(repo, this.ensureUser(pull.user ?? this.userLogin), {
      head: pull.head,
      base: pull.base ?? repo.defaultBranch,
      title: pull.title,
      body: pull.body ?? null,
      draft: pull.draft ?? false,
      maintainerCanModify: true,
    });
  }

  openIssue(owner: string, name: string, issue: { title: string; body?: string; user?: string; labels?: string[] }): IssueRecord {
    const repo = this.mustRepo(owner, name);
    return this.createIssueRecord(repo, this.ensureUser(issue.user ?? this.userLogin), {
      title: issue.title,
      body: issue.body ?? null,
      labels: issue.labels ?? [],
      assignees: [],
    });
  }

  addComment(owner: string, name: string, number: number, body: string, user?: string): CommentRecord {
    const repo = this.mustRepo(owner, name);
    const item = repo.items.get(number);
    if (!item) throw new Error(`no issue or pull #${number}`);
    return this.createComment(repo, item, this.ensureUser(user ?? this.userLogin), body);
  }

  /**
   * Merges an open pull request as the web UI would: a merge commit (parents base, head; the
   * default), a squash commit on the base branch, or a fast-forward of the base to the head (throws
   * when the base has moved on). A file-level three-way merge; throws on conflicts. Returns the new
   * base commit.
   */
  mergePull(
    owner: string,
    name: string,
    number: number,
    options: { method?: "merge" | "squash" | "fast-forward"; by?: string; deleteBranch?: boolean } = {},
  ): string {
    const repo = this.mustRepo(owner, name);
    const pr = this.pull(owner, name, number);
    if (!pr) throw new Error(`no pull #${number}`);
    if (pr.state !== "open") throw new Error(`pull #${number} is not open`);
    const by = this.ensureUser(options.by ?? this.userLogin);
    const baseSha = this.mustRef(repo, pr.base.ref);
    const headSha = this.mustRef(repo, pr.head.ref);
    const store = repo.store;
    const headTree = (store.commit(headSha) as CommitObject).tree;
    const fastForward = store.isAncestor(baseSha, headSha);
    if (options.method === "fast-forward" && !fastForward) throw new Error(`pull #${number} cannot be fast-forwarded`);
    let tree: string;
    if (fastForward) tree = headTree;
    else {
      const mergeBase = store.mergeBase(baseSha, headSha);
      const merged = store.mergeTrees(
        mergeBase === undefined ? undefined : (store.commit(mergeBase) as CommitObject).tree,
        (store.commit(baseSha) as CommitObject).tree,
        headTree,
      );
      if ("conflicts" in merged) throw new Error(`merge conflict in ${merged.conflicts.join(", ")}`);
      tree = merged.tree;
    }
    const author = this.identityFor(by);
    const committer: GitIdentity = { name: "GitHub", email: "noreply@github.com", time: author.time, tz: "+0000" };
    const squash = options.method === "squash";
    const sha = options.method === "fast-forward" ? headSha : store.writeCommit({
      tree,
      parents: squash ? [baseSha] : [baseSha, headSha],
      author,
      committer,
      message: squash
        ? `${pr.title} (#${pr.number})${pr.body ? `\n\n${pr.body}` : ""}`
        : `Merge pull request #${pr.number} from ${repo.owner.login}/${pr.head.ref}\n\n${pr.title}`,
    });
    if (sha !== headSha) repo.verified.add(sha);
    const at = isoSeconds(this.now());
    pr.head.sha = headSha;
    Object.assign(pr, {
      state: "closed",
      merged: true,
      mergedAt: at,
      mergedBy: by.login,
      mergeCommitSha: sha,
      closedAt: at,
      closedBy: by.login,
      updatedAt: at,
    });
    this.setRef(repo, `refs/heads/${pr.base.ref}`, sha);
    if (options.deleteBranch ?? repo.deleteBranchOnMerge) this.setRef(repo, `refs/heads/${pr.head.ref}`, null);
    return sha;
  }

  /** Closes a pull request (or issue) without merging. */
  closePull(owner: string, name: string, number: number, by?: string): void {
    const repo = this.mustRepo(owner, name);
    const item = repo.items.get(number);
    if (!item) throw new Error(`no pull #${number}`);
    this.closeItem(repo, item, this.ensureUser(by ?? this.userLogin), "completed");
  }

  /** Edits a pull request's (or issue's) title or body, as anyone with write access can in the web UI. */
  editItem(owner: string, name: string, number: number, patch: { title?: string; body?: string | null }): void {
    const item = this.mustRepo(owner, name).items.get(number);
    if (!item) throw new Error(`no issue or pull #${number}`);
    if (patch.title !== undefined) item.title = patch.title;
    if (patch.body !== undefined) item.body = patch.body;
    item.updatedAt = isoSeconds(this.now());
  }

  // -------------------------------------------------------------------------------------------
  // Test API: webhook payload pieces (the same JSON the REST API serves)

  repositoryPayload(owner: string, name: string): Record<string, unknown> {
    return this.repoJson(this.mustRepo(owner, name));
  }

  installationPayload(installationId: number): Record<string, unknown> {
    const inst = this.installations.get(installationId);
    if (!inst) throw new Error(`no installation ${installationId}`);
    return this.installationJson(inst);
  }

  userPayload(login: string): Record<string, unknown> {
    return this.userJson(login);
  }

  pullPayload(owner: string, name: string, number: number): Record<string, unknown> {
    const pr = this.pull(owner, name, number);
    if (!pr) throw new Error(`no pull #${number}`);
    return this.pullJson(this.mustRepo(owner, name), pr, true);
  }

  issuePayload(owner: string, name: string, number: number): Record<string, unknown> {
    const repo = this.mustRepo(owner, name);
    const item = repo.items.get(number);
    if (!item) throw new Error(`no issue #${number}`);
    return this.issueJson(repo, item);
  }

  commentPayload(owner: string, name: string, commentId: number): Record<string, unknown> {
    const repo = this.mustRepo(owner, name);
    const found = this.commentIndex.get(commentId);
    if (!found || found.repo !== repo) throw new Error(`no comment ${commentId}`);
    return this.commentJson(repo, found.comment);
  }

  // -------------------------------------------------------------------------------------------
  // Test API: accounting

  counts(): CallCounts {
    const byRoute: Record<string, number> = {};
    const notModifiedByRoute: Record<string, number> = {};
    let notModified = 0;
    for (const c of this.calls) {
      const table = c.notModified ? notModifiedByRoute : byRoute;
      table[c.route] = (table[c.route] ?? 0) + 1;
      if (c.notModified) notModified++;
    }
    return { total: this.calls.length, notModified, counted: this.calls.length - notModified, byRoute, notModifiedByRoute };
  }

  resetCounts(): void {
    this.calls.length = 0;
    this.unknownRoutes.length = 0;
    this.tokenRequests.length = 0;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP plumbing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://fake");
    let path = url.pathname;
    let prefix = "";
    if (path === "/api/v3" || path.startsWith("/api/v3/")) {
      prefix = "/api/v3";
      path = path.slice(prefix.length) || "/";
    } else if (path === "/api/graphql" || path === "/api/graphql/") {
      // GitHub Enterprise's GraphQL endpoint (where Octokit goes for a `/api/v3` base URL).
      path = "/graphql";
    }
    if (path.length > 1) path = path.replace(/\/+$/, "");
    // In flight from its arrival (the latency stands for GitHub's work) to its answer.
    const leave = this.secondary.enter(this.peekActor(req));
    res.once("close", leave);
    const rawBody = await readBody(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    let shownPath = path;
    try {
      shownPath = decodeURIComponent(path);
    } catch {
      // keep the raw path
    }
    const record: CallRecord = {
      method,
      path: shownPath,
      query: url.search.replace(/^\?/, ""),
      route: "UNKNOWN",
      status: 0,
      notModified: false,
      injected: false,
      actor: "anonymous",
      at: this.now(),
    };
    this.calls.push(record);

    let actor: Actor = { kind: "anonymous" };
    let reply: Reply;
    const route = this.match(method, path);
    if (route) record.route = route.route.name;
    try {
      actor = this.authenticate(req);
      record.actor = this.actorLabel(actor);
      const admission = this.secondary.admit(
        record.actor,
        weigh(method, record.route, record.route === GRAPHQL_ROUTE && isMutation(parseQuery(rawBody))),
      );
      const fault = admission.ok ? this.takeFault(method, path) : undefined;
      if (!admission.ok) {
        record.secondaryLimit = admission.limit;
        reply = {
          status: 403,
          body: {
            message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            status: "403",
          },
          headers: { "retry-after": String(admission.retryAfterSeconds) },
        };
      } else if (fault) {
        record.injected = true;
        record.status = fault.status;
        if (fault.status === 0) {
          req.socket.destroy();
          return;
        }
        reply = {
          status: fault.status,
          body: fault.body ?? errorBody(fault.status, http.STATUS_CODES[fault.status] ?? "Error"),
          headers: fault.headers,
        };
      } else if (!route) {
        this.unknownRoutes.push(`${method} ${shownPath}`);
        throw notFound();
      } else {
        let body: Record<string, unknown> = {};
        if (rawBody.length > 0 && /^application\/x-www-form-urlencoded\b/.test(req.headers["content-type"] ?? "")) {
          // A browser's form post (the manifest flow's registration page).
          body = Object.fromEntries(new URLSearchParams(rawBody.toString("utf8")));
        } else if (rawBody.length > 0) {
          try {
            const parsed: unknown = JSON.parse(rawBody.toString("utf8"));
            body = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : { _: parsed };
          } catch {
            throw new HttpError(400, "Problems parsing JSON");
          }
        }
        if (route.route.name === GRAPHQL_ROUTE && typeof body.query === "string") {
          const named = /^\s*(?:query|mutation)\s+([_A-Za-z]\w*)/.exec(body.query);
          if (named) record.operation = named[1];
          if (body.variables && typeof body.variables === "object") record.variables = body.variables as Record<string, unknown>;
        }
        const ctx: Ctx = {
          req,
          method,
          path,
          query: url.searchParams,
          params: route.params,
          body,
          actor,
          linkBase: `http://${req.headers.host ?? this.host}${prefix}${path}`,
          repoState: undefined,
        };
        this.authorize(route.route, ctx);
        reply = route.route.handler(ctx);
      }
    } catch (err) {
      if (err instanceof HttpError) reply = { status: err.status, body: errorBody(err.status, err.message, err.extra) };
      else if (err instanceof GitError) reply = { status: 422, body: errorBody(422, err.message) };
      else reply = { status: 500, body: errorBody(500, err instanceof Error ? err.message : String(err)) };
    }

    const headers: Record<string, string> = {
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
    };
    let payload: Buffer | undefined;
    if (reply.raw !== undefined) {
      payload = reply.raw;
      headers["content-type"] = reply.contentType ?? "application/octet-stream";
    } else if (reply.body !== undefined) {
      payload = Buffer.from(JSON.stringify(reply.body));
      headers["content-type"] = "application/json; charset=utf-8";
    }
    Object.assign(headers, reply.headers ?? {});
    let status = reply.status;
    if (method === "GET" && status === 200 && payload !== undefined && !record.injected) {
      const etag = weakEtag([payload, headers.link ?? ""]);
      headers.etag = etag;
      headers["cache-control"] = "private, max-age=60, s-maxage=60";
      headers.vary = "Accept, Authorization, Cookie, X-GitHub-OTP";
      if (etagMatches(req.headers["if-none-match"], etag)) {
        status = 304;
        payload = undefined;
        delete headers["content-type"];
        record.notModified = true;
      }
    }
    const counted = !record.notModified && record.route !== "GET /rate_limit";
    const resource = record.route === GRAPHQL_ROUTE ? "graphql" : "core";
    Object.assign(headers, this.rateHeaders(actor, counted, resource), reply.headers ?? {});
    record.status = status;
    if (payload !== undefined) headers["content-length"] = String(payload.length);
    res.writeHead(status, headers);
    res.end(payload);
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.params.forEach((p, i) => {
        const v = m[i + 1] ?? "";
        try {
          params[p] = decodeURIComponent(v);
        } catch {
          params[p] = v;
        }
      });
      return { route, params };
    }
    return undefined;
  }

  private authenticate(req: http.IncomingMessage): Actor {
    const header = req.headers.authorization;
    if (!header) return { kind: "anonymous" };
    const m = /^(token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError(401, "Bad credentials");
    const value = m[2] as string;
    if ((m[1] as string).toLowerCase() === "bearer" && value.split(".").length === 3) {
      // Once an app was registered from a manifest, its JWTs must be signed with the key GitHub gave it.
      const key = this.manifests.appKey;
      const clientId = this.manifests.registrations.find((r) => r.converted)?.clientId ?? "";
      const problem = key && verifyAppJwt(value, key, [String(this.appId), clientId], this.now());
      if (problem) throw new HttpError(401, problem);
      return { kind: "app" };
    }
    const token = this.tokens.get(value);
    if (token) {
      if (token.expiresAt <= this.now()) throw new HttpError(401, "Bad credentials");
      return { kind: "installation", installationId: token.installationId, token };
    }
    if (value.startsWith("ghs_")) throw new HttpError(401, "Bad credentials");
    return { kind: "user", login: this.userLogin };
  }

  /** The actor a request authenticates as, `anonymous` when it would fail (its failure comes later). */
  private peekActor(req: http.IncomingMessage): string {
    try {
      return this.actorLabel(this.authenticate(req));
    } catch {
      return "anonymous";
    }
  }

  private actorLabel(actor: Actor): string {
    switch (actor.kind) {
      case "installation":
        return `installation:${actor.installationId}`;
      case "user":
        return `user:${actor.login}`;
      default:
        return actor.kind;
    }
  }

  private authorize(route: Route, ctx: Ctx): void {
    const { actor } = ctx;
    if (route.access === "any") return;
    if (route.access === "app") {
      if (actor.kind !== "app") throw new HttpError(401, "A JSON web token could not be decoded");
      return;
    }
    if (actor.kind === "anonymous") throw new HttpError(401, "Requires authentication");
    if (actor.kind === "app") throw new HttpError(403, "Resource not accessible by integration");
    if (route.access === "installation") {
      if (actor.kind !== "installation") throw new HttpError(403, "This endpoint requires an installation access token");
      return;
    }
    const repo = this.repos.get(`${ctx.params.owner}/${ctx.params.repo}`.toLowerCase());
    if (!repo) throw notFound();
    if (
      actor.kind === "installation" &&
      (repo.installationId !== actor.installationId || (actor.token.repoIds !== undefined && !actor.token.repoIds.has(repo.id)))
    ) {
      throw notFound();
    }
    if (repo.disabled) throw new HttpError(403, "Repository access blocked");
    if (repo.archived && WRITE_METHODS.has(ctx.method)) throw new HttpError(403, "Repository was archived so is read-only.");
    ctx.repoState = repo;
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => (f.method === "*" || f.method === method) && f.pattern.test(path));
    if (i < 0) return undefined;
    const fault = this.faults[i] as Fault;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(i, 1);
    return fault;
  }

  private rateHeaders(actor: Actor, counted: boolean, resource: "core" | "graphql" = "core"): Record<string, string> {
    const who =
      actor.kind === "installation" ? `installation:${actor.installationId}` : actor.kind === "user" ? `user:${actor.login}` : actor.kind;
    const key = resource === "core" ? who : `${resource}:${who}`;
    const limit = actor.kind === "anonymous" ? 60 : this.rateLimit;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { used: 0, resetAt: now + 3600_000 };
      this.buckets.set(key, bucket);
    }
    if (counted) bucket.used++;
    return {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - bucket.used)),
      "x-ratelimit-reset": String(Math.floor(bucket.resetAt / 1000)),
      "x-ratelimit-used": String(bucket.used),
      "x-ratelimit-resource": resource,
    };
  }

  private on(template: string, access: Access, handler: (ctx: Ctx) => Reply): void {
    const { method, name, regex, params } = compileRoute(template);
    this.routes.push({ method, name, regex, params, access, handler });
  }

  // -------------------------------------------------------------------------------------------
  // Internal helpers

  private ensureUser(login: string, type?: UserRecord["type"]): UserRecord {
    const key = login.toLowerCase();
    const existing = this.users.get(key);
    if (existing) return existing;
    const id = this.nextUserId++;
    const user: UserRecord = {
      login,
      id,
      type: type ?? (login.endsWith("[bot]") ? "Bot" : "User"),
      email: `${id}+${login}@users.noreply.github.com`,
    };
    this.users.set(key, user);
    this.usersByEmail.set(user.email.toLowerCase(), user);
    return user;
  }

  private identityFor(user: UserRecord, iso?: string): GitIdentity {
    return { name: user.login, email: user.email, ...identityTime(iso, this.now()) };
  }

  private actorUser(actor: Actor): UserRecord {
    if (actor.kind === "user") return this.ensureUser(actor.login);
    return this.bot;
  }

  private mustRepo(owner: string, name: string): RepoState {
    const repo = this.repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo) throw new Error(`no repo ${owner}/${name}`);
    return repo;
  }

  private mustRef(repo: RepoState, branch: string): string {
    const sha = repo.refs.get(`refs/heads/${branch}`);
    if (!sha) throw new Error(`no branch ${branch} in ${repo.fullName}`);
    return sha;
  }

  private handleFor(repo: RepoState): RepoHandle {
    return {
      id: repo.id,
      owner: repo.owner.login,
      name: repo.name,
      fullName: repo.fullName,
      installationId: repo.installationId,
      defaultBranch: repo.defaultBranch,
    };
  }

  private computeSize(repo: RepoState, tree: string): number {
    let bytes = 0;
    for (const e of repo.store.flatten(tree).values()) bytes += repo.store.blob(e.sha)?.data.length ?? 0;
    return Math.ceil(bytes / 1024);
  }

  private issueToken(installationId: number, repoIds: Set<number> | undefined, permissions?: Record<string, string>): TokenRecord {
    const token: TokenRecord = {
      token: `ghs_${randomBytes(18).toString("base64url")}`,
      installationId,
      expiresAt: this.now() + 3600_000,
      repoIds,
      permissions: permissions ?? this.tokenPermissions,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  /** Sets or deletes a ref; keeps pushed_at and open pull requests in step, like a push. */
  private setRef(repo: RepoState, ref: string, sha: string | null): void {
    if (sha === null) repo.refs.delete(ref);
    else repo.refs.set(ref, sha);
    if (!ref.startsWith("refs/heads/")) return;
    const branch = ref.slice("refs/heads/".length);
    const at = isoSeconds(this.now());
    repo.pushedAt = at;
    if (sha !== null && branch === repo.defaultBranch) {
      repo.sizeKb = this.computeSize(repo, (repo.store.commit(sha) as CommitObject).tree);
    }
    for (const item of repo.items.values()) {
      if (item.kind !== "pull" || item.state !== "open") continue;
      const pr = item as PullRecord;
      if (pr.head.ref === branch) {
        if (sha === null) this.closeItem(repo, pr, this.bot, "completed", false);
        else {
          pr.head.sha = sha;
          pr.updatedAt = at;
        }
      }
      if (pr.base.ref === branch && sha !== null) pr.base.sha = sha;
    }
  }

  private resolveCommitish(repo: RepoState, name: string): string | undefined {
    if (SHA_RE.test(name)) return repo.store.commit(name) ? name : undefined;
    for (const ref of [name, `refs/heads/${name}`, `refs/tags/${name}`, `refs/${name}`]) {
      const sha = repo.refs.get(ref);
      if (sha) return sha;
    }
    if (/^[0-9a-f]{7,39}$/.test(name)) {
      const found = repo.store.findByPrefix(name).filter((s) => repo.store.commit(s));
      if (found.length === 1) return found[0];
    }
    return undefined;
  }

  /** Commits reachable from `start`, newest committer date first. */
  private walk(repo: RepoState, start: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>([start]);
    const queue: CommitObject[] = [repo.store.commit(start) as CommitObject];
    while (queue.length > 0) {
      let best = 0;
      for (let i = 1; i < queue.length; i++) {
        const a = queue[i] as CommitObject;
        const b = queue[best] as CommitObject;
        if (a.committer.time > b.committer.time || (a.committer.time === b.committer.time && a.generation > b.generation)) best = i;
      }
      const c = queue.splice(best, 1)[0] as CommitObject;
      out.push(c.sha);
      for (const p of c.parents) {
        if (seen.has(p)) continue;
        seen.add(p);
        const pc = repo.store.commit(p);
        if (pc) queue.push(pc);
      }
    }
    return out;
  }

  private createIssueRecord(
    repo: RepoState,
    user: UserRecord,
    fields: { title: string; body: string | null; labels: string[]; assignees: string[] },
  ): IssueRecord {
    const at = isoSeconds(this.now());
    const issue: IssueRecord = {
      id: this.nextId++,
      number: repo.nextNumber++,
      kind: "issue",
      title: fields.title,
      body: fields.body,
      state: "open",
      stateReason: null,
      user: user.login,
      labels: [],
      assignees: [...new Set(fields.assignees)],
      locked: false,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      closedBy: null,
    };
    this.addLabels(repo, issue, fields.labels);
    repo.items.set(issue.number, issue);
    return issue;
  }

  private createPullRecord(
    repo: RepoState,
    user: UserRecord,
    fields: { head: string; base: string; title: string; body: string | null; draft: boolean; maintainerCanModify: boolean },
  ): PullRecord {
    let headRef = fields.head;
    const colon = headRef.indexOf(":");
    if (colon >= 0) {
      const headOwner = headRef.slice(0, colon);
      headRef = headRef.slice(colon + 1);
      if (headOwner.toLowerCase() !== repo.owner.login.toLowerCase()) {
        throw validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
      }
    }
    const headSha = repo.refs.get(`refs/heads/${headRef}`);
    if (!headSha) throw validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
    const baseSha = repo.refs.get(`refs/heads/${fields.base}`);
    if (!baseSha) throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
    for (const item of repo.items.values()) {
      if (item.kind === "pull" && item.state === "open") {
        const pr = item as PullRecord;
        if (pr.head.ref === headRef && pr.base.ref === fields.base) {
          throw validationFailed([
            { resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner.login}:${headRef}.` },
          ]);
        }
      }
    }
    if (repo.store.isAncestor(headSha, baseSha)) {
      throw validationFailed([{ resource: "PullRequest", code: "custom", message: `No commits between ${fields.base} and ${headRef}` }]);
    }
    const at = isoSeconds(this.now());
    const pr: PullRecord = {
      id: this.nextId++,
      number: repo.nextNumber++,
      kind: "pull",
      title: fields.title,
      body: fields.body,
      state: "open",
      stateReason: null,
      user: user.login,
      labels: [],
      assignees: [],
      locked: false,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      closedBy: null,
      head: { ref: headRef, sha: headSha },
      base: { ref: fields.base, sha: baseSha },
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      draft: fields.draft,
      maintainerCanModify: fields.maintainerCanModify,
      requestedReviewers: [],
      requestedTeams: [],
      autoMerge: null,
    };
    repo.items.set(pr.number, pr);
    return pr;
  }

  private closeItem(
    repo: RepoState,
    item: IssueRecord,
    by: UserRecord,
    reason: "completed" | "not_planned",
    touchRef = true,
  ): void {
    if (item.state === "closed") return;
    const at = isoSeconds(this.now());
    if (item.kind === "pull" && touchRef) {
      const pr = item as PullRecord;
      pr.head.sha = repo.refs.get(`refs/heads/${pr.head.ref}`) ?? pr.head.sha;
    }
    // GitHub drops an auto-merge request when its pull request closes.
    if (item.kind === "pull") (item as PullRecord).autoMerge = null;
    item.state = "closed";
    item.stateReason = item.kind === "pull" ? null : reason;
    item.closedAt = at;
    item.closedBy = by.login;
    item.updatedAt = at;
  }

  private reopenItem(repo: RepoState, item: IssueRecord): void {
    if (item.state === "open") return;
    if (item.kind === "pull") {
      const pr = item as PullRecord;
      if (pr.merged) throw validationFailed([{ resource: "PullRequest", code: "custom", message: "Cannot reopen a merged pull request" }]);
      const head = repo.refs.get(`refs/heads/${pr.head.ref}`);
      if (!head) throw validationFailed([{ resource: "PullRequest", code: "custom", message: "The head branch was deleted" }]);
      pr.head.sha = head;
      pr.base.sha = repo.refs.get(`refs/heads/${pr.base.ref}`) ?? pr.base.sha;
    }
    item.state = "open";
    item.stateReason = item.kind === "pull" ? null : "reopened";
    item.closedAt = null;
    item.closedBy = null;
    item.updatedAt = isoSeconds(this.now());
  }

  private ensureLabel(repo: RepoState, name: string): LabelRecord {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (!label) {
      label = { id: this.nextId++, name, color: "ededed", description: null };
      repo.labels.set(key, label);
    }
    return label;
  }

  private addLabels(repo: RepoState, item: IssueRecord, names: string[]): void {
    for (const name of names) {
      const label = this.ensureLabel(repo, name);
      if (!item.labels.some((l) => l.toLowerCase() === label.name.toLowerCase())) item.labels.push(label.name);
    }
  }

  private createComment(repo: RepoState, item: IssueRecord, user: UserRecord, body: string): CommentRecord {
    const at = isoSeconds(this.now());
    const comment: CommentRecord = {
      id: this.nextId++,
      issueNumber: item.number,
      body,
      user: user.login,
      createdAt: at,
      updatedAt: at,
      reactions: [],
    };
    const list = repo.comments.get(item.number) ?? [];
    list.push(comment);
    repo.comments.set(item.number, list);
    this.commentIndex.set(comment.id, { repo, comment });
    item.updatedAt = at;
    return comment;
  }

  private permissionOf(repo: RepoState, login: string): Permission {
    const set = repo.permissions.get(login.toLowerCase());
    if (set) return set;
    if (login.toLowerCase() === repo.owner.login.toLowerCase() && repo.owner.type === "User") return "admin";
    return repo.private ? "none" : "read";
  }

  // -------------------------------------------------------------------------------------------
  // JSON shapes

  private userJson(user: UserRecord | string): Record<string, unknown> {
    const u = typeof user === "string" ? this.ensureUser(user) : user;
    const api = this.apiUrl;
    const login = encodeURIComponent(u.login);
    return {
      login: u.login,
      id: u.id,
      node_id: Buffer.from(`04:${u.type}${u.id}`).toString("base64"),
      avatar_url: `https://avatars.githubusercontent.com/u/${u.id}?v=4`,
      gravatar_id: "",
      url: `${api}/users/${login}`,
      html_url: u.type === "Bot" ? `${this.url}/apps/${this.appSlug}` : `${this.url}/${login}`,
      followers_url: `${api}/users/${login}/followers`,
      repos_url: `${api}/users/${login}/repos`,
      type: u.type,
      user_view_type: "public",
      site_admin: false,
    };
  }

  private repoJson(repo: RepoState): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const openIssues = [...repo.items.values()].filter((i) => i.state === "open").length;
    return {
      id: repo.id,
      node_id: Buffer.from(`010:Repository${repo.id}`).toString("base64"),
      name: repo.name,
      full_name: repo.fullName,
      private: repo.private,
      owner: this.userJson(repo.owner),
      html_url: `${this.url}/${repo.fullName}`,
      description: repo.description,
      fork: repo.fork,
      url: api,
      git_refs_url: `${api}/git/refs{/sha}`,
      trees_url: `${api}/git/trees{/sha}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      contents_url: `${api}/contents/{+path}`,
      pulls_url: `${api}/pulls{/number}`,
      issues_url: `${api}/issues{/number}`,
      commits_url: `${api}/commits{/sha}`,
      created_at: repo.createdAt,
      updated_at: repo.updatedAt,
      pushed_at: repo.pushedAt,
      git_url: `git://${this.host}/${repo.fullName}.git`,
      clone_url: `${this.url}/${repo.fullName}.git`,
      homepage: null,
      size: repo.sizeKb,
      stargazers_count: 0,
      watchers_count: 0,
      language: repo.language,
      has_issues: true,
      has_projects: true,
      has_downloads: true,
      has_wiki: true,
      has_pages: false,
      has_discussions: false,
      forks_count: 0,
      mirror_url: null,
      archived: repo.archived,
      disabled: repo.disabled,
      open_issues_count: openIssues,
      license: null,
      allow_forking: true,
      is_template: false,
      web_commit_signoff_required: false,
      topics: repo.topics,
      visibility: repo.private ? "private" : "public",
      forks: 0,
      open_issues: openIssues,
      watchers: 0,
      default_branch: repo.defaultBranch,
      delete_branch_on_merge: repo.deleteBranchOnMerge,
      allow_merge_commit: repo.mergeMethods.merge,
      allow_squash_merge: repo.mergeMethods.squash,
      allow_rebase_merge: repo.mergeMethods.rebase,
      allow_auto_merge: repo.allowAutoMerge,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    };
  }

  private installationJson(inst: InstallationState): Record<string, unknown> {
    return {
      id: inst.id,
      account: this.userJson(inst.account),
      repository_selection: "all",
      access_tokens_url: `${this.apiUrl}/app/installations/${inst.id}/access_tokens`,
      repositories_url: `${this.apiUrl}/installation/repositories`,
      html_url: `${this.url}/organizations/${inst.account.login}/settings/installations/${inst.id}`,
      app_id: this.appId,
      app_slug: this.appSlug,
      target_id: inst.account.id,
      target_type: inst.account.type,
      permissions: this.tokenPermissions,
      events: ["push", "pull_request", "issues", "issue_comment", "installation", "installation_repositories"],
      created_at: inst.createdAt,
      updated_at: inst.createdAt,
      single_file_name: null,
      has_multiple_single_files: false,
      single_file_paths: [],
      suspended_by: null,
      suspended_at: null,
    };
  }

  private refJson(repo: RepoState, ref: string, sha: string): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const type = repo.store.get(sha)?.type ?? "commit";
    return {
      ref,
      node_id: Buffer.from(`03:Ref${repo.id}:${ref}`).toString("base64"),
      url: `${api}/git/${ref}`,
      object: { sha, type, url: `${api}/git/${type}s/${sha}` },
    };
  }

  private verificationJson(repo: RepoState, sha: string): Record<string, unknown> {
    const verified = repo.verified.has(sha);
    return {
      verified,
      reason: verified ? "valid" : "unsigned",
      signature: null,
      payload: null,
      verified_at: verified ? isoFromGit((repo.store.commit(sha) as CommitObject).committer) : null,
    };
  }

  private gitCommitJson(repo: RepoState, sha: string): Record<string, unknown> {
    const c = repo.store.commit(sha) as CommitObject;
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const id = (i: GitIdentity): Record<string, unknown> => ({ name: i.name, email: i.email, date: isoFromGit(i) });
    return {
      sha,
      node_id: Buffer.from(`04:Commit${repo.id}:${sha}`).toString("base64"),
      url: `${api}/git/commits/${sha}`,
      html_url: `${this.url}/${repo.fullName}/commit/${sha}`,
      author: id(c.author),
      committer: id(c.committer),
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      message: c.message,
      parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${this.url}/${repo.fullName}/commit/${p}` })),
      verification: this.verificationJson(repo, sha),
    };
  }

  /** The REST commits API shape (`GET /repos/{o}/{r}/commits/{ref}`); `withFiles` adds stats and files. */
  private restCommitJson(repo: RepoState, sha: string, withFiles: boolean): Record<string, unknown> {
    const c = repo.store.commit(sha) as CommitObject;
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const id = (i: GitIdentity): Record<string, unknown> => ({ name: i.name, email: i.email, date: isoFromGit(i) });
    const login = (i: GitIdentity): Record<string, unknown> | null => {
      const u = this.usersByEmail.get(i.email.toLowerCase());
      return u ? this.userJson(u) : null;
    };
    const out: Record<string, unknown> = {
      sha,
      node_id: Buffer.from(`04:Commit${repo.id}:${sha}`).toString("base64"),
      commit: {
        author: id(c.author),
        committer: id(c.committer),
        message: c.message,
        tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
        url: `${api}/git/commits/${sha}`,
        comment_count: 0,
        verification: this.verificationJson(repo, sha),
      },
      url: `${api}/commits/${sha}`,
      html_url: `${this.url}/${repo.fullName}/commit/${sha}`,
      comments_url: `${api}/commits/${sha}/comments`,
      author: login(c.author),
      committer: login(c.committer),
      parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${this.url}/${repo.fullName}/commit/${p}` })),
    };
    if (withFiles) {
      const parent = c.parents[0];
      const before = parent === undefined ? new Map<string, FileEntry>() : repo.store.flatten((repo.store.commit(parent) as CommitObject).tree);
      const after = repo.store.flatten(c.tree);
      const files: Record<string, unknown>[] = [];
      let additions = 0;
      let deletions = 0;
      for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const b = before.get(path);
        const a = after.get(path);
        if (b && a && b.sha === a.sha && b.mode === a.mode) continue;
        const delta = lineDelta(b && repo.store.blob(b.sha)?.data, a && repo.store.blob(a.sha)?.data);
        additions += delta.additions;
        deletions += delta.deletions;
        const fileSha = (a ?? b)?.sha;
        files.push({
          sha: fileSha,
          filename: path,
          status: !b ? "added" : !a ? "removed" : "modified",
          additions: delta.additions,
          deletions: delta.deletions,
          changes: delta.additions + delta.deletions,
          blob_url: `${this.url}/${repo.fullName}/blob/${sha}/${path}`,
          raw_url: `${this.url}/${repo.fullName}/raw/${sha}/${path}`,
          contents_url: `${api}/contents/${path}?ref=${sha}`,
        });
      }
      out.stats = { total: additions + deletions, additions, deletions };
      out.files = files;
    }
    return out;
  }

  private labelJson(repo: RepoState, name: string): Record<string, unknown> {
    const label = this.ensureLabel(repo, name);
    return {
      id: label.id,
      node_id: Buffer.from(`03:Label${label.id}`).toString("base64"),
      url: `${this.apiUrl}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      default: false,
      description: label.description,
    };
  }

  private authorAssociation(repo: RepoState, login: string): string {
    if (login.toLowerCase() === repo.owner.login.toLowerCase()) return "OWNER";
    const p = repo.permissions.get(login.toLowerCase());
    return p && p !== "none" ? "COLLABORATOR" : "NONE";
  }

  private issueJson(repo: RepoState, item: IssueRecord): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const isPull = item.kind === "pull";
    const html = `${this.url}/${repo.fullName}/${isPull ? "pull" : "issues"}/${item.number}`;
    const out: Record<string, unknown> = {
      url: `${api}/issues/${item.number}`,
      repository_url: api,
      labels_url: `${api}/issues/${item.number}/labels{/name}`,
      comments_url: `${api}/issues/${item.number}/comments`,
      events_url: `${api}/issues/${item.number}/events`,
      html_url: html,
      id: item.id,
      node_id: Buffer.from(`${isPull ? "011:PullRequest" : "05:Issue"}${item.id}`).toString("base64"),
      number: item.number,
      title: item.title,
      user: this.userJson(item.user),
      labels: item.labels.map((l) => this.labelJson(repo, l)),
      state: item.state,
      state_reason: item.stateReason,
      locked: item.locked,
      assignee: item.assignees[0] === undefined ? null : this.userJson(item.assignees[0]),
      assignees: item.assignees.map((a) => this.userJson(a)),
      milestone: null,
      comments: repo.comments.get(item.number)?.length ?? 0,
      created_at: item.createdAt,
      updated_at: item.updatedAt,
      closed_at: item.closedAt,
      author_association: this.authorAssociation(repo, item.user),
      active_lock_reason: null,
      body: item.body,
      closed_by: item.closedBy === null ? null : this.userJson(item.closedBy),
    };
    if (isPull) {
      out.draft = (item as PullRecord).draft;
      out.pull_request = {
        url: `${api}/pulls/${item.number}`,
        html_url: html,
        diff_url: `${html}.diff`,
        patch_url: `${html}.patch`,
        merged_at: (item as PullRecord).mergedAt,
      };
    }
    return out;
  }

  private pullJson(repo: RepoState, pr: PullRecord, full: boolean): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const html = `${this.url}/${repo.fullName}/pull/${pr.number}`;
    const repoJson = this.repoJson(repo);
    const owner = repo.owner.login;
    const out: Record<string, unknown> = {
      url: `${api}/pulls/${pr.number}`,
      id: pr.id,
      node_id: Buffer.from(`011:PullRequest${pr.id}`).toString("base64"),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pr.number}`,
      commits_url: `${api}/pulls/${pr.number}/commits`,
      review_comments_url: `${api}/pulls/${pr.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${pr.number}/comments`,
      statuses_url: `${api}/statuses/${pr.head.sha}`,
      number: pr.number,
      state: pr.state,
      locked: pr.locked,
      title: pr.title,
      user: this.userJson(pr.user),
      body: pr.body,
      labels: pr.labels.map((l) => this.labelJson(repo, l)),
      milestone: null,
      active_lock_reason: null,
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeCommitSha,
      assignee: pr.assignees[0] === undefined ? null : this.userJson(pr.assignees[0]),
      assignees: pr.assignees.map((a) => this.userJson(a)),
      requested_reviewers: pr.requestedReviewers.map((r) => this.userJson(r)),
      requested_teams: pr.requestedTeams.map((slug) => ({ slug, name: slug })),
      head: { label: `${owner}:${pr.head.ref}`, ref: pr.head.ref, sha: pr.head.sha, user: this.userJson(repo.owner), repo: repoJson },
      base: { label: `${owner}:${pr.base.ref}`, ref: pr.base.ref, sha: pr.base.sha, user: this.userJson(repo.owner), repo: repoJson },
      _links: {
        self: { href: `${api}/pulls/${pr.number}` },
        html: { href: html },
        issue: { href: `${api}/issues/${pr.number}` },
        comments: { href: `${api}/issues/${pr.number}/comments` },
      },
      author_association: this.authorAssociation(repo, pr.user),
      auto_merge: pr.autoMerge
        ? {
            enabled_by: this.userJson(pr.autoMerge.enabledBy),
            merge_method: pr.autoMerge.mergeMethod.toLowerCase(),
            commit_title: pr.autoMerge.commitHeadline,
            commit_message: pr.autoMerge.commitBody,
          }
        : null,
      draft: pr.draft,
    };
    if (full) {
      const store = repo.store;
      let mergeable: boolean | null = null;
      let commits = 0;
      let changed = 0;
      let additions = 0;
      let deletions = 0;
      if (store.commit(pr.head.sha) && store.commit(pr.base.sha)) {
        const mergeBase = store.mergeBase(pr.base.sha, pr.head.sha);
        const baseTree = mergeBase === undefined ? undefined : (store.commit(mergeBase) as CommitObject).tree;
        const headTree = (store.commit(pr.head.sha) as CommitObject).tree;
        if (pr.state === "open") {
          mergeable =
            store.isAncestor(pr.base.sha, pr.head.sha) ||
            !("conflicts" in store.mergeTrees(baseTree, (store.commit(pr.base.sha) as CommitObject).tree, headTree));
        }
        for (const sha of this.walk(repo, pr.head.sha)) {
          if (mergeBase !== undefined && store.isAncestor(sha, mergeBase)) continue;
          commits++;
        }
        const before = baseTree === undefined ? new Map<string, FileEntry>() : store.flatten(baseTree);
        const after = store.flatten(headTree);
        for (const path of new Set([...before.keys(), ...after.keys()])) {
          const b = before.get(path);
          const a = after.get(path);
          if (b?.sha === a?.sha && b?.mode === a?.mode) continue;
          changed++;
          const d = lineDelta(b && store.blob(b.sha)?.data, a && store.blob(a.sha)?.data);
          additions += d.additions;
          deletions += d.deletions;
        }
      }
      Object.assign(out, {
        merged: pr.merged,
        mergeable,
        rebaseable: mergeable,
        mergeable_state: pr.state !== "open" ? "unknown" : mergeable ? "clean" : "dirty",
        merged_by: pr.mergedBy === null ? null : this.userJson(pr.mergedBy),
        comments: repo.comments.get(pr.number)?.length ?? 0,
        review_comments: 0,
        maintainer_can_modify: pr.maintainerCanModify,
        commits,
        additions,
        deletions,
        changed_files: changed,
      });
    }
    return out;
  }

  private commentJson(repo: RepoState, c: CommentRecord): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const item = repo.items.get(c.issueNumber);
    const kind = item?.kind === "pull" ? "pull" : "issues";
    const summary: Record<string, unknown> = { url: `${api}/issues/comments/${c.id}/reactions`, total_count: c.reactions.length };
    for (const r of REACTIONS) summary[r] = c.reactions.filter((x) => x.content === r).length;
    return {
      url: `${api}/issues/comments/${c.id}`,
      html_url: `${this.url}/${repo.fullName}/${kind}/${c.issueNumber}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${c.issueNumber}`,
      id: c.id,
      node_id: Buffer.from(`012:IssueComment${c.id}`).toString("base64"),
      user: this.userJson(c.user),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: this.authorAssociation(repo, c.user),
      body: c.body,
      reactions: summary,
    };
  }

  private reactionJson(r: ReactionRecord): Record<string, unknown> {
    return {
      id: r.id,
      node_id: Buffer.from(`08:Reaction${r.id}`).toString("base64"),
      user: this.userJson(r.user),
      content: r.content,
      created_at: r.createdAt,
    };
  }

  private treeEntryJson(repo: RepoState, row: { path: string; mode: TreeMode; type: string; sha: string; size?: number }): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const out: Record<string, unknown> = { path: row.path, mode: row.mode, type: row.type, sha: row.sha };
    if (row.size !== undefined) out.size = row.size;
    if (row.type !== "commit") out.url = `${api}/git/${row.type}s/${row.sha}`;
    return out;
  }

  private contentJson(repo: RepoState, path: string, entry: FileEntry, ref: string, withContent: boolean): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.fullName}`;
    const type = entry.mode === "040000" ? "dir" : entry.mode === "120000" ? "symlink" : entry.mode === "160000" ? "submodule" : "file";
    const data = type === "file" || type === "symlink" ? repo.store.blob(entry.sha)?.data : undefined;
    const self = `${api}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const gitUrl = type === "dir" ? `${api}/git/trees/${entry.sha}` : type === "submodule" ? null : `${api}/git/blobs/${entry.sha}`;
    const html = `${this.url}/${repo.fullName}/${type === "dir" ? "tree" : "blob"}/${ref}/${path}`;
    const out: Record<string, unknown> = {
      type,
      size: data?.length ?? 0,
      name: path.split("/").pop() ?? path,
      path,
      sha: entry.sha,
      url: self,
      git_url: gitUrl,
      html_url: html,
      download_url: type === "file" ? `${this.url}/${repo.fullName}/raw/${ref}/${path}` : null,
      _links: { self, git: gitUrl, html },
    };
    if (type === "symlink" && data) out.target = data.toString("utf8");
    if (withContent && type === "file" && data) {
      if (data.length > ONE_MB) Object.assign(out, { content: "", encoding: "none" });
      else Object.assign(out, { content: wrappedBase64(data), encoding: "base64" });
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  private repoOf(ctx: Ctx): RepoState {
    if (!ctx.repoState) throw notFound();
    return ctx.repoState;
  }

  private itemOf(ctx: Ctx): IssueRecord {
    const item = this.repoOf(ctx).items.get(Number(ctx.params.number));
    if (!item) throw notFound();
    return item;
  }

  private pullOf(ctx: Ctx): PullRecord {
    const item = this.itemOf(ctx);
    if (item.kind !== "pull") throw notFound();
    return item as PullRecord;
  }

  private paged<T>(ctx: Ctx, items: readonly T[], map: (t: T) => unknown): Reply {
    const { page, link } = paginate(items, ctx.query, ctx.linkBase);
    return { status: 200, body: page.map(map), headers: link ? { link } : {} };
  }

  private fullRef(ref: string): string {
    return ref.startsWith("refs/") ? ref : `refs/${ref}`;
  }

  private registerRoutes(): void {
    // --- Registering an app from a manifest (browser pages, then the code exchange) -------------
    const register = (ctx: Ctx, owner: { login: string; type: "User" | "Organization" }): Reply => {
      const result = this.manifests.register(ctx.body, owner, ctx.query.get("state"));
      if ("problem" in result) throw new HttpError(422, result.problem);
      return { status: 302, headers: { location: result.location }, raw: Buffer.alloc(0), contentType: "text/html" };
    };
    this.on("POST /settings/apps/new", "any", (ctx) => register(ctx, { login: this.userLogin, type: "User" }));
    this.on("POST /organizations/{org}/settings/apps/new", "any", (ctx) => {
      this.ensureUser(ctx.params.org as string, "Organization");
      return register(ctx, { login: ctx.params.org as string, type: "Organization" });
    });
    this.on("POST /app-manifests/{code}/conversions", "any", (ctx) => {
      const r = this.manifests.convert(ctx.params.code as string);
      if (!r) throw notFound();
      const manifest = r.manifest;
      return {
        status: 201,
        body: {
          id: this.appId,
          slug: this.appSlug,
          node_id: Buffer.from(`03:App${this.appId}`).toString("base64"),
          client_id: r.clientId,
          owner: this.userJson(this.ensureUser(r.owner.login, r.owner.type)),
          name: typeof manifest.name === "string" ? manifest.name : this.appName,
          description: typeof manifest.description === "string" ? manifest.description : "",
          external_url: manifest.url,
          html_url: `${this.url}/apps/${this.appSlug}`,
          created_at: isoSeconds(r.createdAt),
          updated_at: isoSeconds(r.createdAt),
          permissions: { metadata: "read", ...(manifest.default_permissions as Record<string, string> | undefined) },
          events: manifest.default_events ?? [],
          installations_count: 0,
          client_secret: r.clientSecret,
          webhook_secret: r.webhookSecret,
          pem: r.pem,
        },
      };
    });

    // --- App ----------------------------------------------------------------------------------
    this.on("GET /app", "app", () => ({
      status: 200,
      body: {
        id: this.appId,
        slug: this.appSlug,
        node_id: Buffer.from(`03:App${this.appId}`).toString("base64"),
        client_id: `Iv1.${this.appId.toString(16).padStart(16, "0")}`,
        owner: this.userJson(this.ensureUser("digest-pin-maintainers", "Organization")),
        name: this.appName,
        description: "Pins container images to digests.",
        external_url: this.url,
        html_url: `${this.url}/apps/${this.appSlug}`,
        created_at: this.createdAt,
        updated_at: this.createdAt,
        permissions: this.tokenPermissions,
        events: ["push", "pull_request", "issues", "issue_comment"],
        installations_count: this.installations.size,
      },
    }));
    this.on("GET /app/installations", "app", (ctx) =>
      this.paged(ctx, [...this.installations.values()], (i) => this.installationJson(i)),
    );
    this.on("GET /app/installations/{installation_id#}", "app", (ctx) => {
      const inst = this.installations.get(Number(ctx.params.installation_id));
      if (!inst) throw notFound();
      return { status: 200, body: this.installationJson(inst) };
    });
    this.on("POST /app/installations/{installation_id#}/access_tokens", "app", (ctx) => {
      const installationId = Number(ctx.params.installation_id);
      const inst = this.installations.get(installationId);
      if (!inst) throw notFound();
      const names = Array.isArray(ctx.body.repositories) ? ctx.body.repositories.map(String) : undefined;
      const ids = Array.isArray(ctx.body.repository_ids) ? ctx.body.repository_ids.map(Number) : undefined;
      let scope: Set<number> | undefined;
      if (names || ids) {
        scope = new Set();
        for (const name of names ?? []) {
          const repo = inst.repos.find((r) => r.name.toLowerCase() === name.toLowerCase());
          if (!repo) throw new HttpError(422, `There is at least one repository that does not exist or is not accessible to the parent installation.`);
          scope.add(repo.id);
        }
        for (const id of ids ?? []) {
          if (!inst.repos.some((r) => r.id === id)) throw new HttpError(422, `There is at least one repository that does not exist or is not accessible to the parent installation.`);
          scope.add(id);
        }
      }
      const permissions =
        ctx.body.permissions && typeof ctx.body.permissions === "object" ? (ctx.body.permissions as Record<string, string>) : undefined;
      const token = this.issueToken(installationId, scope, permissions);
      this.tokenRequests.push({
        installationId,
        token: token.token,
        ...(names ? { repositories: names } : {}),
        ...(ids ? { repositoryIds: ids } : {}),
        ...(permissions ? { permissions } : {}),
        at: this.now(),
      });
      const body: Record<string, unknown> = {
        token: token.token,
        expires_at: isoSeconds(token.expiresAt),
        permissions: token.permissions,
        repository_selection: scope ? "selected" : "all",
      };
      if (scope) body.repositories = inst.repos.filter((r) => scope.has(r.id)).map((r) => this.repoJson(r));
      return { status: 201, body };
    });
    this.on("GET /repos/{owner}/{repo}/installation", "app", (ctx) => {
      const repo = this.repos.get(`${ctx.params.owner}/${ctx.params.repo}`.toLowerCase());
      const inst = repo && this.installations.get(repo.installationId);
      if (!inst) throw notFound();
      return { status: 200, body: this.installationJson(inst) };
    });
    const accountInstallation = (ctx: Ctx): Reply => {
      const login = (ctx.params.account ?? "").toLowerCase();
      const inst = [...this.installations.values()].find((i) => i.account.login.toLowerCase() === login);
      if (!inst) throw notFound();
      return { status: 200, body: this.installationJson(inst) };
    };
    this.on("GET /orgs/{account}/installation", "app", accountInstallation);
    this.on("GET /users/{account}/installation", "app", accountInstallation);
    // Public profiles, bots included (`/users/<slug>[bot]`: how an app learns its bot account's id).
    this.on("GET /users/{username}", "any", (ctx) => {
      const user = this.users.get((ctx.params.username ?? "").toLowerCase());
      if (!user) throw notFound();
      return { status: 200, body: this.userJson(user) };
    });

    this.on("GET /installation/repositories", "installation", (ctx) => {
      const actor = ctx.actor as Extract<Actor, { kind: "installation" }>;
      const inst = this.installations.get(actor.installationId);
      if (!inst) throw notFound();
      const scope = actor.token.repoIds;
      const repos = scope ? inst.repos.filter((r) => scope.has(r.id)) : inst.repos;
      const { page, link } = paginate(repos, ctx.query, ctx.linkBase);
      return {
        status: 200,
        body: { total_count: repos.length, repository_selection: scope ? "selected" : "all", repositories: page.map((r) => this.repoJson(r)) },
        headers: link ? { link } : undefined,
      };
    });

    this.on("GET /rate_limit", "any", (ctx) => {
      const headers = this.rateHeaders(ctx.actor, false);
      const core = {
        limit: Number(headers["x-ratelimit-limit"]),
        remaining: Number(headers["x-ratelimit-remaining"]),
        reset: Number(headers["x-ratelimit-reset"]),
        used: Number(headers["x-ratelimit-used"]),
        resource: "core",
      };
      return { status: 200, body: { resources: { core }, rate: core } };
    });

    // --- GraphQL --------------------------------------------------------------------------------
    this.on(GRAPHQL_ROUTE, "any", (ctx) => this.graphql(ctx));

    // --- Repositories ---------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}", "repo", (ctx) => ({ status: 200, body: this.repoJson(this.repoOf(ctx)) }));

    this.on("GET /repos/{owner}/{repo}/collaborators/{username}/permission", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const user = this.ensureUser(ctx.params.username ?? "");
      const role = this.permissionOf(repo, user.login);
      const legacy = role === "maintain" ? "write" : role === "triage" ? "read" : role;
      return {
        status: 200,
        body: { permission: legacy, role_name: role, user: { ...this.userJson(user), permissions: {
          admin: role === "admin",
          maintain: role === "admin" || role === "maintain",
          push: ["admin", "maintain", "write"].includes(role),
          triage: role !== "read" && role !== "none",
          pull: role !== "none",
        }, role_name: role } },
      };
    });

    // --- Refs -----------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/git/ref/{ref+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const ref = this.fullRef(ctx.params.ref ?? "");
      const sha = repo.refs.get(ref);
      if (!sha) throw notFound();
      return { status: 200, body: this.refJson(repo, ref, sha) };
    });
    const matching = (ctx: Ctx): Reply => {
      const repo = this.repoOf(ctx);
      const prefix = this.fullRef(ctx.params.ref ?? "");
      const refs = [...repo.refs.entries()].filter(([r]) => r.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return this.paged(ctx, refs, ([r, sha]) => this.refJson(repo, r, sha));
    };
    this.on("GET /repos/{owner}/{repo}/git/matching-refs/{ref+}", "repo", matching);
    this.on("GET /repos/{owner}/{repo}/git/matching-refs", "repo", matching);
    this.on("POST /repos/{owner}/{repo}/git/refs", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const ref = str(ctx.body, "ref");
      const sha = str(ctx.body, "sha");
      if (ref === undefined || sha === undefined) throw new HttpError(422, "Invalid request.\n\n\"ref\" and \"sha\" are required.");
      if (!isValidRefName(ref)) throw new HttpError(422, "Reference name is invalid");
      if (!repo.store.has(sha)) throw new HttpError(422, "Object does not exist");
      if (ref.startsWith("refs/heads/") && !repo.store.commit(sha)) throw new HttpError(422, "Object is not a commit");
      if (repo.refs.has(ref)) throw new HttpError(422, "Reference already exists");
      this.setRef(repo, ref, sha);
      return { status: 201, body: this.refJson(repo, ref, sha), headers: { location: `${this.apiUrl}/repos/${repo.fullName}/git/${ref}` } };
    });
    this.on("PATCH /repos/{owner}/{repo}/git/refs/{ref+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const ref = this.fullRef(ctx.params.ref ?? "");
      const sha = str(ctx.body, "sha");
      if (sha === undefined) throw new HttpError(422, "Invalid request.\n\n\"sha\" wasn't supplied.");
      const current = repo.refs.get(ref);
      if (!current) throw new HttpError(422, "Reference does not exist");
      if (!repo.store.has(sha)) throw new HttpError(422, "Object does not exist");
      if (ref.startsWith("refs/heads/") && !repo.store.commit(sha)) throw new HttpError(422, "Object is not a commit");
      if (ctx.body.force !== true && !repo.store.isAncestor(current, sha)) throw new HttpError(422, "Update is not a fast forward");
      this.setRef(repo, ref, sha);
      return { status: 200, body: this.refJson(repo, ref, sha) };
    });
    this.on("DELETE /repos/{owner}/{repo}/git/refs/{ref+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const ref = this.fullRef(ctx.params.ref ?? "");
      if (!repo.refs.has(ref)) throw new HttpError(422, "Reference does not exist");
      this.setRef(repo, ref, null);
      return { status: 204 };
    });

    // --- Branches -------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/branches", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const api = `${this.apiUrl}/repos/${repo.fullName}`;
      const branches = [...repo.refs.entries()]
        .filter(([r]) => r.startsWith("refs/heads/"))
        .map(([r, sha]) => ({ name: r.slice("refs/heads/".length), sha }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return this.paged(ctx, branches, (b) => ({ name: b.name, commit: { sha: b.sha, url: `${api}/commits/${b.sha}` }, protected: false }));
    });
    this.on("GET /repos/{owner}/{repo}/branches/{branch+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const name = ctx.params.branch ?? "";
      const sha = repo.refs.get(`refs/heads/${name}`);
      if (!sha) throw new HttpError(404, "Branch not found");
      const api = `${this.apiUrl}/repos/${repo.fullName}`;
      return {
        status: 200,
        body: {
          name,
          commit: this.restCommitJson(repo, sha, false),
          _links: { self: `${api}/branches/${name}`, html: `${this.url}/${repo.fullName}/tree/${name}` },
          protected: false,
          protection: { enabled: false, required_status_checks: { enforcement_level: "off", contexts: [], checks: [] } },
          protection_url: `${api}/branches/${name}/protection`,
        },
      };
    });

    // --- Trees ----------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/git/trees/{tree_sha+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const spec = ctx.params.tree_sha ?? "";
      let treeSha: string | undefined;
      if (repo.store.tree(spec)) treeSha = spec;
      else {
        const commit = this.resolveCommitish(repo, spec);
        if (commit) treeSha = (repo.store.commit(commit) as CommitObject).tree;
      }
      if (!treeSha) throw notFound();
      const api = `${this.apiUrl}/repos/${repo.fullName}`;
      if (ctx.query.has("recursive")) {
        const { entries, truncated } = repo.store.listRecursive(treeSha, repo.truncateTreesOver ?? 100_000);
        return {
          status: 200,
          body: { sha: treeSha, url: `${api}/git/trees/${treeSha}`, tree: entries.map((e) => this.treeEntryJson(repo, e)), truncated },
        };
      }
      const tree = repo.store.tree(treeSha);
      return {
        status: 200,
        body: {
          sha: treeSha,
          url: `${api}/git/trees/${treeSha}`,
          tree: (tree?.entries ?? []).map((e) => this.treeEntryJson(repo, repo.store.listed(e.name, e))),
          truncated: false,
        },
      };
    });
    this.on("POST /repos/{owner}/{repo}/git/trees", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const store = repo.store;
      const entries = ctx.body.tree;
      if (!Array.isArray(entries)) throw new HttpError(422, "Invalid request.\n\n\"tree\" wasn't supplied.");
      const base = ctx.body.base_tree;
      if (base !== undefined && base !== null && (typeof base !== "string" || !store.tree(base))) {
        throw new HttpError(422, "base_tree is not a valid tree oid");
      }
      const changes: TreeChange[] = [];
      for (const raw of entries as unknown[]) {
        if (!raw || typeof raw !== "object") throw new HttpError(422, "Invalid tree info");
        const e = raw as Record<string, unknown>;
        const path = typeof e.path === "string" ? e.path : "";
        const mode = e.mode as TreeMode;
        if (path === "" || path.startsWith("/") || path.endsWith("/") || path.split("/").some((c) => c === "" || c === "." || c === ".." || c.toLowerCase() === ".git")) {
          throw new HttpError(422, `tree.path contains a malformed path component`);
        }
        if (!TREE_MODES.includes(mode)) throw new HttpError(422, `Invalid tree info: mode ${String(e.mode)} is not valid`);
        const expectedType = typeForMode(mode);
        if (e.type !== undefined && e.type !== expectedType) throw new HttpError(422, `Invalid tree info: type ${String(e.type)} does not match mode ${mode}`);
        const hasSha = "sha" in e;
        const hasContent = typeof e.content === "string";
        if (hasSha && hasContent) throw new HttpError(422, "Invalid tree info: only one of sha and content may be given");
        if (hasSha && e.sha === null) {
          changes.push({ path, entry: null });
          continue;
        }
        if (hasContent) {
          if (expectedType !== "blob") throw new HttpError(422, "Invalid tree info: content is only allowed for blobs");
          changes.push({ path, entry: { mode, sha: store.writeBlob(Buffer.from(e.content as string, "utf8")) } });
          continue;
        }
        const sha = typeof e.sha === "string" ? e.sha : "";
        if (!SHA_RE.test(sha)) throw new HttpError(422, `tree.sha ${sha} is not a valid ${expectedType}`);
        if (expectedType !== "commit" && store.get(sha)?.type !== expectedType) {
          throw new HttpError(422, `tree.sha ${sha} is not a valid ${expectedType}`);
        }
        changes.push({ path, entry: { mode, sha } });
      }
      const sha = store.buildTree(typeof base === "string" ? base : undefined, changes);
      const api = `${this.apiUrl}/repos/${repo.fullName}`;
      const tree = store.tree(sha);
      return {
        status: 201,
        body: {
          sha,
          url: `${api}/git/trees/${sha}`,
          tree: (tree?.entries ?? []).map((e) => this.treeEntryJson(repo, store.listed(e.name, e))),
          truncated: false,
        },
      };
    });

    // --- Blobs ----------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const sha = ctx.params.file_sha ?? "";
      const blob = repo.store.blob(sha);
      if (!blob) throw notFound();
      if (/vnd\.github(\.v3)?\.raw/.test(ctx.req.headers.accept ?? "")) {
        return { status: 200, raw: blob.data, contentType: "application/vnd.github.raw" };
      }
      return {
        status: 200,
        body: {
          sha,
          node_id: Buffer.from(`04:Blob${repo.id}:${sha}`).toString("base64"),
          size: blob.data.length,
          url: `${this.apiUrl}/repos/${repo.fullName}/git/blobs/${sha}`,
          content: wrappedBase64(blob.data),
          encoding: "base64",
        },
      };
    });
    this.on("POST /repos/{owner}/{repo}/git/blobs", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const content = str(ctx.body, "content");
      if (content === undefined) throw new HttpError(422, "Invalid request.\n\n\"content\" wasn't supplied.");
      const encoding = str(ctx.body, "encoding") ?? "utf-8";
      let data: Buffer;
      if (encoding === "base64") data = Buffer.from(content, "base64");
      else if (encoding === "utf-8" || encoding === "utf8") data = Buffer.from(content, "utf8");
      else throw new HttpError(422, `encoding must be utf-8 or base64`);
      const sha = repo.store.writeBlob(data);
      return { status: 201, body: { sha, url: `${this.apiUrl}/repos/${repo.fullName}/git/blobs/${sha}` } };
    });

    // --- Commits --------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const sha = ctx.params.commit_sha ?? "";
      if (!repo.store.commit(sha)) throw notFound();
      return { status: 200, body: this.gitCommitJson(repo, sha) };
    });
    this.on("POST /repos/{owner}/{repo}/git/commits", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const message = str(ctx.body, "message");
      const tree = str(ctx.body, "tree");
      if (message === undefined || tree === undefined) throw new HttpError(422, "Invalid request.\n\n\"message\" and \"tree\" are required.");
      if (!repo.store.tree(tree)) throw new HttpError(422, "Tree SHA does not exist");
      const parents = ctx.body.parents === undefined ? [] : ctx.body.parents;
      if (!Array.isArray(parents) || parents.some((p) => typeof p !== "string" || !repo.store.commit(p))) {
        throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
      }
      const person = (v: unknown): { name: string; email: string; date?: string } | undefined => {
        if (v === undefined || v === null) return undefined;
        const o = v as Record<string, unknown>;
        if (typeof o.name !== "string" || typeof o.email !== "string") throw new HttpError(422, "Invalid request.\n\nauthor/committer need name and email.");
        return { name: o.name, email: o.email, ...(typeof o.date === "string" ? { date: o.date } : {}) };
      };
      const authorIn = person(ctx.body.author);
      const committerIn = person(ctx.body.committer);
      const actorId = this.identityFor(this.actorUser(ctx.actor));
      const author: GitIdentity = authorIn
        ? { name: authorIn.name, email: authorIn.email, ...identityTime(authorIn.date, this.now()) }
        : actorId;
      const committer: GitIdentity = committerIn
        ? { name: committerIn.name, email: committerIn.email, ...identityTime(committerIn.date, this.now()) }
        : authorIn
          ? author
          : actorId;
      const sha = repo.store.writeCommit({ tree, parents: parents as string[], author, committer, message });
      // GitHub signs an app's commit only without custom author, committer or signature information.
      if (ctx.actor.kind === "installation" && !authorIn && !committerIn && ctx.body.signature === undefined) repo.verified.add(sha);
      return { status: 201, body: this.gitCommitJson(repo, sha) };
    });
    this.on("GET /repos/{owner}/{repo}/commits", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const start = this.resolveCommitish(repo, ctx.query.get("sha") ?? repo.defaultBranch);
      if (!start) throw notFound();
      let shas = this.walk(repo, start);
      const path = ctx.query.get("path");
      if (path) {
        const p = normalizePath(path);
        const at = (sha: string | undefined): string | undefined =>
          sha === undefined ? undefined : repo.store.lookup((repo.store.commit(sha) as CommitObject).tree, p)?.sha;
        shas = shas.filter((sha) => at(sha) !== at(repo.store.commit(sha)?.parents[0]));
      }
      const author = ctx.query.get("author");
      if (author) {
        const user = this.users.get(author.toLowerCase());
        shas = shas.filter((sha) => {
          const email = (repo.store.commit(sha) as CommitObject).author.email.toLowerCase();
          return user ? email === user.email.toLowerCase() : email === author.toLowerCase();
        });
      }
      return this.paged(ctx, shas, (sha) => this.restCommitJson(repo, sha, false));
    });
    this.on("GET /repos/{owner}/{repo}/commits/{ref+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const ref = ctx.params.ref ?? "";
      const sha = this.resolveCommitish(repo, ref);
      if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
      return { status: 200, body: this.restCommitJson(repo, sha, true) };
    });

    // --- Contents -------------------------------------------------------------------------------
    const contents = (ctx: Ctx): Reply => {
      const repo = this.repoOf(ctx);
      const ref = ctx.query.get("ref") || repo.defaultBranch;
      const commit = this.resolveCommitish(repo, ref);
      if (!commit) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const path = normalizePath(ctx.params.path ?? "");
      const root = (repo.store.commit(commit) as CommitObject).tree;
      const entry = repo.store.lookup(root, path);
      if (!entry) throw notFound();
      const raw = /vnd\.github(\.v3)?\.raw/.test(ctx.req.headers.accept ?? "");
      if (entry.mode === "040000") {
        const tree = repo.store.tree(entry.sha);
        return {
          status: 200,
          body: (tree?.entries ?? []).map((e) => this.contentJson(repo, path === "" ? e.name : `${path}/${e.name}`, e, ref, false)),
        };
      }
      if (raw && entry.mode !== "160000") {
        return { status: 200, raw: repo.store.blob(entry.sha)?.data ?? Buffer.alloc(0), contentType: "text/plain; charset=utf-8" };
      }
      return { status: 200, body: this.contentJson(repo, path, entry, ref, true) };
    };
    this.on("GET /repos/{owner}/{repo}/contents", "repo", contents);
    this.on("GET /repos/{owner}/{repo}/contents/{path+}", "repo", contents);

    // --- Pulls ----------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/pulls", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const state = ctx.query.get("state") ?? "open";
      const head = ctx.query.get("head");
      const base = ctx.query.get("base");
      let headOwner: string | undefined;
      let headRef: string | undefined;
      if (head) {
        const colon = head.indexOf(":");
        headOwner = colon >= 0 ? head.slice(0, colon).toLowerCase() : undefined;
        headRef = colon >= 0 ? head.slice(colon + 1) : head;
      }
      const pulls = this.sortItems(
        ctx,
        [...repo.items.values()].filter((i): i is PullRecord => {
          if (i.kind !== "pull") return false;
          const pr = i as PullRecord;
          if (state !== "all" && pr.state !== state) return false;
          if (headOwner !== undefined && headOwner !== repo.owner.login.toLowerCase()) return false;
          if (headRef !== undefined && pr.head.ref !== headRef) return false;
          if (base && pr.base.ref !== base) return false;
          return true;
        }),
      );
      return this.paged(ctx, pulls, (pr) => this.pullJson(repo, pr, false));
    });
    this.on("GET /repos/{owner}/{repo}/pulls/{number#}", "repo", (ctx) => ({
      status: 200,
      body: this.pullJson(this.repoOf(ctx), this.pullOf(ctx), true),
    }));
    this.on("POST /repos/{owner}/{repo}/pulls", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const title = str(ctx.body, "title");
      const head = str(ctx.body, "head");
      const base = str(ctx.body, "base");
      if (head === undefined || base === undefined) throw validationFailed([{ resource: "PullRequest", field: head === undefined ? "head" : "base", code: "missing_field" }]);
      if (title === undefined) throw validationFailed([{ resource: "PullRequest", field: "title", code: "missing_field" }]);
      checkBodyLength(str(ctx.body, "body"));
      const pr = this.createPullRecord(repo, this.actorUser(ctx.actor), {
        head,
        base,
        title,
        body: str(ctx.body, "body") ?? null,
        draft: ctx.body.draft === true,
        maintainerCanModify: ctx.body.maintainer_can_modify !== false,
      });
      return { status: 201, body: this.pullJson(repo, pr, true), headers: { location: `${this.apiUrl}/repos/${repo.fullName}/pulls/${pr.number}` } };
    });
    this.on("PATCH /repos/{owner}/{repo}/pulls/{number#}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const pr = this.pullOf(ctx);
      const title = str(ctx.body, "title");
      checkBodyLength(str(ctx.body, "body"));
      if (title !== undefined) pr.title = title;
      if ("body" in ctx.body) pr.body = str(ctx.body, "body") ?? null;
      if (typeof ctx.body.maintainer_can_modify === "boolean") pr.maintainerCanModify = ctx.body.maintainer_can_modify;
      const base = str(ctx.body, "base");
      if (base !== undefined) {
        const sha = repo.refs.get(`refs/heads/${base}`);
        if (!sha) throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
        pr.base = { ref: base, sha };
      }
      const state = str(ctx.body, "state");
      if (state === "closed") this.closeItem(repo, pr, this.actorUser(ctx.actor), "completed");
      else if (state === "open") this.reopenItem(repo, pr);
      else if (state !== undefined) throw validationFailed([{ resource: "PullRequest", field: "state", code: "invalid" }]);
      pr.updatedAt = isoSeconds(this.now());
      return { status: 200, body: this.pullJson(repo, pr, true) };
    });
    this.on("GET /repos/{owner}/{repo}/pulls/{number#}/merge", "repo", (ctx) => {
      if (!this.pullOf(ctx).merged) throw notFound();
      return { status: 204 };
    });
    this.on("GET /repos/{owner}/{repo}/pulls/{number#}/requested_reviewers", "repo", (ctx) => {
      const pr = this.pullOf(ctx);
      return {
        status: 200,
        body: { users: pr.requestedReviewers.map((r) => this.userJson(r)), teams: pr.requestedTeams.map((slug) => ({ slug, name: slug })) },
      };
    });
    this.on("POST /repos/{owner}/{repo}/pulls/{number#}/requested_reviewers", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const pr = this.pullOf(ctx);
      const reviewers = stringList(ctx.body.reviewers);
      const teams = stringList(ctx.body.team_reviewers);
      if (reviewers.some((r) => r.toLowerCase() === pr.user.toLowerCase())) {
        throw new HttpError(422, "Review cannot be requested from pull request author.");
      }
      for (const r of reviewers) {
        const login = this.ensureUser(r).login;
        if (!pr.requestedReviewers.includes(login)) pr.requestedReviewers.push(login);
      }
      for (const t of teams) if (!pr.requestedTeams.includes(t)) pr.requestedTeams.push(t);
      return { status: 201, body: this.pullJson(repo, pr, false) };
    });

    // --- Issues ---------------------------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/issues", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const state = ctx.query.get("state") ?? "open";
      const creator = ctx.query.get("creator")?.toLowerCase();
      const assignee = ctx.query.get("assignee")?.toLowerCase();
      const labels = (ctx.query.get("labels") ?? "")
        .split(",")
        .map((l) => l.trim().toLowerCase())
        .filter((l) => l !== "");
      const items = this.sortItems(
        ctx,
        [...repo.items.values()].filter((i) => {
          if (state !== "all" && i.state !== state) return false;
          if (creator && i.user.toLowerCase() !== creator) return false;
          if (assignee === "none" && i.assignees.length > 0) return false;
          if (assignee && assignee !== "none" && assignee !== "*" && !i.assignees.some((a) => a.toLowerCase() === assignee)) return false;
          if (assignee === "*" && i.assignees.length === 0) return false;
          return labels.every((l) => i.labels.some((x) => x.toLowerCase() === l));
        }),
      );
      return this.paged(ctx, items, (i) => this.issueJson(repo, i));
    });
    this.on("POST /repos/{owner}/{repo}/issues", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const title = str(ctx.body, "title");
      if (title === undefined || title === "") throw validationFailed([{ resource: "Issue", field: "title", code: "missing_field" }]);
      checkBodyLength(str(ctx.body, "body"));
      const issue = this.createIssueRecord(repo, this.actorUser(ctx.actor), {
        title,
        body: str(ctx.body, "body") ?? null,
        labels: stringList(ctx.body.labels),
        assignees: [...stringList(ctx.body.assignees), ...(typeof ctx.body.assignee === "string" ? [ctx.body.assignee] : [])],
      });
      return { status: 201, body: this.issueJson(repo, issue), headers: { location: `${this.apiUrl}/repos/${repo.fullName}/issues/${issue.number}` } };
    });
    this.on("GET /repos/{owner}/{repo}/issues/{number#}", "repo", (ctx) => ({
      status: 200,
      body: this.issueJson(this.repoOf(ctx), this.itemOf(ctx)),
    }));
    this.on("PATCH /repos/{owner}/{repo}/issues/{number#}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const item = this.itemOf(ctx);
      const title = str(ctx.body, "title");
      checkBodyLength(str(ctx.body, "body"));
      if (title !== undefined) item.title = title;
      if ("body" in ctx.body) item.body = str(ctx.body, "body") ?? null;
      if (Array.isArray(ctx.body.labels)) {
        item.labels = [];
        this.addLabels(repo, item, stringList(ctx.body.labels));
      }
      if (Array.isArray(ctx.body.assignees)) item.assignees = [...new Set(stringList(ctx.body.assignees))];
      const state = str(ctx.body, "state");
      if (state === "closed") {
        const reason = str(ctx.body, "state_reason") === "not_planned" ? "not_planned" : "completed";
        this.closeItem(repo, item, this.actorUser(ctx.actor), reason);
      } else if (state === "open") this.reopenItem(repo, item);
      else if (state !== undefined) throw validationFailed([{ resource: "Issue", field: "state", code: "invalid" }]);
      item.updatedAt = isoSeconds(this.now());
      return { status: 200, body: this.issueJson(repo, item) };
    });
    this.on("GET /repos/{owner}/{repo}/issues/{number#}/labels", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      return this.paged(ctx, this.itemOf(ctx).labels, (l) => this.labelJson(repo, l));
    });
    const addLabels = (replace: boolean) => (ctx: Ctx): Reply => {
      const repo = this.repoOf(ctx);
      const item = this.itemOf(ctx);
      const names = Array.isArray(ctx.body._) ? stringList(ctx.body._) : stringList(ctx.body.labels);
      if (replace) item.labels = [];
      this.addLabels(repo, item, names);
      item.updatedAt = isoSeconds(this.now());
      return { status: 200, body: item.labels.map((l) => this.labelJson(repo, l)) };
    };
    this.on("POST /repos/{owner}/{repo}/issues/{number#}/labels", "repo", addLabels(false));
    this.on("PUT /repos/{owner}/{repo}/issues/{number#}/labels", "repo", addLabels(true));
    this.on("DELETE /repos/{owner}/{repo}/issues/{number#}/labels/{name+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const item = this.itemOf(ctx);
      const name = (ctx.params.name ?? "").toLowerCase();
      const i = item.labels.findIndex((l) => l.toLowerCase() === name);
      if (i < 0) throw new HttpError(404, "Label does not exist");
      item.labels.splice(i, 1);
      return { status: 200, body: item.labels.map((l) => this.labelJson(repo, l)) };
    });
    this.on("GET /repos/{owner}/{repo}/labels/{name+}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const label = repo.labels.get((ctx.params.name ?? "").toLowerCase());
      if (!label) throw notFound();
      return { status: 200, body: this.labelJson(repo, label.name) };
    });
    this.on("POST /repos/{owner}/{repo}/labels", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const name = str(ctx.body, "name");
      if (!name) throw validationFailed([{ resource: "Label", field: "name", code: "missing_field" }]);
      if (repo.labels.has(name.toLowerCase())) throw validationFailed([{ resource: "Label", field: "name", code: "already_exists" }]);
      const label = this.ensureLabel(repo, name);
      label.color = (str(ctx.body, "color") ?? "ededed").replace(/^#/, "");
      label.description = str(ctx.body, "description") ?? null;
      return { status: 201, body: this.labelJson(repo, name) };
    });
    this.on("POST /repos/{owner}/{repo}/issues/{number#}/assignees", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const item = this.itemOf(ctx);
      for (const a of stringList(ctx.body.assignees)) {
        const login = this.ensureUser(a).login;
        if (!item.assignees.includes(login)) item.assignees.push(login);
      }
      item.updatedAt = isoSeconds(this.now());
      return { status: 201, body: this.issueJson(repo, item) };
    });

    // --- Comments and reactions -----------------------------------------------------------------
    this.on("GET /repos/{owner}/{repo}/issues/{number#}/comments", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const item = this.itemOf(ctx);
      return this.paged(ctx, repo.comments.get(item.number) ?? [], (c) => this.commentJson(repo, c));
    });
    this.on("POST /repos/{owner}/{repo}/issues/{number#}/comments", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const body = str(ctx.body, "body");
      if (body === undefined || body === "") throw validationFailed([{ resource: "IssueComment", field: "body", code: "missing_field" }]);
      checkBodyLength(body, "IssueComment");
      const comment = this.createComment(repo, this.itemOf(ctx), this.actorUser(ctx.actor), body);
      return { status: 201, body: this.commentJson(repo, comment), headers: { location: `${this.apiUrl}/repos/${repo.fullName}/issues/comments/${comment.id}` } };
    });
    const commentOf = (ctx: Ctx): CommentRecord => {
      const found = this.commentIndex.get(Number(ctx.params.comment_id));
      if (!found || found.repo !== this.repoOf(ctx)) throw notFound();
      return found.comment;
    };
    this.on("GET /repos/{owner}/{repo}/issues/comments/{comment_id#}", "repo", (ctx) => ({
      status: 200,
      body: this.commentJson(this.repoOf(ctx), commentOf(ctx)),
    }));
    this.on("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id#}", "repo", (ctx) => {
      const comment = commentOf(ctx);
      const body = str(ctx.body, "body");
      if (body === undefined) throw validationFailed([{ resource: "IssueComment", field: "body", code: "missing_field" }]);
      checkBodyLength(body, "IssueComment");
      comment.body = body;
      comment.updatedAt = isoSeconds(this.now());
      return { status: 200, body: this.commentJson(this.repoOf(ctx), comment) };
    });
    this.on("DELETE /repos/{owner}/{repo}/issues/comments/{comment_id#}", "repo", (ctx) => {
      const repo = this.repoOf(ctx);
      const comment = commentOf(ctx);
      const list = repo.comments.get(comment.issueNumber) ?? [];
      repo.comments.set(comment.issueNumber, list.filter((c) => c.id !== comment.id));
      this.commentIndex.delete(comment.id);
      return { status: 204 };
    });
    this.on("GET /repos/{owner}/{repo}/issues/comments/{comment_id#}/reactions", "repo", (ctx) => {
      const content = ctx.query.get("content");
      const list = commentOf(ctx).reactions.filter((r) => !content || r.content === content);
      return this.paged(ctx, list, (r) => this.reactionJson(r));
    });
    this.on("POST /repos/{owner}/{repo}/issues/comments/{comment_id#}/reactions", "repo", (ctx) => {
      const comment = commentOf(ctx);
      const content = str(ctx.body, "content");
      if (content === undefined || !REACTIONS.has(content)) {
        throw validationFailed([{ resource: "Reaction", field: "content", code: "invalid" }]);
      }
      const user = this.actorUser(ctx.actor).login;
      const existing = comment.reactions.find((r) => r.content === content && r.user === user);
      if (existing) return { status: 200, body: this.reactionJson(existing) };
      const reaction: ReactionRecord = { id: this.nextId++, content, user, createdAt: isoSeconds(this.now()) };
      comment.reactions.push(reaction);
      return { status: 201, body: this.reactionJson(reaction) };
    });
  }

  /** `POST /graphql`: installation tokens see their installation's repositories (within the token's scope). */
  private graphql(ctx: Ctx): Reply {
    const { actor } = ctx;
    if (actor.kind === "anonymous") throw new HttpError(401, "This endpoint requires you to be authenticated.");
    if (actor.kind === "app") throw new HttpError(403, "Resource not accessible by integration");
    const visible = (repo: RepoState | undefined): RepoState | undefined => {
      if (!repo) return undefined;
      if (
        actor.kind === "installation" &&
        (repo.installationId !== actor.installationId || (actor.token.repoIds !== undefined && !actor.token.repoIds.has(repo.id)))
      ) {
        return undefined;
      }
      return repo;
    };
    const graphqlContext: GraphqlContext = {
      webUrl: this.url,
      blobTextLimit: this.graphqlBlobTextLimit,
      repository: (owner, name) => visible(this.repos.get(`${owner}/${name}`.toLowerCase())),
      pullByNodeId: (id) => {
        const m = /^011:PullRequest(\d+)$/.exec(Buffer.from(id, "base64").toString("utf8"));
        if (!m) return undefined;
        for (const repo of this.repos.values()) {
          for (const item of repo.items.values()) {
            if (item.kind === "pull" && item.id === Number(m[1])) return visible(repo) ? { repo, pr: item } : undefined;
          }
        }
        return undefined;
      },
      viewerLogin: this.actorUser(actor).login,
      now: () => isoSeconds(this.now()),
      resolveCommitish: (repo, rev) => this.resolveCommitish(repo as RepoState, rev),
      userType: (login) => this.ensureUser(login).type,
      userByEmail: (email) => this.usersByEmail.get(email.toLowerCase()),
      // Counting this query (it is counted when answered), as GitHub reports it.
      rateLimit: () => {
        const h = this.rateHeaders(actor, false, "graphql");
        return {
          limit: Number(h["x-ratelimit-limit"]),
          remaining: Math.max(0, Number(h["x-ratelimit-remaining"]) - 1),
          used: Number(h["x-ratelimit-used"]) + 1,
          resetAt: isoSeconds(Number(h["x-ratelimit-reset"]) * 1000),
        };
      },
    };
    const result = executeGraphql(
      { query: ctx.body.query, variables: ctx.body.variables, operationName: ctx.body.operationName },
      {},
      graphqlContext,
    );
    return { status: 200, body: result };
  }

  private sortItems<T extends IssueRecord>(ctx: Ctx, items: T[]): T[] {
    const sort = ctx.query.get("sort") === "updated" ? "updatedAt" : "createdAt";
    const asc = ctx.query.get("direction") === "asc";
    return items.sort((a, b) => {
      const d = a[sort] < b[sort] ? -1 : a[sort] > b[sort] ? 1 : a.number - b.number;
      return asc ? d : -d;
    });
  }
}
