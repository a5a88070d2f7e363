// The CLI's bounds, through the built command: one deadline per reference (DIGEST_PIN_REFERENCE_TIMEOUT) however
// often a registry asks to be retried, and settings checked before any work.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkout, cli } from "../helpers/cli.js";

let server: http.Server;
let host: string;
const seen: string[] = [];

beforeAll(async () => {
  // Every tag is redirected once, then answered 503 with Retry-After: 1, for ever.
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith("/v2/moved/")) res.writeHead(307, { location: "/v2/busy/app/manifests/1" }).end();
    else res.writeHead(503, { "retry-after": "1" }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("digest-pin and its deadlines", () => {
  it("check gives each reference one deadline for all its requests and reports TIMEOUT", async () => {
    const dir = await checkout({ Dockerfile: `FROM ${host}/moved/app:1\n` });
    const env = { DIGEST_PIN_INSECURE_REGISTRIES: host, DIGEST_PIN_REFERENCE_TIMEOUT: "400ms" };
    const run = await cli(["check", dir, "--json"], env);
    expect(run.code, run.stderr).toBe(2);
    const out = JSON.parse(run.stdout) as { errors: { text: string; error: string }[] };
    expect(out.errors).toEqual([
      {
        path: "Dockerfile",
        line: 1,
        text: `${host}/moved/app:1`,
        code: "TIMEOUT",
        error: `${host}/moved/app:1: gave up after 0.4 s, the time allowed for one reference (all its requests, retries and redirects)`,
      },
    ]);
    // The redirect and the first 503, then the one-second wait it asked for, cut short by the deadline.
    expect(seen).toEqual(["HEAD /v2/moved/app/manifests/1", "HEAD /v2/busy/app/manifests/1"]);

    const one = await cli(["resolve", `${host}/moved/app:2`], env);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain(`${host}/moved/app:2: gave up after 0.4 s, the time allowed for one reference`);
  });

  it("refuses a malformed bound before any request", async () => {
    const dir = await checkout({ Dockerfile: `FROM ${host}/moved/app:1\n` });
    const before = seen.length;
    const run = await cli(["check", dir], { DIGEST_PIN_INSECURE_REGISTRIES: host, DIGEST_PIN_REGISTRY_CONCURRENCY: "many" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DIGEST_PIN_REGISTRY_CONCURRENCY: "many" is not a positive whole number');
    expect(seen.length).toBe(before);
  });
});
