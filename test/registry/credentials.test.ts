import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CredentialStore,
  CredentialsError,
  credentialKey,
  defaultAuthFile,
  helperServerUrl,
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
  const file = (credential: { username: string; password: string; identityToken?: string }) => ({ kind: "file", credential });

  it("reads auth (base64 user:pass, password may hold colons) and username/password entries", () => {
    const store = CredentialStore.parse(
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: b64("hubuser:pa:ss") },
          "ghcr.io": { username: "gh", password: "token" },
          "quay.io/team": { auth: b64("team:tp") },
          "quay.io": { auth: b64("quay:qp") },
          "helper-only.example.com": {},
        },
      }),
      "config.json",
    );
    expect(store.source("docker.io")).toEqual(file({ username: "hubuser", password: "pa:ss" }));
    expect(store.source("registry-1.docker.io")).toEqual(file({ username: "hubuser", password: "pa:ss" }));
    expect(store.source("ghcr.io")).toEqual(file({ username: "gh", password: "token" }));
    expect(store.source("quay.io", "team/app")).toEqual(file({ username: "team", password: "tp" }));
    expect(store.source("quay.io", "other/app")).toEqual(file({ username: "quay", password: "qp" }));
    expect(store.source("helper-only.example.com")).toEqual({ kind: "none" });
    expect(store.source("elsewhere.example.com")).toEqual({ kind: "none" });
    expect(store.size).toBe(4);
  });

  it("reads an identity token (an OAuth refresh token, as `az acr login` leaves) beside or instead of auth", () => {
    const store = CredentialStore.parse(
      JSON.stringify({
        auths: {
          "acr.example.com": { auth: b64("00000000-0000-0000-0000-000000000000:"), identitytoken: "refresh-1" },
          "only.example.com": { identitytoken: "refresh-2" },
          "static.example.com": { registrytoken: "bearer-3" },
        },
      }),
      "config.json",
    );
    expect(store.source("acr.example.com")).toEqual(
      file({ username: "00000000-0000-0000-0000-000000000000", password: "", identityToken: "refresh-1" }),
    );
    expect(store.source("only.example.com")).toEqual(file({ username: "", password: "", identityToken: "refresh-2" }));
    // A registry token is not used; saying so beats answering as if nothing were configured.
    const none = store.source("static.example.com");
    expect(none).toEqual({ kind: "none", reason: expect.stringMatching(/registrytoken/) });
    expect(JSON.stringify(none)).not.toContain("bearer-3");
  });
});

describe("credential helpers in config.json (Docker's precedence)", () => {
  const config = {
    auths: {
      "https://index.docker.io/v1/": { auth: b64("hub:file") },
      "ecr.example.com": { auth: b64("ecr:file") },
      "plain.example.com": { auth: b64("plain:file") },
      "quay.io/team": { auth: b64("team:file") },
      "desktop.example.com": {},
    },
    credsStore: "desktop",
    credHelpers: {
      "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login",
      "ecr.example.com": "ecr-login",
      "https://index.docker.io/v1/": "hub",
      "us-docker.pkg.dev": "gcloud",
      "plain.example.com": "",
    },
  };
  const store = CredentialStore.parse(JSON.stringify(config), "config.json");
  const helper = (name: string, serverUrl: string) => ({ kind: "helper", helper: name, serverUrl });

  it("asks credHelpers[registry] first, for that exact registry, with Docker's server URL", () => {
    expect(store.source("123456789012.dkr.ecr.us-east-1.amazonaws.com")).toEqual(
      helper("ecr-login", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
    );
    // An auths entry for the same registry does not compete with its helper.
    expect(store.source("ecr.example.com")).toEqual(helper("ecr-login", "ecr.example.com"));
    expect(store.source("US-docker.pkg.dev", "proj/repo/app")).toEqual(helper("gcloud", "us-docker.pkg.dev"));
    // Docker Hub, whichever of its names is contacted, is asked for as https://index.docker.io/v1/.
    expect(store.source("registry-1.docker.io", "library/python")).toEqual(helper("hub", "https://index.docker.io/v1/"));
    expect(store.source("docker.io")).toEqual(helper("hub", "https://index.docker.io/v1/"));
  });

  it("falls back to credsStore for every other registry, auths entries included, and keeps the port", () => {
    expect(store.source("quay.io", "team/app")).toEqual(helper("desktop", "quay.io"));
    expect(store.source("desktop.example.com")).toEqual(helper("desktop", "desktop.example.com"));
    expect(store.source("127.0.0.1:5000")).toEqual(helper("desktop", "127.0.0.1:5000"));
    // A sub-domain or another port is another registry, with no helper of its own.
    expect(store.source("x.us-docker.pkg.dev")).toEqual(helper("desktop", "x.us-docker.pkg.dev"));
  });

  it("uses the file's entry where credHelpers names no helper (\"\"), as Docker does", () => {
    expect(store.source("plain.example.com")).toEqual({ kind: "file", credential: { username: "plain", password: "file" } });
  });

  it("uses auths only without a credsStore, path-scoped entries included", () => {
    const { credsStore: _, ...rest } = config;
    const plain = CredentialStore.parse(JSON.stringify(rest), "config.json");
    expect(plain.source("quay.io", "team/app")).toEqual({ kind: "file", credential: { username: "team", password: "file" } });
    expect(plain.source("ecr.example.com")).toEqual(helper("ecr-login", "ecr.example.com"));
    expect(plain.source("unknown.example.com")).toEqual({ kind: "none" });
  });

  it("refuses helper names that are not names, and malformed fields, naming the file", () => {
    const bad = (json: object) => () => CredentialStore.parse(JSON.stringify(json), "/x/config.json");
    expect(bad({ credsStore: "../../bin/sh" })).toThrow(/\/x\/config.json: "credsStore" .* is not a credential helper name/);
    expect(bad({ credHelpers: { "a.io": "a b" } })).toThrow(/credHelpers\["a.io"\] .* is not a credential helper name/);
    expect(bad({ credHelpers: [] })).toThrow(/"credHelpers" must be an object/);
    expect(bad({ credHelpers: { "a.io": 3 } })).toThrow(/credHelpers\["a.io"\] must be a string/);
    expect(bad({ credsStore: 3 })).toThrow(/"credsStore" must be a string/);
    expect(bad({ credHelpers: { "": "x" } })).toThrow(/the key is not a registry/);
    expect(CredentialStore.parse(JSON.stringify({ credsStore: "" }), "f").source("a.io")).toEqual({ kind: "none" });
  });
});

describe("helper server URLs", () => {
  it.each([
    ["registry-1.docker.io", "https://index.docker.io/v1/"],
    ["docker.io", "https://index.docker.io/v1/"],
    ["index.docker.io", "https://index.docker.io/v1/"],
    ["ghcr.io", "ghcr.io"],
    ["127.0.0.1:5000", "127.0.0.1:5000"],
    ["Registry.Example.com:8443", "registry.example.com:8443"],
  ])("%s → %s", (host, expected) => {
    expect(helperServerUrl(host)).toBe(expected);
  });
});

describe("config.json errors", () => {
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
    expect((await loadCredentials(file)).source("reg.example.com")).toEqual({
      kind: "file",
      credential: { username: "u", password: "p" },
    });
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
