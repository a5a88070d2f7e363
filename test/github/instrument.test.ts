import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import {
  instrumentOctokit,
  normalizeApiPath,
  octokitInstrumentation,
  routeOf,
  type GithubRequestInfo,
} from "../../src/github/instrument.js";

const TOKEN = "ghs_secretinstallationtoken0123456789";

let server: Server | undefined;
const seen: Array<{ method: string; url: string; authorization?: string }> = [];

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  seen.length = 0;
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** A tiny GitHub: a tree (200), a repository that has not changed (304), a missing one (404), paginated pulls. */
async function fakeGithub(): Promise<string> {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    const base = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    const url = new URL(req.url ?? "/", base);
    if (url.pathname === "/repos/octo/hello/git/trees/0123456789abcdef0123456789abcdef01234567") {
      return json(res, 200, { sha: "0123456789abcdef0123456789abcdef01234567", tree: [] }, { "x-ratelimit-remaining": "4321" });
    }
    if (url.pathname === "/repos/octo/hello") {
      res.writeHead(304, { etag: '"abc"', "x-ratelimit-remaining": "4320" }).end();
      return;
    }
    if (url.pathname === "/repositories/42/pulls") {
      const page = url.searchParams.get("page") ?? "1";
      const link: Record<string, string> = page === "1" ? { link: `<${base}/repositories/42/pulls?page=2>; rel="next"` } : {};
      return json(res, 200, [{ number: Number(page) }], link);
    }
    json(res, 404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function octokitFor(baseUrl: string) {
  return new ProbotOctokit({ auth: { token: TOKEN }, baseUrl, throttle: { enabled: false }, retry: { enabled: false } });
}

describe("instrumentOctokit", () => {
  it("reports route templates and statuses of answers, 304 and errors included", async () => {
    const baseUrl = await fakeGithub();
    const octokit = octokitFor(baseUrl);
    const infos: GithubRequestInfo[] = [];
    instrumentOctokit(octokit, (info) => infos.push(info));

    const tree = await octokit.rest.git.getTree({
      owner: "octo",
      repo: "hello",
      tree_sha: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(tree.status).toBe(200);
    await expect(
      octokit.request("GET /repos/{owner}/{repo}", { owner: "octo", repo: "hello", headers: { "if-none-match": '"abc"' } }),
    ).rejects.toMatchObject({ status: 304 });
    await expect(octokit.rest.repos.get({ owner: "octo", repo: "missing" })).rejects.toMatchObject({ status: 404 });

    expect(infos.map(({ method, route, status, rateLimitRemaining }) => ({ method, route, status, rateLimitRemaining }))).toEqual([
      { method: "GET", route: "GET /repos/{owner}/{repo}/git/trees/{tree_sha}", status: 200, rateLimitRemaining: 4321 },
      { method: "GET", route: "GET /repos/{owner}/{repo}", status: 304, rateLimitRemaining: 4320 },
      { method: "GET", route: "GET /repos/{owner}/{repo}", status: 404, rateLimitRemaining: undefined },
    ]);
    for (const info of infos) {
      expect(info.durationMs).toBeGreaterThanOrEqual(0);
      expect(info.durationMs).toBeLessThan(10_000);
    }
    // The token went to the server, and nowhere near the observer.
    expect(seen[0]!.authorization).toBe(`token ${TOKEN}`);
    expect(JSON.stringify(infos)).not.toContain(TOKEN);
    expect(JSON.stringify(infos)).not.toContain("octo");
  });

  it("collapses pagination's requests (expanded first page, full next links) to one template-like path", async () => {
    const baseUrl = await fakeGithub();
    const octokit = octokitFor(baseUrl);
    const infos: GithubRequestInfo[] = [];
    instrumentOctokit(octokit, (info) => infos.push(info));
    const pulls = await octokit.paginate("GET /repositories/{repository_id}/pulls", { repository_id: 42 });
    expect(pulls).toHaveLength(2);
    expect(seen.map((s) => s.url)).toEqual(["/repositories/42/pulls", "/repositories/42/pulls?page=2"]);
    // paginate() expands the route itself, so even the first page arrives as a concrete URL.
    expect(infos.map((i) => `${i.route} ${i.status}`)).toEqual([
      "GET /repositories/{id}/pulls 200",
      "GET /repositories/{id}/pulls 200",
    ]);
    infos.length = 0;
    await octokit.paginate(octokit.rest.repos.listTags, { owner: "octo", repo: "hello" }).catch(() => []);
    expect(infos.map((i) => `${i.route} ${i.status}`)).toEqual(["GET /repos/{owner}/{repo}/tags 404"]);
  });

  it("reports a request that got no answer as status 0 and re-throws it", async () => {
    const baseUrl = await fakeGithub();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const octokit = octokitFor(baseUrl);
    const infos: GithubRequestInfo[] = [];
    instrumentOctokit(octokit, (info) => infos.push(info));
    await expect(octokit.request("GET /rate_limit")).rejects.toThrow();
    expect(infos).toEqual([expect.objectContaining({ method: "GET", route: "GET /rate_limit", status: 0 })]);
  });

  it("a throwing observer does not break requests; the plugin form works too", async () => {
    const baseUrl = await fakeGithub();
    const infos: GithubRequestInfo[] = [];
    const Instrumented = ProbotOctokit.plugin(octokitInstrumentation((info) => infos.push(info)));
    const octokit = new Instrumented({ auth: { token: TOKEN }, baseUrl, throttle: { enabled: false }, retry: { enabled: false } });
    instrumentOctokit(octokit, () => {
      throw new Error("observer bug");
    });
    await expect(octokit.rest.repos.get({ owner: "octo", repo: "missing" })).rejects.toMatchObject({ status: 404 });
    expect(infos.map((i) => `${i.route} ${i.status}`)).toEqual(["GET /repos/{owner}/{repo} 404"]);
  });
});

describe("routeOf", () => {
  it("keeps templates, strips queries, collapses concrete paths", () => {
    expect(routeOf("get", "/repos/{owner}/{repo}/contents/{path}")).toBe("GET /repos/{owner}/{repo}/contents/{path}");
    expect(routeOf("GET", "/search/code{?q}")).toBe("GET /search/code");
    expect(routeOf("GET", "/rate_limit")).toBe("GET /rate_limit");
    expect(routeOf("POST", "/app/installations/123/access_tokens")).toBe("POST /app/installations/{id}/access_tokens");
    expect(routeOf("GET", "https://api.github.com/repositories/42/pulls?page=3&per_page=100")).toBe(
      "GET /repositories/{id}/pulls",
    );
    expect(routeOf("GET", "https://ghe.example.com/api/v3/repos/a/b/issues?page=2")).toBe(
      "GET /repos/{owner}/{repo}/issues",
    );
  });

  it("replaces owners, repositories, shas, refs and paths with placeholders", () => {
    expect(normalizeApiPath("/repos/Octo-Org/hello.world/git/trees/0123456789abcdef0123456789abcdef01234567")).toBe(
      "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    );
    expect(normalizeApiPath("/repos/o/contents/contents/docker/app/Dockerfile")).toBe("/repos/{owner}/{repo}/contents/{path}");
    expect(normalizeApiPath("/repos/o/r/git/ref/heads/digest-pin/main")).toBe("/repos/{owner}/{repo}/git/ref/{ref}");
    expect(normalizeApiPath("/repos/o/r/branches/main/protection")).toBe("/repos/{owner}/{repo}/branches/{branch}/protection");
    expect(normalizeApiPath("/repos/o/r/pulls/17/commits")).toBe("/repos/{owner}/{repo}/pulls/{id}/commits");
    expect(normalizeApiPath("/repos/o/r/issues/comments/99")).toBe("/repos/{owner}/{repo}/issues/comments/{id}");
    expect(normalizeApiPath("/users/SomeUser/installation")).toBe("/users/{username}/installation");
    expect(normalizeApiPath("/repos/o/r/tags/protection")).toBe("/repos/{owner}/{repo}/tags/protection");
    expect(normalizeApiPath("/weird/Path With Spaces/x.y")).toBe("/weird/{value}/{value}");
  });
});
