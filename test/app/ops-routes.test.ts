import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/app/metrics.js";
import { opsHandler, type Readiness } from "../../src/app/ops-routes.js";

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that runs the handler first and answers 404 itself when the handler passes. */
async function serve(options: Parameters<typeof opsHandler>[0]): Promise<string> {
  const handler = opsHandler(options);
  server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).then(
      (handled) => {
        if (!handled) res.writeHead(404, { "content-type": "text/plain" }).end("fallthrough 404");
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(base: string, path: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const okReady = async (): Promise<Readiness> => ({ ok: true });

describe("opsHandler", () => {
  it("GET /healthz is 200 {status: ok}", async () => {
    const base = await serve({ metrics: createMetrics(), ready: okReady });
    const res = await call(base, "/healthz");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
    expect((await call(base, "/healthz?probe=1")).status).toBe(200);
  });

  it("GET /readyz is 200 when ready, 503 with the detail when not", async () => {
    let state: Readiness = { ok: true };
    const base = await serve({ metrics: createMetrics(), ready: async () => state });
    const up = await call(base, "/readyz");
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body)).toEqual({ status: "ok" });

    state = { ok: false, detail: "redis unreachable: connect ECONNREFUSED 127.0.0.1:6379" };
    const down = await call(base, "/readyz");
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({
      status: "unavailable",
      detail: "redis unreachable: connect ECONNREFUSED 127.0.0.1:6379",
    });
  });

  it("GET /readyz is 503 when ready() throws or takes too long", async () => {
    const throwing = await serve({
      metrics: createMetrics(),
      ready: async () => {
        throw new Error("boom");
      },
    });
    const failed = await call(throwing, "/readyz");
    expect(failed.status).toBe(503);
    expect(JSON.parse(failed.body).detail).toContain("boom");
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const hanging = await serve({ metrics: createMetrics(), ready: () => new Promise(() => {}), readyTimeoutMs: 200 });
    const started = Date.now();
    const slow = await call(hanging, "/readyz");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(slow.status).toBe(503);
    expect(JSON.parse(slow.body).detail).toMatch(/timed out/);
  });

  it("bounds ready() to 2 s by default", async () => {
    const base = await serve({ metrics: createMetrics(), ready: () => new Promise(() => {}) });
    const started = Date.now();
    const res = await call(base, "/readyz");
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).detail).toBe("readiness check timed out after 2000 ms");
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(4_000);
  });

  it("GET /metrics is Prometheus text with the app's metrics", async () => {
    const metrics = createMetrics();
    metrics.scanFinished("unchanged");
    const base = await serve({ metrics, ready: okReady });
    const res = await call(base, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toContain('digest_pin_scans_total{outcome="unchanged"} 1');
    expect(res.body).toContain("# TYPE digest_pin_scans_total counter");
  });

  it("HEAD answers like GET without a body", async () => {
    const base = await serve({ metrics: createMetrics(), ready: okReady });
    const head = await call(base, "/metrics", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-type"]).toMatch(/^text\/plain/);
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
    expect(head.body).toBe("");
    expect((await call(base, "/healthz", "HEAD")).status).toBe(200);
  });

  it("passes other paths and methods on", async () => {
    const base = await serve({ metrics: createMetrics(), ready: okReady });
    for (const [path, method] of [
      ["/", "GET"],
      ["/api/github/webhooks", "POST"],
      ["/metrics", "POST"],
      ["/healthz/extra", "GET"],
      ["/metricsx", "GET"],
    ] as const) {
      const res = await call(base, path, method);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toBe("fallthrough 404");
    }
  });
});
