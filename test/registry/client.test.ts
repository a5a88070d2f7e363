import { afterEach, describe, expect, it } from "vitest";
import { parseReference } from "../../src/reference.js";
import type { ImageReference } from "../../src/reference.js";
import { RegistryClient } from "../../src/registry/client.js";
import type { RegistryClientOptions, RegistryRequestInfo } from "../../src/registry/client.js";
import { CredentialStore } from "../../src/registry/credentials.js";
import { MEDIA_TYPES } from "../../src/registry/types.js";
import { installCredentialHelper } from "../helpers/credential-helper.js";
import { rejection } from "../helpers/rejection.js";
import { FakeRegistry, MockNet, sha256 } from "./fake-registry.js";
import type { Reply, SeenRequest } from "./fake-registry.js";

const HUB = "https://registry-1.docker.io";
const HUB_AUTH = "https://auth.docker.io";

function ref(text: string): ImageReference {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

let net: MockNet;
let client: RegistryClient | undefined;

function makeClient(options: RegistryClientOptions = {}): RegistryClient {
  client = new RegistryClient({ dispatcher: net.agent, retryBaseMs: 1, maxRetryDelayMs: 50, ...options });
  return client;
}

afterEach(async () => {
  await client?.close();
  client = undefined;
  await net?.close();
});

function hubTokenServer(token = "hub-token") {
  net.serve(HUB_AUTH, (req) => {
    if (!req.path.startsWith("/token?")) return undefined;
    return { status: 200, body: { token, expires_in: 300 } };
  });
}

describe("Docker Hub", () => {
  it("follows the Bearer challenge to auth.docker.io and resolves with one HEAD", async () => {
    net = new MockNet();
    const hub = new FakeRegistry(net, HUB, {
      auth: { kind: "bearer", realm: `${HUB_AUTH}/token`, service: "registry.docker.io", token: "hub-token" },
    });
    const index = hub.addIndex(["linux/amd64", "linux/arm64/v8"]);
    hub.tag("library/python", "3.12-slim", index.digest);
    hubTokenServer();

    const c = makeClient();
    const r = await c.resolve(ref("python:3.12-slim"));
    expect(r).toEqual({ digest: index.digest, mediaType: MEDIA_TYPES.ociIndex });

    const token = net.requestsTo(HUB_AUTH);
    expect(token).toHaveLength(1);
    const url = new URL(token[0]!.path, HUB_AUTH);
    expect(url.searchParams.get("service")).toBe("registry.docker.io");
    expect(url.searchParams.getAll("scope")).toEqual(["repository:library/python:pull"]);
    expect(token[0]!.headers.authorization).toBeUndefined();
    const hubRequests = net.requestsTo(HUB);
    expect(hubRequests.map((r) => r.method)).toEqual(["HEAD", "HEAD"]);
    expect(hubRequests[0]!.headers.accept).toContain(MEDIA_TYPES.dockerList);
    expect(hubRequests[0]!.headers.accept).toContain(MEDIA_TYPES.ociIndex);
    expect(hubRequests[1]!.headers.authorization).toBe("Bearer hub-token");
    expect(c.stats().requests).toMatchObject({ head: 2, get: 0, token: 1 });
  });

  it("asks for a token up front once the scheme is known, batching concurrent scopes into one request", async () => {
    net = new MockNet();
    const hub = new FakeRegistry(net, HUB, {
      auth: { kind: "bearer", realm: `${HUB_AUTH}/token`, service: "registry.docker.io", token: "hub-token" },
    });
    for (const name of ["python", "node", "alpine", "debian"]) {
      hub.tag(`library/${name}`, "latest", hub.addPlatformManifest("linux/amd64", name));
    }
    hubTokenServer();
    const c = makeClient();
    await c.resolve(ref("python"));
    await Promise.all(["node", "alpine", "debian"].map((n) => c.resolve(ref(n))));
    const tokens = net.requestsTo(HUB_AUTH);
    expect(tokens).toHaveLength(2);
    const scopes = new URL(tokens[1]!.path, HUB_AUTH).searchParams.getAll("scope").sort();
    expect(scopes).toEqual(["repository:library/alpine:pull", "repository:library/debian:pull", "repository:library/node:pull"]);
    // python: HEAD + HEAD; the others: one HEAD each with the token sent at once.
    expect(c.stats().requests.head).toBe(5);
  });

  it("sends docker.io credentials to auth.docker.io (same site), never to a realm on another site", async () => {
    net = new MockNet();
    const credentials = CredentialStore.fromEntries({ "https://index.docker.io/v1/": { username: "u", password: "p" } });
    const hub = new FakeRegistry(net, HUB, {
      auth: { kind: "bearer", realm: `${HUB_AUTH}/token`, service: "registry.docker.io", token: "hub-token" },
    });
    hub.tag("library/python", "3", hub.addPlatformManifest("linux/amd64"));
    hubTokenServer();
    const c = makeClient({ credentials });
    await c.resolve(ref("python:3"));
    expect(net.requestsTo(HUB_AUTH)[0]!.headers.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);

    // A registry whose challenge names a realm on someone else's site gets an anonymous token request.
    const other = new FakeRegistry(net, "https://registry.example.com", {
      auth: { kind: "bearer", realm: "https://tokens.elsewhere.example.net/token", service: "x", token: "t2" },
    });
    other.tag("team/app", "1", other.addPlatformManifest("linux/amd64"));
    net.serve("https://tokens.elsewhere.example.net", () => ({ status: 200, body: { access_token: "t2" } }));
    const c2 = new RegistryClient({
      dispatcher: net.agent,
      credentials: CredentialStore.fromEntries({ "registry.example.com": { username: "u", password: "secret" } }),
    });
    await c2.resolve(ref("registry.example.com/team/app:1"));
    const realmRequests = net.requestsTo("https://tokens.elsewhere.example.net");
    expect(realmRequests).toHaveLength(1);
    expect(realmRequests[0]!.headers.authorization).toBeUndefined();
    await c2.close();
  });
});

describe("Docker Hub through a credential helper", () => {
  it("asks the helper for https://index.docker.io/v1/, as Docker does, and sends its answer to auth.docker.io only", async () => {
    const helper = await installCredentialHelper();
    try {
      await helper.answer({ "https://index.docker.io/v1/": { username: "hubuser", secret: "hub-secret" } });
      net = new MockNet();
      const hub = new FakeRegistry(net, HUB, {
        auth: { kind: "bearer", realm: `${HUB_AUTH}/token`, service: "registry.docker.io", token: "hub-token" },
      });
      hub.tag("library/python", "3", hub.addPlatformManifest("linux/amd64"));
      hubTokenServer();
      const c = makeClient({
        credentials: CredentialStore.parse(JSON.stringify({ credsStore: helper.name }), "config.json"),
        credentialHelpers: { env: { ...process.env, PATH: helper.path } },
      });
      await c.resolve(ref("python:3"));
      expect((await helper.calls()).map((call) => [call.args, call.input])).toEqual([
        [["get"], "https://index.docker.io/v1/"],
      ]);
      const basic = `Basic ${Buffer.from("hubuser:hub-secret").toString("base64")}`;
      expect(net.requestsTo(HUB_AUTH).map((r) => r.headers.authorization)).toEqual([basic]);
      expect(net.requestsTo(HUB).every((r) => r.headers.authorization !== basic)).toBe(true);
    } finally {
      await helper.remove();
    }
  });
});

describe("identity tokens", () => {
  const REG = "https://registry.example.com";
  const identity = (token: string) =>
    CredentialStore.parse(JSON.stringify({ auths: { "registry.example.com": { identitytoken: token } } }), "config.json");

  it("are POSTed to the realm as a refresh-token grant; a redirect of that POST is not followed", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, REG, {
      auth: { kind: "bearer", realm: `${REG}/oauth2/token`, service: "registry.example.com", token: "t" },
    });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    reg.override = (req) =>
      req.path.startsWith("/oauth2/token")
        ? { status: 307, headers: { location: "https://collector.example.net/steal" } }
        : undefined;
    net.serve("https://collector.example.net", () => ({ status: 200, body: { access_token: "t" } }));
    const c = makeClient({ credentials: identity("refresh-secret-1") });
    const error = await rejection(c.resolve(ref("registry.example.com/team/app:1")));
    expect(error.message).toMatch(/answered 307/);
    expect(error.message).not.toContain("refresh-secret-1");
    const posts = net.requestsTo(REG).filter((r) => r.path.startsWith("/oauth2/token"));
    expect(posts.map((r) => [r.method, r.headers["content-type"]])).toEqual([["POST", "application/x-www-form-urlencoded"]]);
    expect(net.callsTo("https://collector.example.net")).toBe(0);
  });

  it("go to a realm on the registry's site only; another site's realm is asked anonymously, with a GET", async () => {
    net = new MockNet();
    const own = new FakeRegistry(net, "https://own.example.com", {
      auth: { kind: "bearer", realm: "https://auth.own.example.com/token", service: "own", token: "t1" },
    });
    const other = new FakeRegistry(net, REG, {
      auth: { kind: "bearer", realm: "https://tokens.elsewhere.example.net/token", service: "x", token: "t2" },
    });
    for (const r of [own, other]) r.tag("team/app", "1", r.addPlatformManifest("linux/amd64"));
    net.serve("https://auth.own.example.com", () => ({ status: 200, body: { access_token: "t1" } }));
    net.serve("https://tokens.elsewhere.example.net", () => ({ status: 200, body: { access_token: "t2" } }));
    const credentials = CredentialStore.parse(
      JSON.stringify({
        auths: { "own.example.com": { identitytoken: "refresh-own" }, "registry.example.com": { identitytoken: "refresh-2" } },
      }),
      "config.json",
    );
    const c = makeClient({ credentials });
    await c.resolve(ref("own.example.com/team/app:1"));
    await c.resolve(ref("registry.example.com/team/app:1"));
    expect(net.requestsTo("https://auth.own.example.com").map((r) => r.method)).toEqual(["POST"]);
    const asked = net.requestsTo("https://tokens.elsewhere.example.net");
    expect(asked.map((r) => [r.method, r.headers.authorization])).toEqual([["GET", undefined]]);
    expect(asked[0]!.path).not.toContain("refresh-2");
  });
});

