import { describe, expect, it } from "vitest";
import { RegistryConfigError, registryOptionsFromEnv } from "../../src/registry/client.js";
import { retiredSettings } from "../../src/registry/options.js";

describe("registryOptionsFromEnv", () => {
  it("reads every setting", () => {
    const options = registryOptionsFromEnv({
      DIGEST_PIN_INSECURE_REGISTRIES: " 127.0.0.1:5000, https://reg.corp.example ,,",
      DIGEST_PIN_REGISTRY_MIRRORS: "docker.io=mirror.example.com,index.docker.io=https://m2.example.com:5000/, ghcr.io=gh.example",
      REGISTRY_AUTH_FILE: "/run/auth.json",
    });
    expect(options.insecureRegistries).toEqual(["127.0.0.1:5000", "https://reg.corp.example"]);
    expect([...(options.mirrors ?? [])]).toEqual([
      ["docker.io", "m2.example.com:5000"],
      ["ghcr.io", "gh.example"],
    ]);
    expect(options.authFile).toBe("/run/auth.json");
  });

  it("reads the bounds on time and concurrency", () => {
    const options = registryOptionsFromEnv({ DIGEST_PIN_REFERENCE_TIMEOUT: "45s", DIGEST_PIN_REGISTRY_CONCURRENCY: " 16 " });
    expect(options.timeouts).toEqual({ referenceMs: 45_000 });
    expect(options.maxConcurrency).toBe(16);
    const unset = registryOptionsFromEnv({ DIGEST_PIN_REFERENCE_TIMEOUT: "", DIGEST_PIN_REGISTRY_CONCURRENCY: " " });
    expect(unset.timeouts).toBeUndefined();
    expect(unset.maxConcurrency).toBeUndefined();
  });

  it("has defaults for an empty environment", () => {
    const options = registryOptionsFromEnv({ HOME: "/home/x" });
    expect(options.insecureRegistries).toEqual([]);
    expect(options.mirrors?.size).toBe(0);
    expect(options.authFile).toBe("/home/x/.docker/config.json");
  });

  it.each([
    [{ DIGEST_PIN_INSECURE_REGISTRIES: "reg.example.com/path" }, /DIGEST_PIN_INSECURE_REGISTRIES: "reg.example.com\/path" is not host\[:port\]/],
    [{ DIGEST_PIN_INSECURE_REGISTRIES: "a b" }, /DIGEST_PIN_INSECURE_REGISTRIES/],
    [{ DIGEST_PIN_REGISTRY_MIRRORS: "docker.io" }, /DIGEST_PIN_REGISTRY_MIRRORS: "docker.io" is not registry=mirror/],
    [{ DIGEST_PIN_REGISTRY_MIRRORS: "=mirror.example.com" }, /DIGEST_PIN_REGISTRY_MIRRORS/],
    [{ DIGEST_PIN_REGISTRY_MIRRORS: "docker.io=bad/mirror/path" }, /DIGEST_PIN_REGISTRY_MIRRORS/],
    [{ DIGEST_PIN_REFERENCE_TIMEOUT: "0" }, /DIGEST_PIN_REFERENCE_TIMEOUT: "0" must be longer than 0/],
    [{ DIGEST_PIN_REFERENCE_TIMEOUT: "later" }, /DIGEST_PIN_REFERENCE_TIMEOUT: "later" is not a duration/],
    [{ DIGEST_PIN_REGISTRY_CONCURRENCY: "0" }, /DIGEST_PIN_REGISTRY_CONCURRENCY: "0" is not a positive whole number/],
    [{ DIGEST_PIN_REGISTRY_CONCURRENCY: "2.5" }, /DIGEST_PIN_REGISTRY_CONCURRENCY: "2.5" is not a positive whole number/],
  ])("rejects %o", (env, message) => {
    expect(() => registryOptionsFromEnv(env)).toThrow(RegistryConfigError);
    expect(() => registryOptionsFromEnv(env)).toThrow(message);
  });

  it("no longer reads DIGEST_PIN_CACHE_TTL, and says so instead of ignoring it silently", () => {
    expect(registryOptionsFromEnv({ DIGEST_PIN_CACHE_TTL: "soon" })).not.toHaveProperty("cacheTtlMs");
    expect(retiredSettings({ DIGEST_PIN_CACHE_TTL: "300" })).toEqual([expect.stringMatching(/^DIGEST_PIN_CACHE_TTL is no longer read/)]);
    expect(retiredSettings({ DIGEST_PIN_CACHE_TTL: " " })).toEqual([]);
    expect(retiredSettings({})).toEqual([]);
  });
});
