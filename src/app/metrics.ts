// Prometheus metrics for the app: scans, references, registry and GitHub requests, the queue and job durations. Each
// createMetrics() has its own registry, so tests and several apps in one process never clash over metric names.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export type ScanMetricOutcome =
  | "opened"
  | "updated"
  | "unchanged"
  | "closed"
  | "blocked"
  | "none"
  | "skipped"
  | "config_error"
  | "failed";

export type ReferenceStatus = "pin" | "refresh" | "current" | "skipped" | "error";

export type JobKind = "scan" | "drift";

/** The parts of a Plan the reference counter needs (a Plan fits). */
export interface PlanLike {
  changes: ReadonlyArray<{ oldDigest: string | null }>;
  skipped: readonly unknown[];
  errors: readonly unknown[];
  current: readonly unknown[];
}

export interface RegistryRequestMetric {
  host: string;
  kind: "head" | "get" | "token";
  /** A status class (`2xx`…) or an error code (`network`, `timeout`, `refused_host`…). */
  outcome: string;
}

export interface GithubRequestMetric {
  method: string;
  /** The Octokit route template (`GET /repos/{owner}/{repo}/git/trees/{tree_sha}`), never a concrete URL. */
  route: string;
  /** The HTTP status; 0 (or less) when no answer arrived. */
  status: number;
  /** With `installation`, sets digest_pin_rate_limit_remaining for that installation. */
  rateLimitRemaining?: number;
  installation?: string | number;
}

export interface Metrics {
  readonly registry: Registry;
  scanFinished(outcome: ScanMetricOutcome): void;
  /** Count a finished plan's references by what happens to them. */
  referencesCounted(plan: PlanLike): void;
  registryRequest(info: RegistryRequestMetric): void;
  githubRequest(info: GithubRequestMetric): void;
  observeJob(kind: JobKind, seconds: number): void;
  /** Where digest_pin_queue_depth comes from; read at each scrape (bounded to 1 s; NaN when it fails). */
  setQueueDepthSource(source: () => Promise<number> | number): void;
  render(): Promise<{ contentType: string; body: string }>;
}

const QUEUE_DEPTH_TIMEOUT_MS = 1_000;

/** 0.05 s to 5 min. */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

function withTimeout<T>(value: Promise<T> | T, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    Promise.resolve(value).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const scans = new Counter({
    name: "digest_pin_scans_total",
    help: "Repository scans finished, by outcome (the pull request action, or why there was none).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const references = new Counter({
    name: "digest_pin_references_total",
    help: "Image references seen by scans, by what happened to them.",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const registryRequests = new Counter({
    name: "digest_pin_registry_requests_total",
    help: "HTTP attempts to container registries (retries and redirect hops count separately).",
    labelNames: ["host", "kind", "outcome"] as const,
    registers: [registry],
  });
  const githubRequests = new Counter({
    name: "digest_pin_github_requests_total",
    help: "GitHub API requests, by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  let queueDepthSource: (() => Promise<number> | number) | undefined;
  new Gauge({
    name: "digest_pin_queue_depth",
    help: "Jobs waiting in the work queue.",
    registers: [registry],
    async collect() {
      if (!queueDepthSource) return;
      try {
        const depth = await withTimeout(queueDepthSource(), QUEUE_DEPTH_TIMEOUT_MS);
        this.set(Number.isFinite(depth) ? depth : Number.NaN);
      } catch {
        this.set(Number.NaN);
      }
    },
  });
  const jobDuration = new Histogram({
    name: "digest_pin_job_duration_seconds",
    help: "How long jobs ran, by kind.",
    labelNames: ["kind"] as const,
    buckets: JOB_DURATION_BUCKETS,
    registers: [registry],
  });
  const rateLimit = new Gauge({
    name: "digest_pin_rate_limit_remaining",
    help: "GitHub API requests left in the current rate-limit window, per installation (as of the last response).",
    labelNames: ["installation"] as const,
    registers: [registry],
  });

  return {
    registry,
    scanFinished(outcome) {
      scans.inc({ outcome });
    },
    referencesCounted(plan) {
      let pin = 0;
      for (const change of plan.changes) if (change.oldDigest === null) pin++;
      const counts: Record<ReferenceStatus, number> = {
        pin,
        refresh: plan.changes.length - pin,
        current: plan.current.length,
        skipped: plan.skipped.length,
        error: plan.errors.length,
      };
      for (const [status, n] of Object.entries(counts)) if (n > 0) references.inc({ status }, n);
    },
    registryRequest({ host, kind, outcome }) {
      registryRequests.inc({ host: host.toLowerCase(), kind, outcome });
    },
    githubRequest({ method, route, status, rateLimitRemaining, installation }) {
      githubRequests.inc({
        method: method.toUpperCase(),
        route,
        status: status > 0 ? String(status) : "error",
      });
      if (installation !== undefined && rateLimitRemaining !== undefined && Number.isFinite(rateLimitRemaining)) {
        rateLimit.set({ installation: String(installation) }, rateLimitRemaining);
      }
    },
    observeJob(kind, seconds) {
      if (Number.isFinite(seconds) && seconds >= 0) jobDuration.observe({ kind }, seconds);
    },
    setQueueDepthSource(source) {
      queueDepthSource = source;
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