describe("ghcr.io", () => {
  it("gets an anonymous token for a public image and honours expires_in", async () => {
    net = new MockNet();
    const ghcr = new FakeRegistry(net, "https://ghcr.io", {
      auth: { kind: "bearer", realm: "https://ghcr.io/token", service: "ghcr.io", token: "anon" },
    });
    ghcr.override = (req) =>
      req.path.startsWith("/token?") ? { status: 200, body: { token: "anon", expires_in: 2 } } : undefined;
    ghcr.tag("acme/tool", "v1", ghcr.addIndex(["linux/amd64"]).digest);
    ghcr.tag("acme/tool", "v2", ghcr.addIndex(["linux/amd64"], "v2").digest);
    const c = makeClient();
    await c.resolve(ref("ghcr.io/acme/tool:v1"));
    await c.resolve(ref("ghcr.io/acme/tool:v2"));
    // Within its lifetime (2 s less a 10 % safety margin) the token serves every repository of the realm.
    expect(c.stats().requests.token).toBe(1);
    await new Promise((r) => setTimeout(r, 2000));
    await c.resolve(ref("ghcr.io/acme/tool:v1"));
    expect(c.stats().requests.token).toBe(2);
  });
});

describe("failures", () => {
  function simple(): { reg: FakeRegistry; digest: string } {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    return { reg, digest };
  }

  it("retries 429 honouring Retry-After, then succeeds", async () => {
    const { reg, digest } = simple();
    let calls = 0;
    reg.override = () => (++calls === 1 ? { status: 429, headers: { "retry-after": "1" } } : undefined);
    const c = makeClient({ maxRetryDelayMs: 5_000 });
    const started = Date.now();
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(digest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(c.stats().retries).toBe(1);
  });

  it("fails at once with RATE_LIMITED when Retry-After is longer than the cap, with the registry's message", async () => {
    const { reg } = simple();
    reg.override = (req) =>
      req.method === "HEAD"
        ? { status: 429, headers: { "retry-after": "3600" } }
        : undefined;
    const c = makeClient();
    const error = await rejection(c.resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.message).toMatch(/retry after 3600 s/);
    expect(net.requestsTo("https://reg.example.com")).toHaveLength(1);
  });

  it("gives up on 429 after maxRetries, parsing the OCI error body", async () => {
    const { reg } = simple();
    // A HEAD answer has no body: make the HEAD fall through to a GET by omitting the digest.
    reg.options.omitDigest = true;
    reg.override = (req) =>
      req.method === "GET"
        ? { status: 429, body: { errors: [{ code: "TOOMANYREQUESTS", message: "You have reached your pull rate limit." }] } }
        : undefined;
    const c = makeClient({ maxRetries: 2 });
    const error = await rejection(c.resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.message).toContain("TOOMANYREQUESTS: You have reached your pull rate limit.");
    expect(error.message).toContain("3 tries");
    expect(c.stats().requests).toMatchObject({ head: 1, get: 3 });
  });

  it("retries 5xx then succeeds; keeps failing → SERVER_ERROR", async () => {
    const { reg, digest } = simple();
    let calls = 0;
    reg.override = () => (++calls <= 2 ? { status: 503 } : undefined);
    const c = makeClient();
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(digest);
    expect(c.stats().retries).toBe(2);

    reg.override = () => ({ status: 500, body: { errors: [{ code: "UNKNOWN", message: "storage backend down" }] } });
    const error = await rejection(c.resolve(ref("reg.example.com/team/app:2")));
    expect(error.code).toBe("SERVER_ERROR");
    expect(error.status).toBe(500);
  });

  it("404 is NOT_FOUND, naming the tag", async () => {
    simple();
    const error = await rejection(makeClient().resolve(ref("reg.example.com/team/app:nope")));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("reg.example.com/team/app:nope");
  });

  it("401 after answering the challenge is UNAUTHORIZED, without leaking the password", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { auth: { kind: "basic", authorization: "Basic right" } });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    const credentials = CredentialStore.fromEntries({ "reg.example.com": { username: "bob", password: "hunter2-secret" } });
    const error = await rejection(makeClient({ credentials }).resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).not.toContain("hunter2");
    expect(error.message).not.toContain(Buffer.from("bob:hunter2-secret").toString("base64"));
    expect(error.message).toContain("not accepted");
  });

  it("Basic challenge without credentials is UNAUTHORIZED with a hint", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { auth: { kind: "basic", authorization: "Basic x" } });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    const error = await rejection(makeClient().resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("none are configured");
  });

  it("a network failure is NETWORK; a hung registry is TIMEOUT", async () => {
    const { reg } = simple();
    net.agent
      .get("https://down.example.com")
      .intercept({ path: () => true, method: () => true })
      .replyWithError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))
      .persist();
    const c = makeClient({ maxRetries: 1 });
    expect((await rejection(c.resolve(ref("down.example.com/a/b:1")))).code).toBe("NETWORK");

    net.agent
      .get("https://slow.example.com")
      .intercept({ path: () => true, method: () => true })
      .reply(200, "")
      .delay(500)
      .persist();
    const slow = makeClient({ timeouts: { totalMs: 100 } });
    const error = await rejection(slow.resolve(ref("slow.example.com/a/b:1")));
    expect(error.code).toBe("TIMEOUT");
    void reg;
  });
});

