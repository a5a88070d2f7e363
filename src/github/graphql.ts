// Reading a repository with few API calls, for the org-wide drift check: one GraphQL query for the repository's
// state (flags, default branch head and tree, the config file, the bot branch and its pull requests), then — after
// the REST recursive tree — one GraphQL query per 50 blobs. GraphQL hands blob contents back as UTF-8 text, which
// cannot carry every byte sequence; any blob whose text does not hash back to its object id is read again over REST.

import { createHash } from "node:crypto";
import { CONFIG_PATH, MAX_CONFIG_BYTES } from "./config.js";
import type { Octokit } from "./files.js";

/** Blobs asked for in one query (aliases `b0` … `b49`). */
export const BLOB_BATCH_SIZE = 50;
/** Pull requests on the bot branch read with the state, newest first. */
export const PULL_LIMIT = 50;

const OID_RE = /^[0-9a-f]{40}$/i;

/** One error of a GraphQL answer, as GitHub reports it. */
export interface GraphQLErrorInfo {
  message: string;
  /** GitHub's error type: `NOT_FOUND`, `FORBIDDEN`, `RATE_LIMITED`, … */
  type?: string;
  path?: (string | number)[];
}

/** GitHub answered a GraphQL query with errors (or without the data the query asked for). */
export class GitHubQueryError extends Error {
  override readonly name = "GitHubQueryError";

