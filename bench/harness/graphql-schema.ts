// The part of GitHub's GraphQL schema the fake serves, resolved from the fake's real git objects and pull requests:
//
//   query {
//     repository(owner:, name:) {                      # null + NOT_FOUND when missing or outside the token's scope
//       id name nameWithOwner url isArchived isDisabled isEmpty isPrivate isFork
//       owner { login }
//       defaultBranchRef { name prefix target { oid ... on Commit { tree { oid } } } }
//       ref(qualifiedName: "refs/heads/x" | "x") {
//         name prefix target { ... }
//         compare(headRef: "<branch, ref or sha>") { aheadBy behindBy status }   # null when headRef does not resolve
//       }
//       object(oid: "<40 hex>") / object(expression: "HEAD:path" | "<branch or sha>:path" | "<rev>") {
//         oid abbreviatedOid
//         ... on Blob { byteSize isBinary isTruncated text }
//         ... on Commit {
//           message committedDate tree { oid }
//           author { name email date user { login } } committer { … }     # user: null for a bot, as on GitHub
//           signature { isValid state wasSignedByGitHub }                 # null when unsigned
//           parents(first:|last:) { totalCount nodes { oid … } }
//         }
//       }
//       pullRequests(headRefName:, baseRefName:, states:, first:|last:, after:, before:, orderBy: {field, direction}) {
//         totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
//         nodes { id number title body state merged mergedAt closed isDraft url createdAt updatedAt
//                 headRefName headRefOid baseRefName baseRefOid isCrossRepository author { login } }
//       }
//     }
//     rateLimit { limit cost remaining used resetAt nodeCount }
//   }
//   mutation {
//     enablePullRequestAutoMerge(input: { pullRequestId, mergeMethod, commitHeadline, commitBody }) { pullRequest { … } }
//     disablePullRequestAutoMerge(input: { pullRequestId }) { pullRequest { … } }
//   }
//
// Auto-merge is validated as GitHub does: the repository must allow it ("Pull request Auto merge is not allowed for
// this repository"), the merge method must be allowed, the pull request must be open; repositories also expose
// `autoMergeAllowed`, `squashMergeAllowed`, `mergeCommitAllowed`, `rebaseMergeAllowed`, pull requests
// `autoMergeRequest { enabledAt mergeMethod commitHeadline commitBody enabledBy { login } }`.
//
// A commit's signature exists exactly when the REST API calls it verified (a commit an installation made through the
// Git data API without custom author, committer or signature, or a merge made in the web UI): GitHub then signs it
// with its own key (`GpgSignature`, state `VALID`, `wasSignedByGitHub`). Commits pushed with git are unsigned.
//
// Blob `text` is deliberately lossy, as GitHub's may be: null for binary blobs (a NUL in the first 8,000 bytes),
// decoded as UTF-8 with U+FFFD for invalid bytes, a leading UTF-8 BOM dropped, and cut at `blobTextLimit` bytes
// (`isTruncated`). Clients that need exact bytes must check `byteSize` (or the object id) and fall back to REST.
// A bot's `login` has no `[bot]` suffix, as on GitHub.

import { isoFromGit, type CommitObject, type GitIdentity, type ObjectStore } from "./git-store.js";
import { GraphQLFieldError, typed, type Schema, type Typed } from "./graphql.js";

/** What the schema needs of a repository (the fake's repository state satisfies it). */
export interface GraphqlRepo {
  id: number;
  name: string;
  fullName: string;
  owner: { login: string; type: string };
  private: boolean;
  archived: boolean;
  disabled: boolean;
  fork: boolean;
  defaultBranch: string;
  /** ISO 8601 to the second, as REST's `pushed_at`. */
  pushedAt: string;
  refs: Map<string, string>;
  store: ObjectStore;
  /** Commits GitHub signed (and the REST API reports as verified). */
  verified: ReadonlySet<string>;
  items: Map<number, GraphqlItem>;
  allowAutoMerge: boolean;
  mergeMethods: { merge: boolean; squash: boolean; rebase: boolean };
}

/** An auto-merge request on a pull request. */
export interface GraphqlAutoMerge {
  enabledAt: string;
  enabledBy: string;
  mergeMethod: "MERGE" | "SQUASH" | "REBASE";
  commitHeadline: string | null;
  commitBody: string | null;
}