describe("digests", () => {
  it("GETs and hashes the body when the registry leaves Docker-Content-Digest out", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { omitDigest: true });
    const index = reg.addIndex(["linux/amd64", "linux/arm/v7"]);
    reg.tag("team/app", "1", index.digest);
    const c = makeClient();
    const r = await c.resolve(ref("reg.example.com/team/app:1"));
    expect(r.digest).toBe(index.digest);
    expect(r.platforms).toEqual([
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm", variant: "v7" },
    ]);
    expect(c.stats().requests).toMatchObject({ head: 1, get: 1 });
  });

  it("a Docker-Content-Digest that differs from the body is DIGEST_MISMATCH, never a pin", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    const liar = sha256("something else");
    reg.override = (req): Reply => {
      if (req.method === "HEAD") return { status: 200, headers: { "content-type": "application/json" } };
      const body = reg.manifests.get(digest)!.body;
      return { status: 200, body, headers: { "docker-content-digest": liar, "content-type": MEDIA_TYPES.ociManifest } };
    };
    const error = await rejection(makeClient().resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.message).toContain(liar);
  });

  it("refuses manifests over the size limit (declared or streamed) with TOO_LARGE", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { omitDigest: true });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    reg.override = (req) =>
      req.method === "GET" ? { status: 200, body: huge, headers: { "content-length": String(huge.length) } } : undefined;
    expect((await rejection(makeClient().resolve(ref("reg.example.com/team/app:1")))).code).toBe("TOO_LARGE");

    reg.override = (req) => (req.method === "GET" ? { status: 200, body: Buffer.alloc(4096, 0x20) } : undefined);
    const small = makeClient({ maxManifestBytes: 1024 });
    const error = await rejection(small.resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain("1 KiB");
  });
});

