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
import { CredentialStore } from "../../src/registry/credentials.js";
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

  it("caches per scope until expiry and batches concurrent scopes into one request", async () => {
    let now = 1_000_000;
    const requests: TokenRequest[] = [];
    const provider = new TokenProvider(async (req) => {
      requests.push(req);
      return { token: `t${requests.length}`, expiresInMs: 60_000 };
    }, () => now);
    const realm = new URL("https://auth.example.com/token");
    const tokens = await Promise.all(["a", "b", "c", "a"].map((s) => provider.token(realm, "svc", `repository:${s}:pull`, undefined)));
    expect(tokens).toEqual(["t1", "t1", "t1", "t1"]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.scopes).toEqual(["repository:a:pull", "repository:b:pull", "repository:c:pull"]);
    expect(await provider.token(realm, "svc", "repository:a:pull", undefined)).toBe("t1");
    now += 55_000; // inside the safety margin before expiry
    expect(await provider.token(realm, "svc", "repository:a:pull", undefined)).toBe("t2");
    // Another identity never shares a token.
    expect(await provider.token(realm, "svc", "repository:a:pull", { username: "u", password: "p" })).toBe("t3");
  });

  it("splits a failing batch so one refused scope does not fail the others", async () => {
    const provider = new TokenProvider(async (req) => {
      if (req.scopes.includes("repository:private:pull")) throw new Error("denied");
      return { token: req.scopes.join("+"), expiresInMs: 60_000 };
    });
    const realm = new URL("https://auth.example.com/token");
    const results = await Promise.allSettled(
      ["public", "private"].map((s) => provider.token(realm, undefined, `repository:${s}:pull`, undefined)),
    );
    expect(results[0]).toEqual({ status: "fulfilled", value: "repository:public:pull" });
    expect(results[1]?.status).toBe("rejected");
  });
});

describe("credentials and realms", () => {
  const store = CredentialStore.fromEntries({
    "docker.io": { username: "hub", password: "hp" },
    "tokens.example.org": { username: "realm-user", password: "rp" },
  });
  const hub = store.get("registry-1.docker.io");

  it("sends the registry's credential to a realm on the same site only", () => {
    expect(realmCredential("registry-1.docker.io", hub, new URL("https://auth.docker.io/token"), store)).toEqual(hub);
    expect(realmCredential("registry-1.docker.io", hub, new URL("https://auth.evil.example/token"), store)).toBeUndefined();
    expect(realmCredential("registry-1.docker.io", hub, new URL("https://docker.io.evil.example/t"), store)).toBeUndefined();
  });

  it("sends a realm its own configured credential", () => {
    expect(realmCredential("registry.example.com", undefined, new URL("https://tokens.example.org/t"), store)).toEqual({
      username: "realm-user",
      password: "rp",
    });
  });

  it("builds Basic headers", () => {
    expect(basicAuthorization({ username: "a", password: "b:c" })).toBe(`Basic ${Buffer.from("a:b:c").toString("base64")}`);
  });
});

describe("sites", () => {
  it.each([
    ["registry-1.docker.io", "docker.io"],
    ["auth.docker.io", "docker.io"],
    ["ghcr.io", "ghcr.io"],
    ["a.b.example.co.uk", "example.co.uk"],
    ["registry.example.com.au", "example.com.au"],
    ["foo.github.io", "foo.github.io"],
    ["myreg.azurecr.io", "myreg.azurecr.io"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com"],
    ["bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"],
    ["127.0.0.1:5000", "127.0.0.1"],
    ["[::1]:5000", "[::1]"],
    ["Example.COM.", "example.com"],
  ])("%s → %s", (host, site) => {
    expect(registrableDomain(host)).toBe(site);
  });

  it("compares sites", () => {
    expect(sameSite("registry-1.docker.io", "auth.docker.io")).toBe(true);
    expect(sameSite("a.github.io", "b.github.io")).toBe(false);
    expect(sameSite("x.example.co.uk", "y.other.co.uk")).toBe(false);
    expect(sameSite("127.0.0.1:5000", "127.0.0.1:5001")).toBe(true);
    expect(sameSite("127.0.0.1", "127.0.0.2")).toBe(false);
  });
});
