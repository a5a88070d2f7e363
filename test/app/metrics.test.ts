import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/app/metrics.js";

function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf("{");
    const close = line.lastIndexOf("}");
    const text = open !== -1 && open < line.indexOf(" ") ? line.slice(open + 1, close) : "";
    const found: Record<string, string> = {};
    for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

describe("createMetrics", () => {
  it("renders every metric with its labels after the helpers are called", async () => {
    const m = createMetrics();
    m.scanFinished("opened");
    m.scanFinished("opened");
    m.scanFinished("config_error");
    m.referencesCounted({
      changes: [{ oldDigest: null }, { oldDigest: null }, { oldDigest: "sha256:aa" }],
      skipped: [{}],
      errors: [{}, {}],
      current: [{}, {}, {}, {}],
    });
    m.registryRequest({ host: "Registry-1.Docker.io", kind: "head", outcome: "2xx" });
    m.registryRequest({ host: "ghcr.io", kind: "token", outcome: "timeout" });
    m.githubRequest({ method: "get", route: "GET /repos/{owner}/{repo}/git/trees/{tree_sha}", status: 304 });
    m.githubRequest({
      method: "POST",
      route: "POST /repos/{owner}/{repo}/pulls",
      status: 201,
      rateLimitRemaining: 4999,
      installation: 42,
    });
    m.githubRequest({ method: "GET", route: "GET /app", status: 0 });
    m.observeJob("scan", 0.3);
    m.observeJob("drift", 42);
    m.setQueueDepthSource(async () => 7);

    const { contentType, body } = await m.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(body, "digest_pin_scans_total", { outcome: "opened" })).toBe(2);
    expect(sample(body, "digest_pin_scans_total", { outcome: "config_error" })).toBe(1);
    expect(sample(body, "digest_pin_references_total", { status: "pin" })).toBe(2);
    expect(sample(body, "digest_pin_references_total", { status: "refresh" })).toBe(1);
    expect(sample(body, "digest_pin_references_total", { status: "current" })).toBe(4);
    expect(sample(body, "digest_pin_references_total", { status: "skipped" })).toBe(1);
    expect(sample(body, "digest_pin_references_total", { status: "error" })).toBe(2);
    expect(
      sample(body, "digest_pin_registry_requests_total", { host: "registry-1.docker.io", kind: "head", outcome: "2xx" }),
    ).toBe(1);
    expect(sample(body, "digest_pin_registry_requests_total", { host: "ghcr.io", kind: "token", outcome: "timeout" })).toBe(
      1,
    );
    expect(
      sample(body, "digest_pin_github_requests_total", {
        method: "GET",
        route: "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
        status: "304",
      }),
    ).toBe(1);
    expect(sample(body, "digest_pin_github_requests_total", { route: "POST /repos/{owner}/{repo}/pulls", status: "201" })).toBe(1);
    expect(sample(body, "digest_pin_github_requests_total", { route: "GET /app", status: "error" })).toBe(1);
    expect(sample(body, "digest_pin_rate_limit_remaining", { installation: "42" })).toBe(4999);
    expect(sample(body, "digest_pin_queue_depth")).toBe(7);
    expect(sample(body, "digest_pin_job_duration_seconds_count", { kind: "scan" })).toBe(1);
    expect(sample(body, "digest_pin_job_duration_seconds_bucket", { kind: "drift", le: "60" })).toBe(1);
    expect(sample(body, "digest_pin_job_duration_seconds_bucket", { kind: "drift", le: "30" })).toBe(0);
    expect(sample(body, "digest_pin_job_duration_seconds_bucket", { kind: "scan", le: "0.05" })).toBe(0);
    expect(body).toContain('le="300"');
    // Default process metrics are there too.
    expect(body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(body).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it("keeps each instance's registry separate", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.scanFinished("failed");
    expect(sample((await a.render()).body, "digest_pin_scans_total", { outcome: "failed" })).toBe(1);
    expect(sample((await b.render()).body, "digest_pin_scans_total", { outcome: "failed" })).toBeUndefined();
  });

  it("reads the queue depth at each scrape, NaN when the source fails or hangs", async () => {
    const m = createMetrics();
    expect(sample((await m.render()).body, "digest_pin_queue_depth")).toBe(0);
    let depth = 3;
    m.setQueueDepthSource(() => depth);
    expect(sample((await m.render()).body, "digest_pin_queue_depth")).toBe(3);
    depth = 5;
    expect(sample((await m.render()).body, "digest_pin_queue_depth")).toBe(5);
    m.setQueueDepthSource(() => Promise.reject(new Error("redis down")));
    expect(sample((await m.render()).body, "digest_pin_queue_depth")).toBeNaN();
    m.setQueueDepthSource(() => new Promise<number>(() => {}));
    const started = Date.now();
    expect(sample((await m.render()).body, "digest_pin_queue_depth")).toBeNaN();
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("adds nothing for an empty plan and ignores negative durations", async () => {
    const m = createMetrics();
    m.referencesCounted({ changes: [], skipped: [], errors: [], current: [] });
    m.observeJob("scan", -1);
    const { body } = await m.render();
    expect(sample(body, "digest_pin_references_total", { status: "pin" })).toBeUndefined();
    expect(sample(body, "digest_pin_job_duration_seconds_count", { kind: "scan" })).toBeUndefined();
    expect(body).toContain("# TYPE digest_pin_references_total counter");
    expect(body).toContain("# TYPE digest_pin_job_duration_seconds histogram");
  });
});