describe("safety", () => {
  it("refuses registries at private addresses before any request", async () => {
    net = new MockNet();
    const c = makeClient();
    for (const host of ["127.0.0.1:5000", "10.0.0.1", "localhost:5000", "192.168.1.10", "[::1]:5000", "169.254.169.254"]) {
      const error = await rejection(c.resolve({ registry: host, repository: "a/b", tag: "1", digest: null }));
      expect(error.code, host).toBe("REFUSED_HOST");
      expect(error.message).toContain("DIGEST_PIN_INSECURE_REGISTRIES");
    }
    expect(net.agent.getCallHistory()?.calls()).toHaveLength(0);
  });

  it("refuses redirects to private addresses or plain HTTP, and never contacts them", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { omitDigest: true });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    const targets = [
      "https://127.0.0.1/x",
      "https://2130706433/x",
      "https://0x7f.1/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://10.1.2.3/x",
      "https://169.254.169.254/latest/meta-data",
      "http://cdn.example.com/x",
      "https://metadata.internal/x",
    ];
    for (const location of targets) {
      reg.override = (req) => (req.method === "GET" ? { status: 307, headers: { location } } : undefined);
      const error = await rejection(makeClient().resolve(ref("reg.example.com/team/app:1")));
      expect(error.code, location).toBe("REFUSED_HOST");
    }
    const origins = (net.agent.getCallHistory()?.calls() ?? []).map((c) => c.origin);
    expect(new Set(origins)).toEqual(new Set(["https://reg.example.com"]));
  });

  it("refuses token realms at private addresses or over plain HTTP", async () => {
    net = new MockNet(); // closed by afterEach; each case below has its own
    for (const realm of ["https://127.0.0.1/token", "https://192.168.0.1/token", "http://auth.example.com/token", "https://[fd00::1]/t"]) {
      const local = new MockNet();
      const reg = new FakeRegistry(local, "https://reg.example.com", {
        auth: { kind: "bearer", realm, service: "s", token: "t" },
      });
      reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
      const c = new RegistryClient({ dispatcher: local.agent });
      const error = await rejection(c.resolve(ref("reg.example.com/team/app:1")));
      expect(error.code, realm).toBe("REFUSED_HOST");
      expect(error.message).toContain("token realm");
      const origins = (local.agent.getCallHistory()?.calls() ?? []).map((call) => call.origin);
      expect(new Set(origins)).toEqual(new Set(["https://reg.example.com"]));
      await c.close();
      await local.close();
    }
  });

  it("follows a redirect to another public host without the Authorization header", async () => {
    net = new MockNet();
    const authorization = `Basic ${Buffer.from("u:p").toString("base64")}`;
    const reg = new FakeRegistry(net, "https://reg.example.com", { auth: { kind: "basic", authorization }, omitDigest: true });
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    const body = reg.manifests.get(digest)!.body;
    reg.override = (req) =>
      req.method === "GET" && req.headers.authorization === authorization
        ? { status: 302, headers: { location: "https://cdn.example.net/m/1" } }
        : undefined;
    net.serve("https://cdn.example.net", () => ({ status: 200, body, headers: { "content-type": MEDIA_TYPES.ociManifest } }));
    const credentials = CredentialStore.fromEntries({ "reg.example.com": { username: "u", password: "p" } });
    const r = await makeClient({ credentials }).resolve(ref("reg.example.com/team/app:1"));
    expect(r.digest).toBe(digest);
    const cdn = net.requestsTo("https://cdn.example.net");
    expect(cdn).toHaveLength(1);
    expect(cdn[0]!.headers.authorization).toBeUndefined();
  });

  it("stops after 3 redirects", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { omitDigest: true });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    let n = 0;
    reg.override = (req) => (req.method === "GET" ? { status: 302, headers: { location: `/loop/${++n}` } } : undefined);
    const error = await rejection(makeClient().resolve(ref("reg.example.com/team/app:1")));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toContain("more than 3 redirects");
    expect(n).toBe(4);
  });

  it("contacts a listed insecure registry over plain HTTP", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "http://10.0.0.5:5000");
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    const c = makeClient({ insecureRegistries: ["10.0.0.5:5000"] });
    expect((await c.resolve(ref("10.0.0.5:5000/team/app:1"))).digest).toBe(digest);
  });
});