  constructor(
    message: string,
    /** The operation: `DigestPinRepoState` or `DigestPinBlobs`. */
    readonly operation: string,
    readonly errors: readonly GraphQLErrorInfo[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The repository (or an object in it) does not exist, or the token may not see it. */
  get notFound(): boolean {
    return this.errors.some((e) => e.type === "NOT_FOUND");
  }

  /** GitHub's GraphQL rate limit (points per hour) is spent. */
  get rateLimited(): boolean {
    return this.errors.some((e) => e.type === "RATE_LIMITED");
  }
}

/** A pull request whose head is the bot branch (same repository only). */
export interface BotPull {
  /** GraphQL node id (what mutations name). */
  id: string;
  number: number;
  state: "open" | "closed";
  merged: boolean;
  /** The web URL. */
  url: string;
  title: string;
  /** `""` when the pull request has no description. */
  body: string;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  /** REST-style login (`digest-pin[bot]` for an app), or null for a deleted account. */
  author: string | null;
  /** Who enabled auto-merge on it (REST-style login, `digest-pin[bot]` for the app), or null when it is off. */
  autoMergeBy: string | null;
}

/**
 * The bot branch's head commit as GitHub reports it: what decides whether the app made it (see ownership.ts). Emails
 * are GitHub's, not a client's claim, only together with a valid signature: GitHub signs an app's commit itself and
 * then sets author and committer to the app's bot account.
 */
export interface BotBranchCommit {
  oid: string;
  authorEmail: string | null;
  committerEmail: string | null;
  /** Who GitHub says wrote it: their account's login, else the name in the commit (for people, not for decisions). */
  authorLogin: string | null;
  authorName: string | null;
  /** GitHub verified the commit's signature (REST `verification.verified`, reason `valid`). */
  verified: boolean;
  /** Its first two parents, and how many it has. */
  parents: string[];
  parentCount: number;
  /** Commits of the bot branch that the base branch lacks; null when GitHub could not compare the two. */
  aheadOfBase: number | null;
}

export interface RepoState {
  owner: string;
  name: string;
  archived: boolean;
  disabled: boolean;
  /** No commits at all: `defaultBranch` and `config` are null. */
  empty: boolean;
  /** When the repository was last pushed to (REST's `pushed_at`), as GitHub wrote it; null when it does not say. */
  pushedAt: string | null;
  defaultBranch: { name: string; headSha: string; treeSha: string } | null;
  /**
   * `.github/digest-pin.yml` at the default branch head, or null when there is none (or it is not a file). A file
   * over MAX_CONFIG_BYTES is not read: its text is empty and `tooLarge` is its size.
   */
  config: { oid: string; text: string; tooLarge?: number } | null;
  /** The bot branch the state was read for (as passed in). */
  botBranch: string;
  /** Its head commit, or null when the branch does not exist. */
  botBranchHead: string | null;
  /** What GitHub says about that commit (null when the branch does not exist or its head is not a commit). */
  botBranchCommit: BotBranchCommit | null;
  /** Pull requests whose head is `botBranch`, newest first, at most `PULL_LIMIT`; from forks left out. */
  pulls: BotPull[];
  /** More pull requests on the bot branch exist than were read. */
  pullsTruncated: boolean;
  /** How the repository lets pull requests merge. */
  merging: MergeSettings;
}

/** The repository's merge settings: whether auto-merge is allowed, and which merge methods. */
export interface MergeSettings {
  autoMergeAllowed: boolean;
  squash: boolean;
  merge: boolean;
  rebase: boolean;
}

/**
 * The state query. Variables: `owner`, `name`, `botRef` (`refs/heads/<bot>`), `botBranch` and `baseBranch` (the
 * default branch the bot branch is for).
 */
export const REPO_STATE_QUERY = `query DigestPinRepoState($owner: String!, $name: String!, $botRef: String!, $botBranch: String!, $baseBranch: String!) {
  repository(owner: $owner, name: $name) {
    isArchived
    isDisabled
    isEmpty
    pushedAt
    autoMergeAllowed
    squashMergeAllowed
    mergeCommitAllowed
    rebaseMergeAllowed
    defaultBranchRef {
      name
      target {
        oid
        ... on Commit {
          tree {
            oid
          }
        }
      }
    }
    config: object(expression: ${JSON.stringify(`HEAD:${CONFIG_PATH}`)}) {
      ... on Blob {
        oid
        byteSize
        isBinary
        isTruncated
        text
      }
    }
    botRef: ref(qualifiedName: $botRef) {
      target {
        oid
        ... on Commit {
          author {
            email
            name
            user {
              login
            }
          }
          committer {
            email
          }
          signature {
            isValid
            state
          }
          parents(first: 2) {
            totalCount
            nodes {
              oid
            }
          }
        }
      }
      compare(headRef: $baseBranch) {
        behindBy
      }
    }
    pullRequests(headRefName: $botBranch, first: ${PULL_LIMIT}, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      nodes {
        id
        number
        title
        state
        merged
        url
        body
        headRefName
        headRefOid
        baseRefName
        isCrossRepository
        author {
          __typename
          login
        }
        autoMergeRequest {
          enabledAt
          enabledBy {
            __typename
            login
          }
        }
      }
    }
  }
}`;

export const BLOB_FIELDS = "... on Blob { oid byteSize isBinary isTruncated text }";

/** The blob query for up to `BLOB_BATCH_SIZE` object ids (validated: 40 hex digits). Variables: `owner`, `name`. */
export function blobsQuery(oids: readonly string[]): string {
  if (oids.length === 0 || oids.length > BLOB_BATCH_SIZE) throw new RangeError(`between 1 and ${BLOB_BATCH_SIZE} blobs per query`);
  const aliases = oids.map((oid, i) => {
    if (!OID_RE.test(oid)) throw new TypeError(`not a git object id: ${JSON.stringify(oid)}`);
    return `    b${i}: object(oid: "${oid.toLowerCase()}") { ${BLOB_FIELDS} }`;
  });
  return `query DigestPinBlobs($owner: String!, $name: String!) {\n  repository(owner: $owner, name: $name) {\n${aliases.join("\n")}\n  }\n}`;
}

// ---------------------------------------------------------------------------------------------
// Answers

export interface BlobNode {
  oid?: string;
  byteSize?: number;
  isBinary?: boolean | null;
  isTruncated?: boolean;
  text?: string | null;
}

interface PullNode {
  id: string;
  number: number;
  title: string;
  state: "OPEN" | "CLOSED" | "MERGED";
  merged: boolean;
  url: string;
  body: string | null;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  isCrossRepository: boolean;
  author: { __typename: string; login: string } | null;
  autoMergeRequest: { enabledAt: string | null; enabledBy: { __typename: string; login: string } | null } | null;
}

interface CommitNode {
  author?: { email: string | null; name?: string | null; user?: { login: string } | null } | null;
  committer?: { email: string | null } | null;
  signature?: { isValid: boolean; state: string } | null;
  parents?: { totalCount: number; nodes: ({ oid: string } | null)[] | null };
}

interface RepoStateAnswer {
  repository: {
    isArchived: boolean;
    isDisabled: boolean;
    isEmpty: boolean;
    pushedAt?: string | null;
    autoMergeAllowed: boolean;
    squashMergeAllowed: boolean;
    mergeCommitAllowed: boolean;
    rebaseMergeAllowed: boolean;
    defaultBranchRef: { name: string; target: { oid: string; tree?: { oid: string } } | null } | null;
    config: BlobNode | null;
    botRef: {
      target: (CommitNode & { oid: string }) | null;
      compare: { behindBy: number } | null;
    } | null;
    pullRequests: { totalCount: number; nodes: (PullNode | null)[] | null };
  } | null;
}

interface BlobsAnswer {
  repository: Record<string, BlobNode | null> | null;
}

/**
 * Runs a query; GraphQL errors (Octokit's GraphqlResponseError) become a GitHubQueryError. HTTP errors pass.
 *
 * @example await query<Answer>(octokit, "DigestPinConfigFile", CONFIG_FILE_QUERY, { owner, name, expression })
 */
export async function query<T>(octokit: Octokit, operation: string, text: string, variables: Record<string, unknown>): Promise<T> {
  try {
    return await octokit.graphql<T>(text, variables);
  } catch (error) {
    const errors = (error as { errors?: unknown }).errors;
    if (error instanceof Error && error.name === "GraphqlResponseError" && Array.isArray(errors)) {
      const list = errors.map(toErrorInfo);
      const summary = list.map((e) => (e.type ? `${e.type}: ${e.message}` : e.message)).join("; ");
      throw new GitHubQueryError(`GitHub GraphQL ${operation} failed: ${summary}`, operation, list, { cause: error });
    }
    throw error;
  }
}

function toErrorInfo(raw: unknown): GraphQLErrorInfo {
  const e = (raw ?? {}) as Record<string, unknown>;
  return {
    message: typeof e.message === "string" ? e.message : JSON.stringify(raw),
    ...(typeof e.type === "string" ? { type: e.type } : {}),
    ...(Array.isArray(e.path) ? { path: e.path as (string | number)[] } : {}),
  };
}

/**
 * The git object id of a blob with these bytes, as git computes it.
 *
 * @example gitBlobId(Buffer.from("hello\n")) // "ce013625030ba8dba906f756967f9e9ca394464a"
 */
export function gitBlobId(data: Buffer): string {
  return createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
}

/**
 * The blob's exact bytes from its GraphQL text, or null when the text cannot be trusted: missing, binary,
 * truncated, a different UTF-8 length than the blob, a replacement character, or bytes that do not hash to the id.
 */
function exactFromText(oid: string, node: BlobNode): Buffer | null {
  const { text, byteSize } = node;
  if (typeof text !== "string" || node.isTruncated === true || node.isBinary === true) return null;
  if (Buffer.byteLength(text, "utf8") !== byteSize || text.includes("\uFFFD")) return null;
  const data = Buffer.from(text, "utf8");
  return gitBlobId(data) === oid ? data : null;
}

/**
 * The exact bytes of a blob GraphQL described: its text when that hashes back to its id, else one REST read.
 *
 * @example await blobBytes(octokit, "acme", "app", node)
 */
export async function blobBytes(octokit: Octokit, owner: string, repo: string, node: BlobNode & { oid: string }): Promise<Buffer> {
  return exactFromText(node.oid, node) ?? (await restBlob(octokit, owner, repo, node.oid));
}

async function restBlob(octokit: Octokit, owner: string, repo: string, oid: string): Promise<Buffer> {
  const { data } = await octokit.rest.git.getBlob({ owner, repo, file_sha: oid });
  const bytes = Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
  if (gitBlobId(bytes) !== oid) throw new Error(`blob ${oid} of ${owner}/${repo}: the REST content does not hash to its id`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// API

/**
 * The repository's state in one GraphQL query (two only when the config file's text is not exact UTF-8, which is
 * then read over REST).
 *
 * `botBranch` must be known before the query, so pass the bot branch of the default branch you expect (from the
 * installation's repository listing, `branchFor(repo.default_branch)`). If `defaultBranch.name` in the answer is
 * different (the default branch was renamed since), `botBranchHead` and `pulls` describe the wrong branch: query
 * again with `branchFor(state.defaultBranch.name)`.
 *
 * Throws GitHubQueryError (`notFound` when the repository is missing or outside the token's scope).
 */
export async function fetchRepoState(
  octokit: Octokit,
  owner: string,
  name: string,
  botBranch: string,
  baseBranch: string,
): Promise<RepoState> {
  const operation = "DigestPinRepoState";
  const answer = await query<RepoStateAnswer>(octokit, operation, REPO_STATE_QUERY, {
    owner,
    name,
    botRef: `refs/heads/${botBranch}`,
    botBranch,
    baseBranch,
  });
  const repo = answer?.repository;
  if (!repo) throw new GitHubQueryError(`GitHub GraphQL ${operation}: no repository ${owner}/${name} in the answer`, operation);

  const ref = repo.defaultBranchRef;
  const headSha = ref?.target?.oid;
  const treeSha = ref?.target?.tree?.oid;
  const defaultBranch = ref && headSha && treeSha ? { name: ref.name, headSha, treeSha } : null;

  let config: RepoState["config"] = null;
  const node = repo.config;
  if (node?.oid && (node.byteSize ?? 0) > MAX_CONFIG_BYTES) {
    config = { oid: node.oid, text: "", tooLarge: node.byteSize ?? 0 };
  } else if (node?.oid) {
    config = { oid: node.oid, text: (await blobBytes(octokit, owner, name, { ...node, oid: node.oid })).toString("utf8") };
  }

  const nodes = repo.pullRequests.nodes ?? [];
  const pulls: BotPull[] = [];
  for (const pr of nodes) {
    // A fork's pull request can use the same branch name: it is not the app's.
    if (!pr || pr.isCrossRepository || pr.headRefName !== botBranch) continue;
    pulls.push({
      id: pr.id,
      number: pr.number,
      state: pr.state === "OPEN" ? "open" : "closed",
      merged: pr.merged,
      url: pr.url,
      title: pr.title,
      body: pr.body ?? "",
      headRefName: pr.headRefName,
      headRefOid: pr.headRefOid,
      baseRefName: pr.baseRefName,
      author: restLogin(pr.author),
      autoMergeBy: pr.autoMergeRequest ? (restLogin(pr.autoMergeRequest.enabledBy) ?? "") : null,
    });
  }

  return {
    owner,
    name,
    archived: repo.isArchived,
    disabled: repo.isDisabled,
    empty: repo.isEmpty,
    pushedAt: repo.pushedAt ?? null,
    defaultBranch,
    config,
    botBranch,
    botBranchHead: repo.botRef?.target?.oid ?? null,
    botBranchCommit: botBranchCommit(repo.botRef),
    pulls,
    pullsTruncated: repo.pullRequests.totalCount > nodes.length,
    merging: {
      autoMergeAllowed: repo.autoMergeAllowed === true,
      squash: repo.squashMergeAllowed !== false,
      merge: repo.mergeCommitAllowed !== false,
      rebase: repo.rebaseMergeAllowed !== false,
    },
  };
}

/** GraphQL gives an app's login without the `[bot]` that REST (and the rest of this app) uses. */
function restLogin(actor: { __typename: string; login: string } | null | undefined): string | null {
  if (!actor) return null;
  return actor.__typename === "Bot" ? `${actor.login}[bot]` : actor.login;
}

function botBranchCommit(ref: NonNullable<RepoStateAnswer["repository"]>["botRef"]): BotBranchCommit | null {
  const target = ref?.target;
  // Only a commit answers `parents`: a ref to a tag or tree object is nobody's pull request branch.
  if (!target?.oid || !target.parents) return null;
  const signature = target.signature;
  return {
    oid: target.oid,
    authorEmail: target.author?.email ?? null,
    committerEmail: target.committer?.email ?? null,
    authorLogin: target.author?.user?.login ?? null,
    authorName: target.author?.name ?? null,
    verified: signature?.isValid === true && signature.state === "VALID",
    parents: (target.parents.nodes ?? []).flatMap((p) => (p?.oid ? [p.oid] : [])),
    parentCount: target.parents.totalCount,
    aheadOfBase: ref?.compare?.behindBy ?? null,
  };
}

/**
 * The exact bytes of each blob, keyed by the ids as given: one GraphQL query per `BLOB_BATCH_SIZE` distinct ids
 * (run one after the other), plus one REST `git.getBlob` for each blob whose GraphQL text is not byte-exact (binary,
 * truncated, or not valid UTF-8 as stored). Ids must be 40 hex digits (a TypeError before any request otherwise).
 * Throws GitHubQueryError when an id is not a blob of the repository.
 */
export async function fetchBlobs(octokit: Octokit, owner: string, name: string, oids: readonly string[]): Promise<Map<string, Buffer>> {
  for (const oid of oids) if (typeof oid !== "string" || !OID_RE.test(oid)) throw new TypeError(`not a git object id: ${JSON.stringify(oid)}`);
  const operation = "DigestPinBlobs";
  const unique = [...new Set(oids.map((o) => o.toLowerCase()))];
  const bytes = new Map<string, Buffer>();
  const fallback: string[] = [];
  for (let start = 0; start < unique.length; start += BLOB_BATCH_SIZE) {
    const batch = unique.slice(start, start + BLOB_BATCH_SIZE);
    const answer = await query<BlobsAnswer>(octokit, operation, blobsQuery(batch), { owner, name });
    const repo = answer?.repository;
    if (!repo) throw new GitHubQueryError(`GitHub GraphQL ${operation}: no repository ${owner}/${name} in the answer`, operation);
    batch.forEach((oid, i) => {
      const node = repo[`b${i}`];
      if (!node || node.oid !== oid) {
        throw new GitHubQueryError(`GitHub GraphQL ${operation}: ${oid} is not a blob of ${owner}/${name}`, operation, [
          { message: `no blob ${oid}`, type: "NOT_FOUND", path: ["repository", `b${i}`] },
        ]);
      }
      const exact = exactFromText(oid, node);
      if (exact) bytes.set(oid, exact);
      else fallback.push(oid);
    });
  }
  for (const oid of fallback) bytes.set(oid, await restBlob(octokit, owner, name, oid));
  const out = new Map<string, Buffer>();
  for (const oid of oids) out.set(oid, bytes.get(oid.toLowerCase()) as Buffer);
  return out;
}

/**
 * Runs a mutation; GraphQL errors become a GitHubQueryError (with GitHub's messages), as for queries.
 *
 * @example await mutate(octokit, "DigestPinEnableAutoMerge", ENABLE_AUTO_MERGE, { id, mergeMethod: "SQUASH" })
 */
export function mutate<T>(octokit: Octokit, operation: string, text: string, variables: Record<string, unknown>): Promise<T> {
  return query<T>(octokit, operation, text, variables);
}
