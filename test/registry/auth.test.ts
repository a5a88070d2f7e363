import { describe, expect, it } from "vitest";
import {
  TokenProvider,
  basicAuthorization,
  parseTokenResponse,
  parseWwwAuthenticate,
  pickChallenge,
  realmCredential,
} from "../../src/registry/auth.js";
import type { TokenRequest } from "../../src/registry/auth.js";
import { registrableDomain, sameSite } from "../../src/registry/site.js";

describe("WWW-Authenticate", () => {
  it("parses Docker Hub's Bearer challenge", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/python:pull",
        },
      },
    ]);
  });

  it("keeps commas and escaped quotes inside quoted values", () => {
    const [c] = parseWwwAuthenticate(
      'Bearer realm="https://x.example/token",scope="repository:a:pull,push repository:b:pull",error="say \\"hi\\""',
    );
    expect(c?.params.scope).toBe("repository:a:pull,push repository:b:pull");
    expect(c?.params.error).toBe('say "hi"');
  });

  it("parses several challenges, Basic, token68, odd spacing and unquoted values", () => {
    const list = parseWwwAuthenticate(
      'Negotiate abc==, Basic realm="Registry Realm", charset=UTF-8 ,  BEARER  realm = https://t.example/token , service=svc',
    );
    expect(list).toEqual([
      { scheme: "negotiate", params: {}, token68: "abc==" },
      { scheme: "basic", params: { realm: "Registry Realm", charset: "UTF-8" } },
      { scheme: "bearer", params: { realm: "https://t.example/token", service: "svc" } },
    ]);
    expect(pickChallenge(list)?.scheme).toBe("bearer");
    expect(pickChallenge(parseWwwAuthenticate('Basic realm="r"'))?.scheme).toBe("basic");
    expect(pickChallenge(parseWwwAuthenticate("Bearer service=x"))).toBeUndefined(); // no realm: unusable
  });

  it("lower-cases parameter names and tolerates junk", () => {
    expect(parseWwwAuthenticate('Bearer Realm="r", SERVICE="s"')[0]?.params).toEqual({ realm: "r", service: "s" });
    expect(parseWwwAuthenticate("")).toEqual([]);
    expect(parseWwwAuthenticate(",,,")).toEqual([]);
    expect(parseWwwAuthenticate('Bearer realm="unterminated')[0]?.params.realm).toBe("unterminated");
  });
});

describe("tokens", () => {
  it("accepts token or access_token and defaults expires_in to 60 s", () => {
    expect(parseTokenResponse('{"token":"a","expires_in":300}')).toEqual({ token: "a", expiresInMs: 300_000 });
    expect(parseTokenResponse('{"access_token":"b"}')).toEqual({ token: "b", expiresInMs: 60_000 });
    expect(parseTokenResponse('{"token":"","access_token":"c"}')?.token).toBe("c");
    expect(parseTokenResponse("{}")).toBeNull();
    expect(parseTokenResponse("not json")).toBeNull();
  });

  it("accepts only RFC 6750 b64token tokens of at most 16 KiB", () => {
    expect(parseTokenResponse('{"token":"eyJh.eyJz.c2ln-_~+/=="}')?.token).toBe("eyJh.eyJz.c2ln-_~+/==");
    for (const token of ["a b", "a\r\nX-Evil: 1", "a,b", "\"q\"", "x".repeat(16 * 1024 + 1)]) {
      expect(parseTokenResponse(JSON.stringify({ token })), token.slice(0, 12)).toBeNull();
    }
    expect(parseTokenResponse(JSON.stringify({ token: "x".repeat(16 * 1024) }))?.token).toHaveLength(16 * 1024);
  });

  const realm = new URL("https://auth.example.com/token");
  const key = (registry = "reg.example.com", credential?: { username: string; password: string }) => ({
    registry,
    realm,
    service: "svc",
    credential,
  });

  it("caches per scope until expiry and batches concurrent scopes into one request", async () => {
    let now = 1_000_000;
    const requests: TokenRequest[] = [];
    const provider = new TokenProvider(async (req) => {
      requests.push(req);
      return { token: `t${requests.length}`, expiresInMs: 60_000 };
    }, () => now);
    const tokens = await Promise.all(["a", "b", "c", "a"].map((s) => provider.token(key(), `repository:${s}:pull`)));
    expect(tokens).toEqual(["t1", "t1", "t1", "t1"]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.scopes).toEqual(["repository:a:pull", "repository:b:pull", "repository:c:pull"]);
    expect(requests[0]?.registry).toBe("reg.example.com");
    expect(await provider.token(key(), "repository:a:pull")).toBe("t1");
    now += 55_000; // inside the safety margin before expiry
    expect(await provider.token(key(), "repository:a:pull")).toBe("t2");
    // Another identity never shares a token.
    expect(await provider.token(key(undefined, { username: "u", password: "p" }), "repository:a:pull")).toBe("t3");
  });

  it("never hands a token fetched for one registry to another, even for the same realm, service, identity and scope", async () => {
    const requests: TokenRequest[] = [];
    const provider = new TokenProvider(async (req) => {
      requests.push(req);
      return { token: `for-${req.registry}`, expiresInMs: 60_000 };
    });
    const alice = { username: "alice", password: "a" };
    const both = await Promise.all([
      provider.token(key("victim.example.com", alice), "repository:x:pull"),
      provider.token(key("evil.example.com", alice), "repository:x:pull"),
    ]);
    expect(both).toEqual(["for-victim.example.com", "for-evil.example.com"]);
    expect(await provider.token(key("evil.example.com", alice), "repository:x:pull")).toBe("for-evil.example.com");
    expect(requests.map((r) => r.registry)).toEqual(["victim.example.com", "evil.example.com"]);
    // Forgetting one registry's token leaves the other's.
    provider.invalidate(key("evil.example.com", alice), "repository:x:pull");
    expect(await provider.token(key("victim.example.com", alice), "repository:x:pull")).toBe("for-victim.example.com");
    expect(requests).toHaveLength(2);
  });

  it("splits a failing batch so one refused scope does not fail the others", async () => {
    const provider = new TokenProvider(async (req) => {
      if (req.scopes.includes("repository:private:pull")) throw new Error("denied");
      return { token: req.scopes.join("+"), expiresInMs: 60_000 };
    });
    const results = await Promise.allSettled(["public", "private"].map((s) => provider.token(key(), `repository:${s}:pull`)));
    expect(results[0]).toEqual({ status: "fulfilled", value: "repository:public:pull" });
    expect(results[1]?.status).toBe("rejected");
  });
});