describe("mirrors", () => {
  it("resolves docker.io references through the mirror, keeping library/", async () => {
    net = new MockNet();
    const mirror = new FakeRegistry(net, "https://mirror.example.com");
    const digest = mirror.addIndex(["linux/amd64"]).digest;
    mirror.tag("library/python", "3.12", digest);
    const c = makeClient({ mirrors: new Map([["docker.io", "mirror.example.com"]]) });
    expect((await c.resolve(ref("python:3.12"))).digest).toBe(digest);
    expect(net.requestsTo("https://mirror.example.com")[0]!.path).toBe("/v2/library/python/manifests/3.12");
    expect(net.callsTo(HUB)).toBe(0);
  });
});

describe("reading tags, caching what digests name", () => {
  it("looks up each distinct tag once however many concurrent resolutions, and reads it again afterwards", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    for (let i = 0; i < 5; i++) reg.tag("team/app", `v${i}`, reg.addPlatformManifest("linux/amd64", String(i)));
    const c = makeClient();
    const refs = Array.from({ length: 100 }, (_, i) => ref(`reg.example.com/team/app:v${i % 5}`));
    await Promise.all(refs.map((r) => c.resolve(r)));
    expect(c.stats().requests.head).toBe(5);
    expect(c.stats().coalesced).toBe(95);
    // A tag can move at any moment: a later question is a new lookup (a run remembers its own, in MemoResolver).
    await Promise.all(refs.map((r) => c.resolve(r)));
    const s = c.stats();
    expect(s.requests.head).toBe(10);
    expect(s.byHost["reg.example.com"]).toEqual({ head: 10, get: 0, token: 0 });
  });

  it("answers a moved tag with its new digest at once", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const before = reg.addPlatformManifest("linux/amd64", "before");
    const after = reg.addPlatformManifest("linux/amd64", "after");
    reg.tag("team/app", "1", before);
    const c = makeClient();
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(before);
    reg.tag("team/app", "1", after);
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(after);
  });

  it("keeps what a digest names: an index read once serves every later question about it", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    reg.tag("team/app", "1", reg.addIndex(["linux/amd64", "linux/arm64/v8"]).digest);
    const c = makeClient();
    for (let i = 0; i < 3; i++) {
      expect((await c.resolve(ref("reg.example.com/team/app:1"), { withPlatforms: true })).platforms).toHaveLength(2);
    }
    expect(c.stats().requests).toMatchObject({ head: 3, get: 1 });
  });

  it("keeps at most perHostConcurrency requests in flight per host", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", {}, 40);
    for (let i = 0; i < 12; i++) reg.tag("team/app", `v${i}`, reg.addPlatformManifest("linux/amd64", String(i)));
    const c = makeClient({ perHostConcurrency: 3 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 12 }, (_, i) => c.resolve(ref(`reg.example.com/team/app:v${i}`))));
    // Each answer takes 40 ms; three at a time, twelve take at least four rounds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(c.stats().requests.head).toBe(12);
  });
});

describe("multi-arch refresh", () => {
  function multiArch() {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const old = reg.addIndex(["linux/amd64", "linux/arm64/v8"], "old");
    const now = reg.addIndex(["linux/amd64", "linux/arm64/v8"], "new");
    reg.tag("team/app", "1", now.digest);
    return { reg, old, now };
  }

  it("a tag pointing at an index resolves to the index digest", async () => {
    const { now } = multiArch();
    const r = await makeClient().resolve(ref("reg.example.com/team/app:1"), { withPlatforms: true });
    expect(r.digest).toBe(now.digest);
    expect(r.platforms).toHaveLength(2);
  });

  it("moves a platform pin to the same platform of the new index, learning it from the old config", async () => {
    const { old, now } = multiArch();
    const c = makeClient();
    const r = await c.resolve(ref("reg.example.com/team/app:1"), { currentDigest: old.children["linux/arm64/v8"] });
    expect(r).toEqual({ digest: now.children["linux/arm64/v8"], mediaType: MEDIA_TYPES.ociManifest });
  });

  it("uses the FROM's --platform without reading the old config", async () => {
    const { old, now } = multiArch();
    const c = makeClient();
    const r = await c.resolve(ref("reg.example.com/team/app:1"), {
      currentDigest: old.children["linux/amd64"],
      platform: "linux/amd64",
    });
    expect(r.digest).toBe(now.children["linux/amd64"]);
    expect(net.seen.some((s) => s.path.includes("/blobs/"))).toBe(false);
  });

  it("keeps a platform pin that the new index still lists, and an index pin an index", async () => {
    const { reg, old, now } = multiArch();
    const c = makeClient();
    const still = await c.resolve(ref("reg.example.com/team/app:1"), { currentDigest: now.children["linux/amd64"] });
    expect(still.digest).toBe(now.children["linux/amd64"]);
    const fromIndex = await c.resolve(ref("reg.example.com/team/app:1"), { currentDigest: old.digest });
    expect(fromIndex.digest).toBe(now.digest);
    void reg;
  });

  it("pins the tag's index, and says so, when the old pin is gone: its kind cannot be read, --platform or not", async () => {
    const { now } = multiArch();
    const c = makeClient();
    const gone = sha256("never pushed");
    const plain = await c.resolve(ref("reg.example.com/team/app:1"), { currentDigest: gone });
    expect(plain.digest).toBe(now.digest);
    expect(plain.note).toMatch(/gone from the registry/);
    // A literal --platform says which platform the build wants, not that the old pin was that platform's manifest.
    for (const platform of ["linux/amd64", "linux/s390x"]) {
      const r = await c.resolve(ref("reg.example.com/team/app:1"), { currentDigest: gone, platform });
      expect(r.digest).toBe(now.digest);
      expect(r.mediaType).toBe(MEDIA_TYPES.ociIndex);
      expect(r.note).toContain(gone);
    }
  });

  it("PLATFORM_NOT_FOUND when the new index lacks the pinned platform", async () => {
    const { reg, old } = multiArch();
    const amd64Only = reg.addIndex(["linux/amd64"], "newer");
    reg.tag("team/app", "1", amd64Only.digest);
    const error = await rejection(
      makeClient().resolve(ref("reg.example.com/team/app:1"), { currentDigest: old.children["linux/arm64/v8"] }),
    );
    expect(error.code).toBe("PLATFORM_NOT_FOUND");
    expect(error.message).toContain("linux/arm64/v8");
  });
});

