// How the app paces its GitHub requests, per installation, so that it stays within the secondary rate limits GitHub
// documents by design ("Rate limits for the REST API" on docs.github.com):
//   - at most 100 concurrent requests, REST and GraphQL together;
//   - at most 900 points a minute for REST (GET, HEAD, OPTIONS 1 point; other methods 5) and 2,000 for GraphQL (a query
//     1 point, a mutation 5);
//   - at most 80 content-generating requests a minute and 500 an hour;
//   - and, for many POST, PATCH, PUT or DELETE requests, at least one second between them.
//
// Probot's throttling plugin (@octokit/plugin-throttling) keeps concurrency (10 requests in flight per installation),
// notification pacing and the waits after a rate-limit answer. Its write gate is replaced by this plugin's: it also
// held every GraphQL *query* to one a second, one at a time, and a repository read is two queries, so the first scan of
// a 1,000-repository installation spent over half an hour in that queue. Here queries draw only on the GraphQL points
// budget, while REST writes and mutations keep one a second.

import Bottleneck from "bottleneck";
import { ProbotOctokit } from "probot";

/** What one request costs against GitHub's secondary limits. */
export interface RequestCost {
  /** The points budget it draws on: REST and GraphQL are counted apart. */
  endpoint: "rest" | "graphql";
  points: number;
  /** A write (REST POST/PATCH/PUT/DELETE, a GraphQL mutation): a second after the previous one, and counted as content. */
  write: boolean;
}

/** The budgets, each a little under GitHub's figure: a request's arrival lags its admission by a few milliseconds. */
export const LIMITS = {
  /** Between two writes of an installation. */
  writeSpacingMs: 1000,
  /** Token buckets: `capacity` at once, then `perSecond`; in any minute at most capacity + 60 × perSecond. */
  rest: { capacity: 240, perSecond: 10 }, // ≤ 840 of 900 points a minute
  graphql: { capacity: 400, perSecond: 25 }, // ≤ 1,900 of 2,000 points a minute
  /** Writes: `capacity` at once, then one every `refillMs`; in any hour at most 240 + 250 = 490 of 500. */
  writes: { capacity: 240, refillMs: 14_400 },
} as const;

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The cost of a request as Octokit's `request` hook sees it: GraphQL by its path (`/graphql`, or `/api/graphql` on
 * GitHub Enterprise), a mutation by its document (any mention of `mutation` counts, erring on the side of a write).
 *
 * @example requestCost({ method: "POST", url: "/graphql", query: "query { viewer { login } }" })
 *          // → { endpoint: "graphql", points: 1, write: false }
 */
export function requestCost(options: { method?: string; url?: string; query?: unknown }): RequestCost {
  const method = (options.method ?? "GET").toUpperCase();
  const path = new URL(options.url ?? "/", "http://github.invalid").pathname;
  if (/\/graphql\/?$/.test(path)) {
    const mutation = typeof options.query !== "string" || /\bmutation\b/.test(options.query);
    return { endpoint: "graphql", points: mutation ? 5 : 1, write: mutation };
  }
  const read = READ_METHODS.has(method);
  return { endpoint: "rest", points: read ? 1 : 5, write: !read };
}

type Groups = Record<"write" | "writes" | "rest" | "graphql", Bottleneck.Group>;

function createGroups(B: typeof Bottleneck, connection: Bottleneck.IORedisConnection | undefined): Groups {
  // With Redis (Probot's connection) the budgets are the cluster's, not each replica's.
  const common = connection ? { connection } : {};
  const bucket = (id: string, capacity: number, amount: number, intervalMs: number, timeout: number) =>
    new B.Group({
      id,
      ...common,
      reservoir: capacity,
      reservoirIncreaseAmount: amount,
      reservoirIncreaseInterval: intervalMs,
      reservoirIncreaseMaximum: capacity,
      // An idle installation's limiter is dropped (and comes back full) only once it would have refilled anyway.
      timeout,
    });
  return {
    write: new B.Group({ id: "digest-pin-write", ...common, maxConcurrent: 1, minTime: LIMITS.writeSpacingMs }),
    writes: bucket("digest-pin-writes", LIMITS.writes.capacity, 1, LIMITS.writes.refillMs, 2 * 3600_000),
    rest: bucket("digest-pin-rest", LIMITS.rest.capacity, LIMITS.rest.perSecond, 1000, 5 * 60_000),
    graphql: bucket("digest-pin-graphql", LIMITS.graphql.capacity, LIMITS.graphql.perSecond, 1000, 5 * 60_000),
  };
}

interface ThrottleOptions {
  enabled?: boolean;
  id?: string;
  Bottleneck?: typeof Bottleneck;
  connection?: Bottleneck.IORedisConnection;
}

type Hook = (request: (o: Record<string, unknown>) => Promise<unknown>, options: Record<string, unknown>) => Promise<unknown>;
type Hookable = { hook: { wrap: (name: "request", hook: Hook) => void } };

const noop = () => Promise.resolve();

/**
 * An Octokit plugin that paces each installation's requests within GitHub's secondary limits (see the top of this
 * file). It shares Probot's throttle switch and key: off when `throttle.enabled` is false, per `throttle.id`.
 */
export function githubPacing(): (octokit: Hookable, options: { throttle?: ThrottleOptions }) => void {
  let groups: Groups | undefined;
  return (octokit, options) => {
    const throttle = options.throttle ?? {};
    if (throttle.enabled === false) return;
    const id = throttle.id ?? "no-id";
    const clustered = throttle.connection !== undefined;
    // A slot held by a replica that died is given back after a minute, as the throttling plugin does.
    const job = clustered ? { expiration: 60_000 } : {};
    octokit.hook.wrap("request", async (request, requestOptions) => {
      groups ??= createGroups(throttle.Bottleneck ?? Bottleneck, throttle.connection);
      const cost = requestCost(requestOptions);
      await groups[cost.endpoint].key(id).schedule({ ...job, weight: cost.points }, noop);
      if (cost.write) {
        await groups.writes.key(id).schedule({ ...job, weight: 1 }, noop);
        // Last, right before sending: a write that waited on a budget must not end up closer to the next one.
        await groups.write.key(id).schedule(job, noop);
      }
      return request(requestOptions);
    });
  };
}

/** Stands in for the throttling plugin's write gate, which would pace GraphQL queries as writes. */
const UNPACED_WRITES = { key: () => ({ schedule: (_options: unknown, task: () => Promise<unknown>) => task() }) };

/**
 * Probot's Octokit with the app's pacing: what `npm start` runs, and what benchmarks run to measure what an operator
 * sees. Probot's retries and throttling stay on.
 *
 * @example await run(app, { Octokit: AppOctokit }) // src/app/main.ts
 */
export const AppOctokit: typeof ProbotOctokit = ProbotOctokit.plugin(githubPacing() as never).defaults(
  (options: { throttle?: object }) => ({ ...options, throttle: { ...options.throttle, write: UNPACED_WRITES } }),
);