/** An issue or pull request of the fake (pull requests have `head`, `base` and `merged`). */
export interface GraphqlItem {
  id: number;
  number: number;
  kind: "issue" | "pull";
  title: string;
  body: string | null;
  state: "open" | "closed";
  user: string;
  createdAt: string;
  updatedAt: string;
  head?: { ref: string; sha: string };
  base?: { ref: string; sha: string };
  merged?: boolean;
  mergedAt?: string | null;
  draft?: boolean;
  autoMerge?: GraphqlAutoMerge | null;
}

export interface GraphqlContext {
  /** The web URL of the fake (pull request `url`s). */
  webUrl: string;
  /** The repository, or undefined when it does not exist or the caller may not see it. */
  repository(owner: string, name: string): GraphqlRepo | undefined;
  /** A branch, ref, tag or (abbreviated) commit id → commit id. */
  resolveCommitish(repo: GraphqlRepo, rev: string): string | undefined;
  userType(login: string): "User" | "Organization" | "Bot";
  /** The account a commit email belongs to, as GitHub attributes commits. */
  userByEmail(email: string): { login: string; type: "User" | "Organization" | "Bot" } | undefined;
  rateLimit(): { limit: number; remaining: number; used: number; resetAt: string };
  /** Blob `text` is cut (and `isTruncated` set) beyond this many bytes. */
  blobTextLimit: number;
  /** A pull request by its node id, when the caller may see it. */
  pullByNodeId(id: string): { repo: GraphqlRepo; pr: GraphqlItem } | undefined;
  /** The caller, as the login an auto-merge request is enabled by. */
  viewerLogin: string;
  /** Now, ISO 8601. */
  now(): string;
}

const OID_RE = /^[0-9a-f]{40}$/;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

interface ObjectSource {
  repo: GraphqlRepo;
  oid: string;
}

interface RefSource {
  repo: GraphqlRepo;
  name: string;
  oid: string;
}

interface PullSource {
  repo: GraphqlRepo;
  pr: GraphqlItem & { head: { ref: string; sha: string }; base: { ref: string; sha: string } };
}

function gitObject(repo: GraphqlRepo, oid: string): Typed | null {
  const o = repo.store.get(oid);
  if (!o) return null;
  const typename = o.type === "blob" ? "Blob" : o.type === "tree" ? "Tree" : "Commit";
  return typed(typename, { repo, oid } satisfies ObjectSource);
}

function refSource(repo: GraphqlRepo, qualified: string): RefSource | null {
  const oid = repo.refs.get(qualified);
  if (!oid) return null;
  return { repo, name: qualified, oid };
}

function blobData(src: ObjectSource): Buffer {
  return src.repo.store.blob(src.oid)?.data ?? Buffer.alloc(0);
}

function isBinary(data: Buffer): boolean {
  return data.subarray(0, 8000).includes(0);
}

function cursor(index: number): string {
  return Buffer.from(`cursor:v2:${index}`).toString("base64");
}

function fromCursor(value: unknown, what: string): number {
  if (typeof value !== "string") throw new GraphQLFieldError(`\`${what}\` must be a cursor`);
  const m = /^cursor:v2:(\d+)$/.exec(Buffer.from(value, "base64").toString("utf8"));
  if (!m) throw new GraphQLFieldError(`\`${value}\` does not appear to be a valid cursor.`, "INVALID_CURSOR_ARGUMENTS");
  return Number(m[1]);
}