describe("request observer", () => {
  it("sees every HTTP attempt: a 429 and its retry's 200 are two calls", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    let calls = 0;
    reg.override = () => (++calls === 1 ? { status: 429 } : undefined);
    const seen: RegistryRequestInfo[] = [];
    const c = makeClient({ onRequest: (info) => seen.push(info) });
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(digest);
    expect(seen.map(({ host, kind, outcome, status }) => ({ host, kind, outcome, status }))).toEqual([
      { host: "reg.example.com", kind: "head", outcome: "4xx", status: 429 },
      { host: "reg.example.com", kind: "head", outcome: "2xx", status: 200 },
    ]);
    for (const info of seen) expect(info.durationMs).toBeGreaterThanOrEqual(0);
    expect(c.stats().retries).toBe(1);
  });

  it("reports failures by their error code, a redirect hop the policy refuses included", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", { omitDigest: true });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    reg.override = (req) => (req.method === "GET" ? { status: 307, headers: { location: "https://10.1.2.3/x" } } : undefined);
    net.agent
      .get("https://down.example.com")
      .intercept({ path: () => true, method: () => true })
      .replyWithError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))
      .persist();
    const seen: RegistryRequestInfo[] = [];
    const c = makeClient({ maxRetries: 1, onRequest: (info) => seen.push(info) });
    expect((await rejection(c.resolve(ref("reg.example.com/team/app:1")))).code).toBe("REFUSED_HOST");
    expect((await rejection(c.resolve(ref("down.example.com/a/b:1")))).code).toBe("NETWORK");
    expect(seen.map(({ host, kind, outcome, status }) => `${kind} ${host} ${outcome} ${status ?? "-"}`)).toEqual([
      "head reg.example.com 2xx 200",
      "get reg.example.com 3xx 307",
      "get 10.1.2.3 refused_host -",
      "head down.example.com network -",
      "head down.example.com network -",
    ]);
  });

  it("an observer that throws does not fail the resolution", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    const c = makeClient({
      onRequest: () => {
        throw new Error("metrics bug");
      },
    });
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(digest);
  });
});

