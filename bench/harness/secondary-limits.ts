// GitHub's secondary rate limits as GitHub documents them ("Rate limits for the REST API", docs.github.com), for the
// stand-in GitHub: per actor (an installation, the app, a user), at most 100 requests in flight (REST and GraphQL
// together), 900 points a minute for REST (GET, HEAD, OPTIONS 1 point, other methods 5) and 2,000 for GraphQL (a
// query 1, a mutation 5), and 80 content-generating requests a minute and 500 an hour. Windows slide over real time
// (not the fake's clock, which tests may freeze): what is limited is how fast requests really arrive.

export interface SecondaryLimitOptions {
  /** Requests in flight per actor (default 100). */
  concurrency?: number;
  /** REST points per actor in any 60 s (default 900). */
  restPointsPerMinute?: number;
  /** GraphQL points per actor in any 60 s (default 2,000). */
  graphqlPointsPerMinute?: number;
  /** Content-generating requests per actor in any 60 s (default 80) and any hour (default 500). */
  contentPerMinute?: number;
  contentPerHour?: number;
}

export interface RequestWeight {
  endpoint: "rest" | "graphql";
  points: number;
  /** Creates content: a REST POST or PUT (a token request aside), or a GraphQL mutation. */
  creates: boolean;
}

export type LimitName = "concurrency" | "rest-points" | "graphql-points" | "content-minute" | "content-hour";

export type Admission = { ok: true } | { ok: false; limit: LimitName; retryAfterSeconds: number };

/** What a request weighs, by GitHub's rules. `mutation` only matters for GraphQL. */
export function weigh(method: string, route: string, mutation: boolean): RequestWeight {
  if (route === "POST /graphql") return { endpoint: "graphql", points: mutation ? 5 : 1, creates: mutation };
  const read = method === "GET" || method === "HEAD" || method === "OPTIONS";
  const token = route === "POST /app/installations/{installation_id}/access_tokens";
  return { endpoint: "rest", points: read ? 1 : 5, creates: (method === "POST" || method === "PUT") && !token };
}

/** A GraphQL document whose operation is a mutation (an operation definition starting a line with `mutation`). */
export function isMutation(query: unknown): boolean {
  return typeof query === "string" && /^\s*mutation\b/m.test(query);
}

/** Amounts added at times, summed over the last `windowMs`. */
class SlidingWindow {
  private readonly entries: { at: number; amount: number }[] = [];
  private head = 0;
  private sum = 0;

  constructor(private readonly windowMs: number) {}

  total(now: number): number {
    while (this.head < this.entries.length && (this.entries[this.head] as { at: number }).at <= now - this.windowMs) {
      this.sum -= (this.entries[this.head] as { amount: number }).amount;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    return this.sum;
  }

  add(now: number, amount: number): void {
    this.entries.push({ at: now, amount });
    this.sum += amount;
  }

  /** Seconds until `needed` more fits under `limit` (at least 1). */
  secondsUntilRoom(now: number, limit: number, needed: number): number {
    let excess = this.total(now) + needed - limit;
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i] as { at: number; amount: number };
      excess -= entry.amount;
      if (excess <= 0) return Math.max(1, Math.ceil((entry.at + this.windowMs - now) / 1000));
    }
    return Math.ceil(this.windowMs / 1000);
  }
}

interface ActorState {
  inFlight: number;
  rest: SlidingWindow;
  graphql: SlidingWindow;
  contentMinute: SlidingWindow;
  contentHour: SlidingWindow;
}

/** The limits of every actor. */
export class SecondaryLimits {
  private readonly actors = new Map<string, ActorState>();
  private readonly limits: Required<SecondaryLimitOptions>;

  constructor(options: SecondaryLimitOptions = {}, private readonly now: () => number = Date.now) {
    this.limits = {
      concurrency: options.concurrency ?? 100,
      restPointsPerMinute: options.restPointsPerMinute ?? 900,
      graphqlPointsPerMinute: options.graphqlPointsPerMinute ?? 2000,
      contentPerMinute: options.contentPerMinute ?? 80,
      contentPerHour: options.contentPerHour ?? 500,
    };
  }

  private state(actor: string): ActorState {
    let s = this.actors.get(actor);
    if (!s) {
      s = {
        inFlight: 0,
        rest: new SlidingWindow(60_000),
        graphql: new SlidingWindow(60_000),
        contentMinute: new SlidingWindow(60_000),
        contentHour: new SlidingWindow(3_600_000),
      };
      this.actors.set(actor, s);
    }
    return s;
  }

  /** A request of `actor` arrived; call the result when its answer is sent. */
  enter(actor: string): () => void {
    const s = this.state(actor);
    s.inFlight++;
    let left = false;
    return () => {
      if (!left) s.inFlight--;
      left = true;
    };
  }

  /** Whether a request that has entered may be answered; if so, it is counted. */
  admit(actor: string, weight: RequestWeight): Admission {
    const s = this.state(actor);
    const now = this.now();
    const { limits } = this;
    if (s.inFlight > limits.concurrency) return { ok: false, limit: "concurrency", retryAfterSeconds: 60 };
    const [points, pointLimit, pointName] =
      weight.endpoint === "rest"
        ? [s.rest, limits.restPointsPerMinute, "rest-points" as const]
        : [s.graphql, limits.graphqlPointsPerMinute, "graphql-points" as const];
    if (points.total(now) + weight.points > pointLimit) {
      return { ok: false, limit: pointName, retryAfterSeconds: points.secondsUntilRoom(now, pointLimit, weight.points) };
    }
    if (weight.creates) {
      if (s.contentMinute.total(now) + 1 > limits.contentPerMinute) {
        return { ok: false, limit: "content-minute", retryAfterSeconds: s.contentMinute.secondsUntilRoom(now, limits.contentPerMinute, 1) };
      }
      if (s.contentHour.total(now) + 1 > limits.contentPerHour) {
        return { ok: false, limit: "content-hour", retryAfterSeconds: s.contentHour.secondsUntilRoom(now, limits.contentPerHour, 1) };
      }
      s.contentMinute.add(now, 1);
      s.contentHour.add(now, 1);
    }
    points.add(now, weight.points);
    return { ok: true };
  }
}