describe("credentials and realms", () => {
  const hub = { username: "hub", password: "hp" };
  const HUB = new URL("https://registry-1.docker.io/");

  it("sends the registry's credential to a realm on the same site only", () => {
    expect(realmCredential(HUB, hub, new URL("https://auth.docker.io/token"))).toEqual(hub);
    expect(realmCredential(HUB, hub, new URL("https://auth.evil.example/token"))).toBeUndefined();
    expect(realmCredential(HUB, hub, new URL("https://docker.io.evil.example/t"))).toBeUndefined();
    expect(realmCredential(new URL("https://a.github.io/"), hub, new URL("https://b.github.io/t"))).toBeUndefined();
  });

  it("sends nothing for a registry without a credential, whatever realm it names", () => {
    expect(realmCredential(new URL("https://evil.example.com/"), undefined, new URL("https://ghcr.io/token"))).toBeUndefined();
  });

  it("treats an IP address as its own site, any port, and never downgrades https to plain HTTP", () => {
    const local = new URL("http://127.0.0.1:5000/");
    expect(realmCredential(local, hub, new URL("http://127.0.0.1:5001/token"))).toEqual(hub);
    expect(realmCredential(local, hub, new URL("http://127.0.0.2:5000/token"))).toBeUndefined();
    const secure = new URL("https://reg.example.com/");
    expect(realmCredential(secure, hub, new URL("http://auth.reg.example.com/token"))).toBeUndefined();
    expect(realmCredential(secure, hub, new URL("https://auth.reg.example.com/token"))).toEqual(hub);
  });

  it("builds Basic headers", () => {
    expect(basicAuthorization({ username: "a", password: "b:c" })).toBe(`Basic ${Buffer.from("a:b:c").toString("base64")}`);
  });
});

describe("sites (Public Suffix List)", () => {
  it.each([
    ["registry-1.docker.io", "docker.io"],
    ["auth.docker.io", "docker.io"],
    ["ghcr.io", "ghcr.io"],
    ["us-docker.pkg.dev", "pkg.dev"],
    ["a.b.example.co.uk", "example.co.uk"],
    ["registry.example.com.au", "example.com.au"],
    // Suffixes a short hand-written list misses: ICANN second levels and private-section hostings.
    ["a.b.example.com.ar", "example.com.ar"],
    ["reg.example.co.il", "example.co.il"],
    ["team.bitbucket.io", "team.bitbucket.io"],
    ["example.blogspot.com", "example.blogspot.com"],
    ["foo.github.io", "foo.github.io"],
    ["bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"],
    // Registry tenants the list does not know.
    ["myreg.azurecr.io", "myreg.azurecr.io"],
    ["a.myreg.azurecr.io", "myreg.azurecr.io"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com"],
    ["127.0.0.1:5000", "127.0.0.1"],
    ["0x7f.1", "0x7f.1"],
    ["[::1]:5000", "[::1]"],
    ["localhost:5000", "localhost"],
    ["Example.COM.", "example.com"],
  ])("%s → %s", (host, site) => {
    expect(registrableDomain(host)).toBe(site);
  });

  it("compares sites", () => {
    expect(sameSite("registry-1.docker.io", "auth.docker.io")).toBe(true);
    expect(sameSite("a.github.io", "b.github.io")).toBe(false);
    expect(sameSite("x.example.co.uk", "y.other.co.uk")).toBe(false);
    expect(sameSite("x.example.com.ar", "y.other.com.ar")).toBe(false);
    expect(sameSite("one.azurecr.io", "two.azurecr.io")).toBe(false);
    expect(sameSite("127.0.0.1:5000", "127.0.0.1:5001")).toBe(true);
    expect(sameSite("127.0.0.1", "127.0.0.2")).toBe(false);
  });
});