describe("credentials and tokens stay with their registry", () => {
  const GHCR = "https://ghcr.io";
  const EVIL = "https://evil.example.com";
  const octo = { username: "octo", password: "ghp_victim-secret" };
  const octoBasic = `Basic ${Buffer.from("octo:ghp_victim-secret").toString("base64")}`;
  const credentials = () => CredentialStore.fromEntries({ "ghcr.io": octo });

  /** A token endpoint at `path` that says whom it minted for: `minted-for-<user>-<n>` with Basic, else `anonymous-<n>`. */
  function minting(path = "/token"): (req: SeenRequest) => Reply | undefined {
    let n = 0;
    return (req) => {
      if (req.path !== path && !req.path.startsWith(`${path}?`)) return undefined;
      const auth = req.headers.authorization;
      const user = auth?.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString().split(":")[0] : undefined;
      return { status: 200, body: { token: user ? `minted-for-${user}-${++n}` : `anonymous-${++n}`, expires_in: 300 } };
    };
  }

  /** The token requests `origin` received at `path`: URL and Authorization. */
  const tokenRequests = (origin: string, path = "/token") =>
    net
      .requestsTo(origin)
      .filter((r) => r.path === path || r.path.startsWith(`${path}?`))
      .map((r) => ({ url: new URL(r.path, origin), authorization: r.headers.authorization }));

  /** Every Authorization header `origin` received. */
  const authorizationsAt = (origin: string) => net.requestsTo(origin).flatMap((r) => r.headers.authorization ?? []);

  /** Challenges every request without a Bearer token starting with `accept`, naming `realm`; `scope` when given. */
  function challenging(reg: FakeRegistry, realm: string, service: string, accept: string, scope?: string): void {
    const mint = reg.override;
    const header = `Bearer realm="${realm}",service="${service}"${scope === undefined ? "" : `,scope="${scope}"`}`;
    reg.override = (req) =>
      mint?.(req) ??
      (req.headers.authorization?.startsWith(`Bearer ${accept}`)
        ? undefined
        : { status: 401, headers: { "www-authenticate": header } });
  }

  /** ghcr.io with its token realm on its own host; its images need a token minted for octo. */
  function victim(): FakeRegistry {
    const reg = new FakeRegistry(net, GHCR);
    reg.override = minting();
    challenging(reg, `${GHCR}/token`, "ghcr.io", "minted-for-octo-", "repository:victim-org/private:pull");
    reg.tag("victim-org/private", "1", reg.addPlatformManifest("linux/amd64", "victim"));
    return reg;
  }

  /** A registry naming `realm` in its challenges, asking for push on the victim's repository; any Bearer passes. */
  function hostile(origin: string, realm: string, service: string, scope = "repository:victim-org/private:pull,push"): FakeRegistry {
    const reg = new FakeRegistry(net, origin);
    challenging(reg, realm, service, "", scope);
    for (const repo of ["victim-org/private", "team/bait"]) reg.tag(repo, "1", reg.addPlatformManifest("linux/amd64", repo));
    return reg;
  }

  it("a registry without credentials that names another registry's realm gets an anonymous token, for its own repository, pull only", async () => {
    net = new MockNet();
    victim();
    hostile(EVIL, `${GHCR}/token`, "ghcr.io");
    await makeClient({ credentials: credentials() }).resolve(ref("evil.example.com/team/bait:1"));
    const asked = tokenRequests(GHCR);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.authorization).toBeUndefined();
    expect(asked[0]!.url.searchParams.getAll("scope")).toEqual(["repository:team/bait:pull"]);
    expect(authorizationsAt(EVIL)).toEqual(["Bearer anonymous-1"]);
  });

  it("a token minted with a registry's credential is never handed to another registry naming the same realm", async () => {
    net = new MockNet();
    const ghcr = victim();
    hostile(EVIL, `${GHCR}/token`, "ghcr.io", "repository:victim-org/private:pull");
    const c = makeClient({ credentials: credentials() });
    // The victim first: its token (for the realm, service and scope the hostile names next) is cached.
    expect((await c.resolve(ref("ghcr.io/victim-org/private:1"))).digest).toBe(ghcr.tags.get("victim-org/private:1"));
    expect(tokenRequests(GHCR).map((r) => r.authorization)).toEqual([octoBasic]);
    // The same repository path on the hostile registry, then another (answered up front from the learned realm).
    await c.resolve(ref("evil.example.com/victim-org/private:1"));
    await c.resolve(ref("evil.example.com/team/bait:1"));
    const evil = authorizationsAt(EVIL);
    expect(evil.length).toBeGreaterThanOrEqual(2);
    for (const header of evil) expect(header).toMatch(/^Bearer anonymous-/);
    expect(tokenRequests(GHCR).slice(1).map((r) => r.authorization)).toEqual([undefined, undefined]);
  });

  it("asks for pull on the repository being resolved, never for the challenge's scope nor the realm URL's", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    const digest = reg.addPlatformManifest("linux/amd64");
    reg.tag("team/app", "1", digest);
    const AUTH = "https://auth.reg.example.com";
    challenging(
      reg,
      `${AUTH}/token?tenant=acme&scope=repository:other/thing:push`,
      "reg",
      "minted-for-u-",
      "repository:other/thing:pull,push repository:team/app:push",
    );
    net.serve(AUTH, minting());
    const c = makeClient({ credentials: CredentialStore.fromEntries({ "reg.example.com": { username: "u", password: "p" } }) });
    expect((await c.resolve(ref("reg.example.com/team/app:1"))).digest).toBe(digest);
    const asked = tokenRequests(AUTH);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.url.searchParams.getAll("scope")).toEqual(["repository:team/app:pull"]);
    expect(asked[0]!.url.searchParams.get("tenant")).toBe("acme"); // the realm's other parameters stay
    expect(asked[0]!.url.searchParams.get("service")).toBe("reg");
    expect(asked[0]!.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`); // its own realm, same site
  });

  it("a mirror never gets a token minted with the upstream's credential; its own credential goes to its own realm", async () => {
    net = new MockNet();
    victim();
    const MIRROR = "https://mirror.example.com";
    hostile(MIRROR, `${GHCR}/token`, "ghcr.io", "repository:victim-org/private:pull");
    const viaMirror = new Map([["ghcr.io", "mirror.example.com"]]);
    await makeClient({ credentials: credentials(), mirrors: viaMirror }).resolve(ref("ghcr.io/victim-org/private:1"));
    expect(tokenRequests(GHCR).map((r) => r.authorization)).toEqual([undefined]);
    expect(authorizationsAt(MIRROR)).toEqual(["Bearer anonymous-1"]);

    // A mirror with credentials of its own and a realm on its own site: its credential, and only it, is used.
    const OWN = "https://mirror2.example.com";
    const AUTH = "https://auth.mirror2.example.com";
    const own = new FakeRegistry(net, OWN);
    challenging(own, `${AUTH}/token`, "m", "minted-for-mirror-user-");
    own.tag("victim-org/private", "1", own.addPlatformManifest("linux/amd64", "own"));
    net.serve(AUTH, minting());
    const both = CredentialStore.fromEntries({ "ghcr.io": octo, "mirror2.example.com": { username: "mirror-user", password: "mp" } });
    await makeClient({ credentials: both, mirrors: new Map([["ghcr.io", "mirror2.example.com"]]) }).resolve(
      ref("ghcr.io/victim-org/private:1"),
    );
    expect(tokenRequests(AUTH).map((r) => r.authorization)).toEqual([`Basic ${Buffer.from("mirror-user:mp").toString("base64")}`]);
    expect(authorizationsAt(OWN)).toEqual(["Bearer minted-for-mirror-user-1"]);
  });

  it("two loopback registries on different ports are different registries; a realm on another port of the same IP is the registry's site", async () => {
    net = new MockNet();
    // The victim serves its realm itself (like ghcr.io); the hostile, on the next port, names it.
    const VICTIM = "http://127.0.0.1:5000";
    const victimRegistry = new FakeRegistry(net, VICTIM);
    victimRegistry.override = minting();
    challenging(victimRegistry, `${VICTIM}/token`, "local", "minted-for-octo-");
    victimRegistry.tag("victim-org/private", "1", victimRegistry.addPlatformManifest("linux/amd64"));
    hostile("http://127.0.0.1:5001", `${VICTIM}/token`, "local");
    // Another registry whose token server listens on another port of the same address gets its own credential there.
    const REALM = "http://127.0.0.1:5002";
    const other = new FakeRegistry(net, "http://127.0.0.1:5003");
    challenging(other, `${REALM}/token`, "other", "minted-for-other-");
    other.tag("team/app", "1", other.addPlatformManifest("linux/amd64"));
    net.serve(REALM, minting());
    const c = makeClient({
      insecureRegistries: ["127.0.0.1"],
      credentials: CredentialStore.fromEntries({ "127.0.0.1:5000": octo, "127.0.0.1:5003": { username: "other", password: "o" } }),
    });
    await c.resolve(ref("127.0.0.1:5000/victim-org/private:1"));
    await c.resolve(ref("127.0.0.1:5001/victim-org/private:1"));
    await c.resolve(ref("127.0.0.1:5003/team/app:1"));
    expect(tokenRequests(VICTIM).map((r) => r.authorization)).toEqual([octoBasic, undefined]);
    expect(authorizationsAt("http://127.0.0.1:5001")).toEqual(["Bearer anonymous-2"]);
    expect(tokenRequests(REALM).map((r) => r.authorization)).toEqual([`Basic ${Buffer.from("other:o").toString("base64")}`]);
  });

  it("never sends an https registry's credential to a plain-HTTP realm, even a listed one on its site", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com");
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    challenging(reg, "http://auth.reg.example.com/token", "s", "minted-for-u-");
    net.serve("http://auth.reg.example.com", minting());
    const c = makeClient({
      insecureRegistries: ["auth.reg.example.com"],
      credentials: CredentialStore.fromEntries({ "reg.example.com": { username: "u", password: "p" } }),
    });
    const error = await rejection(c.resolve(ref("reg.example.com/team/app:1")));
    expect(tokenRequests("http://auth.reg.example.com").map((r) => r.authorization)).toEqual([undefined]);
    // The refusal says why the credential was not used.
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("not sent to its token realm auth.reg.example.com");
  });

  it("does not answer a challenge from another origin that a registry redirected to", async () => {
    net = new MockNet();
    victim();
    const evil = new FakeRegistry(net, EVIL);
    evil.override = (req) => ({ status: 307, headers: { location: `${GHCR}${req.path}` } });
    const error = await rejection(makeClient({ credentials: credentials() }).resolve(ref("evil.example.com/victim-org/private:1")));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("ghcr.io");
    expect(tokenRequests(GHCR)).toEqual([]);
    expect(authorizationsAt(EVIL)).toEqual([]);
  });

  it("drops a Bearer token on a redirect to another origin; a realm redirecting elsewhere loses the credential", async () => {
    net = new MockNet();
    const ghcr = victim();
    const digest = ghcr.tags.get("victim-org/private:1")!;
    const body = ghcr.manifests.get(digest)!.body;
    ghcr.options.omitDigest = true;
    const normal = ghcr.override!;
    const toCdn = (req: SeenRequest): Reply | undefined =>
      req.method === "GET" && req.path.includes("/manifests/") && req.headers.authorization?.startsWith("Bearer ")
        ? { status: 302, headers: { location: "https://cdn.example.net/m" } }
        : undefined;
    net.serve("https://cdn.example.net", () => ({ status: 200, body, headers: { "content-type": MEDIA_TYPES.ociManifest } }));
    // The realm redirects to another origin: what that origin mints (anonymously) the victim refuses.
    net.serve("https://tokens.example.net", minting("/t"));
    ghcr.override = (req) =>
      req.path.startsWith("/token?")
        ? { status: 307, headers: { location: `https://tokens.example.net/t?${req.path.split("?")[1]}` } }
        : normal(req);
    const error = await rejection(makeClient({ credentials: credentials() }).resolve(ref("ghcr.io/victim-org/private:1")));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(tokenRequests("https://tokens.example.net", "/t").map((r) => r.authorization)).toEqual([undefined]);

    // The realm answers itself: the credential is used, and the CDN gets the manifest request without the token.
    ghcr.override = (req) => toCdn(req) ?? normal(req);
    expect((await makeClient({ credentials: credentials() }).resolve(ref("ghcr.io/victim-org/private:1"))).digest).toBe(digest);
    const cdn = net.requestsTo("https://cdn.example.net");
    expect(cdn).toHaveLength(1);
    expect(cdn[0]!.headers.authorization).toBeUndefined();
  });

  it("refuses a token answer that is not a usable Bearer credential", async () => {
    net = new MockNet();
    const reg = new FakeRegistry(net, "https://reg.example.com", {
      auth: { kind: "bearer", realm: "https://auth.example.com/token", service: "s", token: "x" },
    });
    reg.tag("team/app", "1", reg.addPlatformManifest("linux/amd64"));
    let answer: object = {};
    net.serve("https://auth.example.com", () => ({ status: 200, body: answer }));
    for (const token of ["a\r\nX-Injected: 1", "two words", "x".repeat(16 * 1024 + 1)]) {
      answer = { token, expires_in: 300 };
      const error = await rejection(makeClient().resolve(ref("reg.example.com/team/app:1")));
      expect(error.code, token.slice(0, 20)).toBe("INVALID_RESPONSE");
      expect(error.message).toContain("no usable token");
    }
    expect(net.requestsTo("https://reg.example.com").every((r) => r.headers.authorization === undefined)).toBe(true);
  });
});
