import { Octokit as CoreOctokit } from "@octokit/core";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub, hashObject } from "../../bench/harness/fake-github.js";
import {
  MemoryConditionalCache,
  enableConditionalRequests,
  stats,
  type CachedResponse,
  type ConditionalCache,
} from "../../src/github/conditional.js";
import type { Octokit } from "../../src/github/files.js";

let gh: FakeGitHub;
let clock: number;

function client(installation = 1): Octokit {
  return new ProbotOctokit({
    auth: { token: gh.createInstallationToken(installation) },
    baseUrl: gh.apiUrl,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
}

function sentValidators(): string[] {
  return gh.calls.map((c) => (c.notModified ? "304" : String(c.status)));
}

beforeEach(async () => {
  clock = Date.parse("2026-03-01T00:00:00Z");
  gh = await FakeGitHub.start({ now: () => clock });
  gh.addInstallation(1, { login: "acme" });
  gh.addRepo(1, { name: "web", files: { Dockerfile: "FROM alpine:3.19\n" } });
});

afterEach(async () => {
  await gh.close();
});

describe("enableConditionalRequests", () => {
  it("turns a repeated GET of an unchanged resource into a 304 answered from the store", async () => {
    const octokit = client();
    const conditional = enableConditionalRequests(octokit);
    const before = stats().notModified;
    gh.resetCounts();
    const first = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    const second = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(gh.counts()).toMatchObject({ total: 2, notModified: 1, counted: 1 });
    expect(second.status).toBe(200);
    expect(second.data).toEqual(first.data);
    expect(second.headers.etag).toBe(first.headers.etag);
    // The rate-limit headers are the 304's, which did not count.
    expect(first.headers["x-ratelimit-used"]).toBe("1");
    expect(second.headers["x-ratelimit-used"]).toBe("1");
    expect(conditional.stats()).toEqual({ conditional: 1, notModified: 1, stored: 1, skipped: 0, storeErrors: 0 });
    expect(stats().notModified).toBe(before + 1);
  });

  it("returns new data when the resource changed, and remembers it", async () => {
    const octokit = client();
    enableConditionalRequests(octokit);
    const first = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    clock += 5_000;
    gh.pushFiles("acme", "web", "main", { Dockerfile: "FROM alpine:3.20\n" });
    gh.resetCounts();
    const second = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(second.data.pushed_at).not.toBe(first.data.pushed_at);
    expect(second.data.pushed_at).toBe(gh.repositoryPayload("acme", "web").pushed_at);
    const third = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(third.data).toEqual(second.data);
    expect(sentValidators()).toEqual(["200", "304"]);
  });

  it("paginates 250 repositories twice: the second time every page is a 304", async () => {
    gh.addInstallation(7, { login: "fleet" });
    for (let i = 0; i < 250; i++) gh.addRepo(7, { name: `repo-${String(i).padStart(3, "0")}`, files: { Dockerfile: `FROM x:${i}\n` } });
    const octokit = client(7);
    const conditional = enableConditionalRequests(octokit, new MemoryConditionalCache(), { namespace: "installation:7" });
    gh.resetCounts();
    const first = await octokit.paginate("GET /installation/repositories", { per_page: 100 });
    const second = await octokit.paginate("GET /installation/repositories", { per_page: 100 });
    expect(first).toHaveLength(250);
    expect(second).toEqual(first);
    expect(sentValidators()).toEqual(["200", "200", "200", "304", "304", "304"]);
    expect(gh.counts().notModifiedByRoute).toEqual({ "GET /installation/repositories": 3 });
    expect(conditional.stats()).toMatchObject({ conditional: 3, notModified: 3, stored: 3 });
    // Also through the REST method helper (same URLs, same entries).
    const third = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    expect(third.map((r) => r.name)).toEqual(first.map((r) => r.name));
    expect(gh.counts().notModified).toBe(6);
  });

  it("works with Probot's retry and throttling plugins enabled", async () => {
    const octokit = new ProbotOctokit({ auth: { token: gh.createInstallationToken(1) }, baseUrl: gh.apiUrl });
    const conditional = enableConditionalRequests(octokit);
    const first = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    const second = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(second.data).toEqual(first.data);
    expect(gh.calls.map((c) => c.status)).toEqual([200, 304]);
    expect(conditional.stats().notModified).toBe(1);
  });

  it("leaves POST requests (GraphQL included) alone", async () => {
    const octokit = client();
    const conditional = enableConditionalRequests(octokit);
    const a = await octokit.rest.git.createBlob({ owner: "acme", repo: "web", content: "x" });
    const b = await octokit.rest.git.createBlob({ owner: "acme", repo: "web", content: "x" });
    expect([a.status, b.status]).toEqual([201, 201]);
    const q = "query { repository(owner: \"acme\", name: \"web\") { isEmpty } }";
    expect(await octokit.graphql(q)).toEqual({ repository: { isEmpty: false } });
    expect(await octokit.graphql(q)).toEqual({ repository: { isEmpty: false } });
    expect(gh.counts().notModified).toBe(0);
    expect(conditional.stats()).toEqual({ conditional: 0, notModified: 0, stored: 0, skipped: 0, storeErrors: 0 });
  });

  it("keeps out of requests that bring their own validator", async () => {
    const octokit = client();
    enableConditionalRequests(octokit);
    const first = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    const error = await octokit.rest.repos
      .get({ owner: "acme", repo: "web", headers: { "if-none-match": first.headers.etag as string } })
      .catch((e: unknown) => e);
    expect((error as { status: number }).status).toBe(304);
  });

  it("serves copies: changing returned data does not change what is remembered", async () => {
    const octokit = client();
    enableConditionalRequests(octokit);
    const first = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    first.data.name = "changed";
    const second = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(second.data.name).toBe("web");
    second.data.name = "changed again";
    expect((await octokit.rest.repos.get({ owner: "acme", repo: "web" })).data.name).toBe("web");
    expect(gh.counts().notModified).toBe(2);
  });

  it("keeps entries apart by namespace and by Accept header", async () => {
    const store = new MemoryConditionalCache();
    const a = client();
    const b = client();
    enableConditionalRequests(a, store, { namespace: "installation:1" });
    enableConditionalRequests(b, store, { namespace: "installation:2" });
    await a.rest.repos.get({ owner: "acme", repo: "web" });
    await b.rest.repos.get({ owner: "acme", repo: "web" });
    expect(store.size).toBe(2);
    expect(gh.counts().notModified).toBe(0);

    const blob = { owner: "acme", repo: "web", file_sha: hashObject("blob", Buffer.from("FROM alpine:3.19\n")) };
    const json = await a.rest.git.getBlob(blob);
    const raw = await a.rest.git.getBlob({ ...blob, mediaType: { format: "raw" } });
    const rawAgain = await a.rest.git.getBlob({ ...blob, mediaType: { format: "raw" } });
    const jsonAgain = await a.rest.git.getBlob(blob);
    expect(json.data.content).toBe(Buffer.from("FROM alpine:3.19\n").toString("base64") + "\n");
    expect(Buffer.from(rawAgain.data as unknown as ArrayBuffer).toString()).toBe("FROM alpine:3.19\n");
    expect(Buffer.from(raw.data as unknown as ArrayBuffer).toString()).toBe("FROM alpine:3.19\n");
    expect(jsonAgain.data).toEqual(json.data);
    expect(gh.counts().notModified).toBe(2);
  });

  it("does not remember bodies over the size limit", async () => {
    const octokit = client();
    const conditional = enableConditionalRequests(octokit, new MemoryConditionalCache(), { maxBodyBytes: 100 });
    await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(gh.counts().notModified).toBe(0);
    expect(conditional.stats()).toMatchObject({ stored: 0, skipped: 2, conditional: 0 });
  });

  it("goes on without a store that fails", async () => {
    const broken: ConditionalCache = {
      get: () => Promise.reject(new Error("redis down")),
      set: () => {
        throw new Error("redis down");
      },
    };
    const octokit = client();
    const conditional = enableConditionalRequests(octokit, broken);
    const a = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    const b = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(b.data).toEqual(a.data);
    expect(conditional.stats()).toMatchObject({ storeErrors: 4, notModified: 0 });
  });

  it("works with an async store", async () => {
    const map = new Map<string, string>();
    const store: ConditionalCache = {
      get: async (key) => {
        const raw = map.get(key);
        return raw === undefined ? undefined : (JSON.parse(raw) as CachedResponse);
      },
      set: async (key, value) => {
        map.set(key, JSON.stringify(value));
      },
    };
    const octokit = client();
    enableConditionalRequests(octokit, store, { namespace: "installation:1" });
    const a = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    const b = await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(b.data).toEqual(a.data);
    expect(gh.counts().notModified).toBe(1);
    expect([...map.keys()][0]).toMatch(/^installation:1\nGET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/repos\/acme\/web\napplication\/vnd\.github\.v3\+json$/);
    expect([...map.keys()].join()).not.toContain("ghs_");
  });

  it("enabling twice keeps one hook", async () => {
    const octokit = client();
    const first = enableConditionalRequests(octokit);
    expect(enableConditionalRequests(octokit)).toBe(first);
    await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    await octokit.rest.repos.get({ owner: "acme", repo: "web" });
    expect(first.stats()).toMatchObject({ conditional: 1, notModified: 1, stored: 1 });
  });

  it("uses Last-Modified when there is no ETag", async () => {
    const seen: (string | null)[] = [];
    const fetch = async (_url: string, init: { headers: Record<string, string> }): Promise<Response> => {
      const since = init.headers["if-modified-since"] ?? null;
      seen.push(since);
      const lastModified = "Sun, 01 Mar 2026 00:00:00 GMT";
      if (since === lastModified) return new Response(null, { status: 304, headers: { "x-ratelimit-remaining": "4999" } });
      return new Response(JSON.stringify({ hello: "world" }), {
        status: 200,
        headers: { "content-type": "application/json", "last-modified": lastModified, "x-ratelimit-remaining": "4998" },
      });
    };
    const octokit = new CoreOctokit({ request: { fetch } });
    enableConditionalRequests(octokit as unknown as Octokit);
    const a = await octokit.request("GET /thing");
    const b = await octokit.request("GET /thing");
    expect(b.data).toEqual(a.data);
    expect(b.headers["x-ratelimit-remaining"]).toBe("4999");
    expect(b.headers["last-modified"]).toBe("Sun, 01 Mar 2026 00:00:00 GMT");
    expect(seen).toEqual([null, "Sun, 01 Mar 2026 00:00:00 GMT"]);
  });
});

describe("MemoryConditionalCache", () => {
  const entry = (size: number): CachedResponse => ({ etag: "W/\"x\"", status: 200, url: "u", headers: {}, data: null, size });

  it("evicts the least recently used entries past its bounds", () => {
    const cache = new MemoryConditionalCache({ maxEntries: 2, maxBytes: 100 });
    cache.set("a", entry(10));
    cache.set("b", entry(10));
    expect(cache.get("a")).toBeDefined(); // a is now the most recent
    cache.set("c", entry(10));
    expect([cache.get("a") !== undefined, cache.get("b") !== undefined, cache.get("c") !== undefined]).toEqual([true, false, true]);
    cache.set("d", entry(95)); // over 100 bytes together: the oldest go
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(95);
    cache.set("huge", entry(101));
    expect(cache.get("huge")).toBeUndefined();
    cache.set("d", entry(5));
    expect(cache.bytes).toBe(5);
    cache.delete("d");
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });
});