function pullsOf(repo: GraphqlRepo, args: Record<string, unknown>): { nodes: PullSource[]; totalCount: number; pageInfo: Record<string, unknown> } {
  const first = args.first as number | null | undefined;
  const last = args.last as number | null | undefined;
  if (first == null && last == null) {
    throw new GraphQLFieldError("You must provide a `first` or `last` value to properly paginate the `pullRequests` connection.", "MISSING_PAGINATION_BOUNDARIES");
  }
  for (const [name, n] of [["first", first], ["last", last]] as const) {
    if (n == null) continue;
    if (n < 0) throw new GraphQLFieldError(`\`${name}\` on the \`pullRequests\` connection cannot be less than zero.`);
    if (n > 100) throw new GraphQLFieldError(`Requesting ${n} records on the \`pullRequests\` connection exceeds the \`${name}\` limit of 100 records.`, "EXCESSIVE_PAGINATION");
  }
  const states = args.states as string[] | null | undefined;
  const head = args.headRefName as string | null | undefined;
  const base = args.baseRefName as string | null | undefined;
  const order = args.orderBy as { field: string; direction: string } | null | undefined;
  const all = [...repo.items.values()].filter((i): i is PullSource["pr"] => {
    if (i.kind !== "pull" || !i.head || !i.base) return false;
    const state = i.merged ? "MERGED" : i.state === "open" ? "OPEN" : "CLOSED";
    if (states && states.length > 0 && !states.includes(state)) return false;
    if (head != null && i.head.ref !== head) return false;
    if (base != null && i.base.ref !== base) return false;
    return true;
  });
  const field = order?.field === "UPDATED_AT" ? "updatedAt" : "createdAt";
  const sign = order?.direction === "DESC" ? -1 : 1;
  all.sort((a, b) => sign * (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : a.number - b.number));
  let start = 0;
  let end = all.length;
  if (args.after != null) start = Math.min(end, fromCursor(args.after, "after") + 1);
  if (args.before != null) end = Math.max(start, Math.min(end, fromCursor(args.before, "before")));
  if (first != null) end = Math.min(end, start + first);
  if (last != null) start = Math.max(start, end - last);
  const nodes = all.slice(start, end).map((pr) => ({ repo, pr }));
  return {
    nodes,
    totalCount: all.length,
    pageInfo: {
      hasNextPage: end < all.length,
      hasPreviousPage: start > 0,
      startCursor: nodes.length > 0 ? cursor(start) : null,
      endCursor: nodes.length > 0 ? cursor(end - 1) : null,
    },
  };
}

/** `Ref.compare`: the ref as base, `headRef` as head, counted the way `git rev-list --count` does. */
function compareRefs(ctx: GraphqlContext, src: RefSource, headRef: string): Record<string, unknown> | null {
  const head = ctx.resolveCommitish(src.repo, headRef);
  if (!head || !src.repo.store.commit(src.oid)) return null;
  const base = src.repo.store.ancestors(src.oid);
  const ahead = src.repo.store.ancestors(head);
  const aheadBy = [...ahead].filter((sha) => !base.has(sha)).length;
  const behindBy = [...base].filter((sha) => !ahead.has(sha)).length;
  const status = aheadBy === 0 ? (behindBy === 0 ? "IDENTICAL" : "BEHIND") : behindBy === 0 ? "AHEAD" : "DIVERGED";
  return { aheadBy, behindBy, status };
}

function gitActor(ctx: GraphqlContext, who: GitIdentity): Record<string, unknown> {
  const account = ctx.userByEmail(who.email);
  return {
    name: who.name,
    email: who.email,
    date: isoFromGit(who),
    // GitActor.user is a User: a bot's commits have none.
    user: account?.type === "User" ? { login: account.login } : null,
  };
}

function parentsOf(src: ObjectSource, args: Record<string, unknown>): Record<string, unknown> {
  const first = args.first as number | null | undefined;
  const last = args.last as number | null | undefined;
  if (first == null && last == null) {
    throw new GraphQLFieldError("You must provide a `first` or `last` value to properly paginate the `parents` connection.", "MISSING_PAGINATION_BOUNDARIES");
  }
  const all = src.repo.store.commit(src.oid)?.parents ?? [];
  let picked = first != null ? all.slice(0, Math.max(0, first)) : all;
  if (last != null) picked = picked.slice(Math.max(0, picked.length - last));
  return { totalCount: all.length, nodes: picked.map((oid) => ({ repo: src.repo, oid }) satisfies ObjectSource) };
}

const AUTO_MERGE_PAYLOAD = { pullRequest: { type: "PullRequest" }, clientMutationId: { type: "String" } };

const MERGE_METHOD_NAMES = { MERGE: "merge", SQUASH: "squash", REBASE: "rebase" } as const;

/** The pull request an auto-merge mutation names, checked as GitHub checks it. */
function autoMergeTarget(ctx: GraphqlContext, input: Record<string, unknown>): { repo: GraphqlRepo; pr: GraphqlItem } {
  const id = String(input.pullRequestId);
  const found = ctx.pullByNodeId(id);
  if (!found) throw new GraphQLFieldError(`Could not resolve to a node with the global id of '${id}'`, "NOT_FOUND");
  if (found.pr.state !== "open" || found.pr.merged) throw new GraphQLFieldError("Pull request is not open", "UNPROCESSABLE");
  return found;
}

