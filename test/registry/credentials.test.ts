import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CredentialStore,
  CredentialsError,
  credentialKey,
  defaultAuthFile,
  loadCredentials,
} from "../../src/registry/credentials.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("credential keys", () => {
  it.each([
    ["https://index.docker.io/v1/", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["docker.io", "docker.io"],
    ["GHCR.io", "ghcr.io"],
    ["https://ghcr.io", "ghcr.io"],
    ["https://ghcr.io/v2/", "ghcr.io"],
    ["http://localhost:5000", "localhost:5000"],
    ["localhost:5000", "localhost:5000"],
    ["quay.io/team", "quay.io/team"],
    ["docker.io/acme/", "docker.io/acme"],
  ])("%s → %s", (key, expected) => {
    expect(credentialKey(key)).toBe(expected);
  });
});

describe("config.json", () => {
  it("reads auth (base64 user:pass, password may hold colons) and username/password entries", () => {
    const store = CredentialStore.parse(
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: b64("hubuser:pa:ss") },
          "ghcr.io": { username: "gh", password: "token" },
          "quay.io/team": { auth: b64("team:tp") },
          "quay.io": { auth: b64("quay:qp") },
          "helper-only.example.com": {},
          "identity.example.com": { identitytoken: "x" },
        },
        credsStore: "desktop",
      }),
      "config.json",
    );
    expect(store.get("docker.io")).toEqual({ username: "hubuser", password: "pa:ss" });
    expect(store.get("registry-1.docker.io")).toEqual({ username: "hubuser", password: "pa:ss" });
    expect(store.get("ghcr.io")).toEqual({ username: "gh", password: "token" });
    expect(store.get("quay.io", "team/app")).toEqual({ username: "team", password: "tp" });
    expect(store.get("quay.io", "other/app")).toEqual({ username: "quay", password: "qp" });
    expect(store.get("helper-only.example.com")).toBeUndefined();
    expect(store.get("identity.example.com")).toBeUndefined();
    expect(store.size).toBe(4);
  });

  it("gives clear errors for malformed files, never echoing secrets", () => {
    expect(() => CredentialStore.parse("{", "/x/config.json")).toThrow(/\/x\/config.json is not valid JSON/);
    expect(() => CredentialStore.parse("[]", "f")).toThrow(/must contain a JSON object/);
    expect(() => CredentialStore.parse('{"auths": 3}', "f")).toThrow(/"auths" must be an object/);
    expect(() => CredentialStore.parse('{"auths": {"a.io": "x"}}', "f")).toThrow(/auths\["a.io"\] must be an object/);
    expect(() => CredentialStore.parse('{"auths": {"a.io": {"auth": "!!!"}}}', "f")).toThrow(/not base64/);
    const noColon = JSON.stringify({ auths: { "a.io": { auth: b64("justasecret") } } });
    expect(() => CredentialStore.parse(noColon, "f")).toThrow(CredentialsError);
    try {
      CredentialStore.parse(noColon, "f");
    } catch (error) {
      expect((error as Error).message).not.toContain("justasecret");
    }
    expect(CredentialStore.parse("{}", "f").size).toBe(0);
  });

  it("loads from a file; a missing file means no credentials", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "digest-pin-creds-"));
    const file = path.join(dir, "config.json");
    await writeFile(file, JSON.stringify({ auths: { "reg.example.com": { auth: b64("u:p") } } }));
    expect((await loadCredentials(file)).get("reg.example.com")).toEqual({ username: "u", password: "p" });
    expect((await loadCredentials(path.join(dir, "missing.json"))).size).toBe(0);
    await writeFile(file, "not json");
    await expect(loadCredentials(file)).rejects.toThrow(CredentialsError);
    await expect(loadCredentials(dir)).rejects.toThrow(/cannot read/);
  });

  it("finds the file: REGISTRY_AUTH_FILE, then DOCKER_CONFIG, then ~/.docker", () => {
    expect(defaultAuthFile({ REGISTRY_AUTH_FILE: "/a.json", DOCKER_CONFIG: "/d", HOME: "/h" })).toBe("/a.json");
    expect(defaultAuthFile({ DOCKER_CONFIG: "/d", HOME: "/h" })).toBe("/d/config.json");
    expect(defaultAuthFile({ HOME: "/h" })).toBe("/h/.docker/config.json");
  });
});
