// Operations endpoints on the app's HTTP server: liveness (/healthz), readiness (/readyz) and Prometheus metrics
// (/metrics). A Probot handler: it answers these GET/HEAD paths and passes everything else on.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunctionOptions } from "probot";
import type { Metrics } from "./metrics.js";

/** Probot's request handler type: true when it answered the request, false to pass it on. */
export type Handler = Parameters<ApplicationFunctionOptions["addHandler"]>[0];

export interface Readiness {
  ok: boolean;
  /** Why not ready (`redis unreachable: …`); shown in the 503 answer. */
  detail?: string;
}

export interface OpsOptions {
  metrics: Metrics;
  /** Whether the app can do its work now (Redis reachable, …). Bounded by `readyTimeoutMs`. */
  ready: () => Promise<Readiness>;
  /** How long /readyz waits for `ready()`; default 2 s. */
  readyTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 2_000;
const MAX_DETAIL_LENGTH = 500;

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  const bytes = Buffer.from(body, "utf8");
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(bytes.length),
    "cache-control": "no-store",
  });
  res.end(req.method === "HEAD" ? undefined : bytes);
}

function json(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void {
  send(req, res, status, "application/json; charset=utf-8", JSON.stringify(value));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `ready()`, failing after `ms` and never rejecting. */
async function checkReady(ready: () => Promise<Readiness>, ms: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `readiness check timed out after ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(ready)
        .catch((error: unknown) => ({ ok: false, detail: `readiness check failed: ${messageOf(error)}` })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.search(/[?#]/);
  return q === -1 ? raw : raw.slice(0, q);
}

export function opsHandler({ metrics, ready, readyTimeoutMs = DEFAULT_READY_TIMEOUT_MS }: OpsOptions): Handler {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    switch (pathOf(req.url)) {
      case "/healthz":
        json(req, res, 200, { status: "ok" });
        return true;
      case "/readyz": {
        const result = await checkReady(ready, readyTimeoutMs);
        if (result.ok) {
          json(req, res, 200, { status: "ok" });
        } else {
          const detail = (result.detail ?? "not ready").slice(0, MAX_DETAIL_LENGTH);
          json(req, res, 503, { status: "unavailable", detail });
        }
        return true;
      }
      case "/metrics": {
        try {
          const { contentType, body } = await metrics.render();
          send(req, res, 200, contentType, body);
        } catch (error) {
          send(req, res, 500, "text/plain; charset=utf-8", `metrics unavailable: ${messageOf(error)}\n`);
        }
        return true;
      }
      default:
        return false;
    }
  };
}