function enableAutoMerge(ctx: GraphqlContext, input: Record<string, unknown>): PullSource {
  const { repo, pr } = autoMergeTarget(ctx, input);
  if (!repo.allowAutoMerge) throw new GraphQLFieldError("Pull request Auto merge is not allowed for this repository", "UNPROCESSABLE");
  const method = (input.mergeMethod as "MERGE" | "SQUASH" | "REBASE" | null | undefined) ?? "MERGE";
  if (!repo.mergeMethods[MERGE_METHOD_NAMES[method]]) {
    throw new GraphQLFieldError(`Pull request Merge method ${MERGE_METHOD_NAMES[method]} merging is not allowed on this repository`, "UNPROCESSABLE");
  }
  pr.autoMerge = {
    enabledAt: ctx.now(),
    enabledBy: ctx.viewerLogin,
    mergeMethod: method,
    commitHeadline: typeof input.commitHeadline === "string" ? input.commitHeadline : null,
    commitBody: typeof input.commitBody === "string" ? input.commitBody : null,
  };
  return { repo, pr } as PullSource;
}

function disableAutoMerge(ctx: GraphqlContext, input: Record<string, unknown>): PullSource {
  const { repo, pr } = autoMergeTarget(ctx, input);
  pr.autoMerge = null;
  return { repo, pr } as PullSource;
}

function actor(ctx: GraphqlContext, login: string): Typed {
  const type = ctx.userType(login);
  return typed(type, { login: type === "Bot" ? login.replace(/\[bot\]$/, "") : login });
}

const gitObjectFields = {
  oid: { type: "GitObjectID!" },
  abbreviatedOid: { type: "String!" },
};

const loginField = { login: { type: "String!" } };

const signatureFields = {
  isValid: { type: "Boolean!" },
  state: { type: "GitSignatureState!" },
  wasSignedByGitHub: { type: "Boolean!" },
};

function commitActor(ctx: GraphqlContext, src: ObjectSource, role: "author" | "committer"): Record<string, unknown> | null {
  const commit = src.repo.store.commit(src.oid);
  return commit ? gitActor(ctx, commit[role]) : null;
}

export function githubSchema(): Schema<GraphqlContext> {
  return {
    query: "Query",
    mutation: "Mutation",
    types: {
      GitObjectID: { kind: "scalar", check: (v) => typeof v === "string" && OID_RE.test(v) },
      GitTimestamp: { kind: "scalar", check: (v) => typeof v === "string" },
      URI: { kind: "scalar", check: (v) => typeof v === "string" },
      DateTime: { kind: "scalar", check: (v) => typeof v === "string" },
      PullRequestState: { kind: "enum", values: ["OPEN", "CLOSED", "MERGED"] },
      ComparisonStatus: { kind: "enum", values: ["AHEAD", "BEHIND", "DIVERGED", "IDENTICAL"] },
      GitSignatureState: {
        kind: "enum",
        values: [
          "VALID", "INVALID", "MALFORMED_SIG", "UNKNOWN_KEY", "BAD_EMAIL", "UNVERIFIED_EMAIL", "NO_USER", "UNKNOWN_SIG_TYPE",
          "UNSIGNED", "GPGVERIFY_UNAVAILABLE", "GPGVERIFY_ERROR", "NOT_SIGNING_KEY", "EXPIRED_KEY", "OCSP_PENDING",
          "OCSP_ERROR", "BAD_CERT", "OCSP_REVOKED",
        ],
      },
      IssueOrderField: { kind: "enum", values: ["CREATED_AT", "UPDATED_AT", "COMMENTS"] },
      OrderDirection: { kind: "enum", values: ["ASC", "DESC"] },
      IssueOrder: { kind: "input", fields: { field: "IssueOrderField!", direction: "OrderDirection!" } },
      PullRequestMergeMethod: { kind: "enum", values: ["MERGE", "SQUASH", "REBASE"] },
      EnablePullRequestAutoMergeInput: {
        kind: "input",
        fields: {
          pullRequestId: "ID!",
          mergeMethod: "PullRequestMergeMethod",
          commitHeadline: "String",
          commitBody: "String",
          authorEmail: "String",
          expectedHeadOid: "GitObjectID",
          clientMutationId: "String",
        },
      },
      DisablePullRequestAutoMergeInput: { kind: "input", fields: { pullRequestId: "ID!", clientMutationId: "String" } },
      Mutation: {
        kind: "object",
        fields: {
          enablePullRequestAutoMerge: {
            type: "EnablePullRequestAutoMergePayload",
            args: { input: "EnablePullRequestAutoMergeInput!" },
            resolve: (_: unknown, args, ctx) => ({ pullRequest: enableAutoMerge(ctx, args.input as Record<string, unknown>), clientMutationId: null }),
          },
          disablePullRequestAutoMerge: {
            type: "DisablePullRequestAutoMergePayload",
            args: { input: "DisablePullRequestAutoMergeInput!" },
            resolve: (_: unknown, args, ctx) => ({ pullRequest: disableAutoMerge(ctx, args.input as Record<string, unknown>), clientMutationId: null }),
          },
        },
      },
      EnablePullRequestAutoMergePayload: { kind: "object", fields: AUTO_MERGE_PAYLOAD },
      DisablePullRequestAutoMergePayload: { kind: "object", fields: AUTO_MERGE_PAYLOAD },
      AutoMergeRequest: {
        kind: "object",
        fields: {
          enabledAt: { type: "DateTime" },
          mergeMethod: { type: "PullRequestMergeMethod!" },
          commitHeadline: { type: "String" },
          commitBody: { type: "String" },
          enabledBy: { type: "Actor", resolve: (a: GraphqlAutoMerge, _args, ctx) => actor(ctx, a.enabledBy) },
        },
      },

      Query: {
        kind: "object",
        fields: {
          repository: {
            type: "Repository",
            args: { owner: "String!", name: "String!", followRenames: "Boolean" },
            resolve: (_: unknown, args, ctx) => {
              const repo = ctx.repository(args.owner as string, args.name as string);
              if (!repo) {
                throw new GraphQLFieldError(`Could not resolve to a Repository with the name '${String(args.owner)}/${String(args.name)}'.`, "NOT_FOUND");
              }
              return repo;
            },
          },
          rateLimit: {
            type: "RateLimit",
            args: { dryRun: "Boolean" },
            resolve: (_: unknown, _args, ctx) => ({ ...ctx.rateLimit(), cost: 1, nodeCount: 0 }),
          },
        },
      },
      RateLimit: {
        kind: "object",
        fields: {
          limit: { type: "Int!" },
          cost: { type: "Int!" },
          remaining: { type: "Int!" },
          used: { type: "Int!" },
          resetAt: { type: "DateTime!" },
          nodeCount: { type: "Int!" },
        },
      },
      Repository: {
        kind: "object",
        fields: {
          id: { type: "ID!", resolve: (r: GraphqlRepo) => Buffer.from(`010:Repository${r.id}`).toString("base64") },
          name: { type: "String!" },
          nameWithOwner: { type: "String!", resolve: (r: GraphqlRepo) => r.fullName },
          url: { type: "URI!", resolve: (r: GraphqlRepo, _a, ctx) => `${ctx.webUrl}/${r.fullName}` },
          owner: { type: "RepositoryOwner!", resolve: (r: GraphqlRepo) => typed(r.owner.type === "User" ? "User" : "Organization", { login: r.owner.login }) },
          isArchived: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.archived },
          isDisabled: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.disabled },
          isPrivate: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.private },
          isFork: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.fork },
          isEmpty: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.refs.size === 0 },
          pushedAt: { type: "DateTime", resolve: (r: GraphqlRepo) => r.pushedAt },
          autoMergeAllowed: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.allowAutoMerge },
          squashMergeAllowed: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.mergeMethods.squash },
          mergeCommitAllowed: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.mergeMethods.merge },
          rebaseMergeAllowed: { type: "Boolean!", resolve: (r: GraphqlRepo) => r.mergeMethods.rebase },
          defaultBranchRef: { type: "Ref", resolve: (r: GraphqlRepo) => refSource(r, `refs/heads/${r.defaultBranch}`) },
          ref: {
            type: "Ref",
            args: { qualifiedName: "String!" },
            resolve: (r: GraphqlRepo, args) => {
              const name = args.qualifiedName as string;
              return refSource(r, name.startsWith("refs/") ? name : `refs/heads/${name}`);
            },
          },
          object: {
            type: "GitObject",
            args: { oid: "GitObjectID", expression: "String" },
            resolve: (r: GraphqlRepo, args, ctx) => {
              if (typeof args.oid === "string") return gitObject(r, args.oid);
              if (typeof args.expression !== "string") throw new GraphQLFieldError("Either `oid` or `expression` is required.");
              const expr = args.expression;
              const colon = expr.indexOf(":");
              const rev = colon < 0 ? expr : expr.slice(0, colon);
              const commit = rev === "HEAD" || rev === "" ? r.refs.get(`refs/heads/${r.defaultBranch}`) : ctx.resolveCommitish(r, rev);
              if (!commit) return null;
              if (colon < 0) return gitObject(r, commit);
              const path = expr.slice(colon + 1).replace(/^\/+|\/+$/g, "");
              const entry = r.store.lookup((r.store.commit(commit) as CommitObject).tree, path);
              return entry && entry.mode !== "160000" ? gitObject(r, entry.sha) : null;
            },
          },
          pullRequests: {
            type: "PullRequestConnection!",
            args: {
              states: "[PullRequestState!]",
              labels: "[String!]",
              headRefName: "String",
              baseRefName: "String",
              orderBy: "IssueOrder",
              first: "Int",
              last: "Int",
              after: "String",
              before: "String",
            },
            resolve: (r: GraphqlRepo, args) => pullsOf(r, args),
          },
        },
      },
      RepositoryOwner: { kind: "interface", fields: loginField },
      Actor: { kind: "interface", fields: loginField },
      User: { kind: "object", interfaces: ["Actor", "RepositoryOwner"], fields: loginField },
      Organization: { kind: "object", interfaces: ["Actor", "RepositoryOwner"], fields: loginField },
      Bot: { kind: "object", interfaces: ["Actor"], fields: loginField },
      Ref: {
        kind: "object",
        fields: {
          name: { type: "String!", resolve: (s: RefSource) => s.name.replace(/^refs\/(heads|tags)\//, "") },
          prefix: { type: "String!", resolve: (s: RefSource) => /^refs\/(heads|tags)\//.exec(s.name)?.[0] ?? "refs/" },
          target: { type: "GitObject", resolve: (s: RefSource) => gitObject(s.repo, s.oid) },
          compare: {
            type: "Comparison",
            args: { headRef: "String!" },
            resolve: (s: RefSource, args, ctx) => compareRefs(ctx, s, args.headRef as string),
          },
        },
      },
      Comparison: {
        kind: "object",
        fields: { aheadBy: { type: "Int!" }, behindBy: { type: "Int!" }, status: { type: "ComparisonStatus!" } },
      },
      GitObject: { kind: "interface", fields: gitObjectFields },
      Commit: {
        kind: "object",
        interfaces: ["GitObject"],
        fields: {
          oid: { type: "GitObjectID!" },
          abbreviatedOid: { type: "String!", resolve: (s: ObjectSource) => s.oid.slice(0, 7) },
          message: { type: "String!", resolve: (s: ObjectSource) => s.repo.store.commit(s.oid)?.message ?? "" },
          committedDate: {
            type: "DateTime!",
            resolve: (s: ObjectSource) => new Date((s.repo.store.commit(s.oid)?.committer.time ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
          },
          tree: { type: "Tree!", resolve: (s: ObjectSource) => ({ repo: s.repo, oid: s.repo.store.commit(s.oid)?.tree }) },
          author: { type: "GitActor", resolve: (s: ObjectSource, _a, ctx) => commitActor(ctx, s, "author") },
          committer: { type: "GitActor", resolve: (s: ObjectSource, _a, ctx) => commitActor(ctx, s, "committer") },
          signature: {
            type: "GitSignature",
            resolve: (s: ObjectSource) =>
              s.repo.verified.has(s.oid) ? typed("GpgSignature", { isValid: true, state: "VALID", wasSignedByGitHub: true }) : null,
          },
          parents: {
            type: "CommitConnection!",
            args: { first: "Int", last: "Int", after: "String", before: "String" },
            resolve: (s: ObjectSource, args) => parentsOf(s, args),
          },
        },
      },
      CommitConnection: {
        kind: "object",
        fields: { nodes: { type: "[Commit]" }, totalCount: { type: "Int!" } },
      },
      GitActor: {
        kind: "object",
        fields: { name: { type: "String" }, email: { type: "String" }, date: { type: "GitTimestamp" }, user: { type: "User" } },
      },
      GitSignature: { kind: "interface", fields: signatureFields },
      GpgSignature: { kind: "object", interfaces: ["GitSignature"], fields: signatureFields },
      Tree: {
        kind: "object",
        interfaces: ["GitObject"],
        fields: {
          oid: { type: "GitObjectID!" },
          abbreviatedOid: { type: "String!", resolve: (s: ObjectSource) => s.oid.slice(0, 7) },
        },
      },
      Blob: {
        kind: "object",
        interfaces: ["GitObject"],
        fields: {
          oid: { type: "GitObjectID!" },
          abbreviatedOid: { type: "String!", resolve: (s: ObjectSource) => s.oid.slice(0, 7) },
          byteSize: { type: "Int!", resolve: (s: ObjectSource) => blobData(s).length },
          isBinary: { type: "Boolean", resolve: (s: ObjectSource) => isBinary(blobData(s)) },
          isTruncated: { type: "Boolean!", resolve: (s: ObjectSource, _a, ctx) => blobData(s).length > ctx.blobTextLimit },
          text: {
            type: "String",
            resolve: (s: ObjectSource, _a, ctx) => {
              const data = blobData(s);
              if (isBinary(data)) return null;
              let cut = data.subarray(0, ctx.blobTextLimit);
              if (cut.subarray(0, 3).equals(BOM)) cut = cut.subarray(3);
              return cut.toString("utf8");
            },
          },
        },
      },
      PullRequestConnection: {
        kind: "object",
        fields: {
          nodes: { type: "[PullRequest]" },
          totalCount: { type: "Int!" },
          pageInfo: { type: "PageInfo!" },
        },
      },
      PageInfo: {
        kind: "object",
        fields: {
          hasNextPage: { type: "Boolean!" },
          hasPreviousPage: { type: "Boolean!" },
          startCursor: { type: "String" },
          endCursor: { type: "String" },
        },
      },
      PullRequest: {
        kind: "object",
        fields: {
          id: { type: "ID!", resolve: (s: PullSource) => Buffer.from(`011:PullRequest${s.pr.id}`).toString("base64") },
          number: { type: "Int!", resolve: (s: PullSource) => s.pr.number },
          title: { type: "String!", resolve: (s: PullSource) => s.pr.title },
          body: { type: "String!", resolve: (s: PullSource) => s.pr.body ?? "" },
          state: { type: "PullRequestState!", resolve: (s: PullSource) => (s.pr.merged ? "MERGED" : s.pr.state === "open" ? "OPEN" : "CLOSED") },
          merged: { type: "Boolean!", resolve: (s: PullSource) => s.pr.merged === true },
          mergedAt: { type: "DateTime", resolve: (s: PullSource) => s.pr.mergedAt ?? null },
          closed: { type: "Boolean!", resolve: (s: PullSource) => s.pr.state === "closed" },
          isDraft: { type: "Boolean!", resolve: (s: PullSource) => s.pr.draft === true },
          url: { type: "URI!", resolve: (s: PullSource, _a, ctx) => `${ctx.webUrl}/${s.repo.fullName}/pull/${s.pr.number}` },
          createdAt: { type: "DateTime!", resolve: (s: PullSource) => s.pr.createdAt },
          updatedAt: { type: "DateTime!", resolve: (s: PullSource) => s.pr.updatedAt },
          headRefName: { type: "String!", resolve: (s: PullSource) => s.pr.head.ref },
          headRefOid: { type: "GitObjectID!", resolve: (s: PullSource) => s.pr.head.sha },
          baseRefName: { type: "String!", resolve: (s: PullSource) => s.pr.base.ref },
          baseRefOid: { type: "GitObjectID!", resolve: (s: PullSource) => s.pr.base.sha },
          // The fake only has same-repository pull requests.
          isCrossRepository: { type: "Boolean!", resolve: () => false },
          author: { type: "Actor", resolve: (s: PullSource, _a, ctx) => actor(ctx, s.pr.user) },
          autoMergeRequest: { type: "AutoMergeRequest", resolve: (s: PullSource) => s.pr.autoMerge ?? null },
        },
      },
    },
  };
}
