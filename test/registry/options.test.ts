import { describe, expect, it } from "vitest";
import { RegistryConfigError, registryOptionsFromEnv } from "../../src/registry/client.js";
import { parseDuration } from "../../src/registry/options.js";

describe("registryOptionsFromEnv", () => {
  it("reads every setting", () => {
    const options = registryOptionsFromEnv({
      DIGEST_PIN_INSECURE_REGISTRIES: " 127.0.0.1:5000, https://reg.corp.example ,,",
      DIGEST_PIN_REGISTRY_MIRRORS: "docker.io=mirror.example.com,index.docker.io=https://m2.example.com:5000/, ghcr.io=gh.example",
      REGISTRY_AUTH_FILE: "/run/auth.json",
      DIGEST_PIN_CACHE_TTL: "10m",
    });
    expect(options.insecureRegistries).toEqual(["127.0.0.1:5000", "https://reg.corp.example"]);
    expect([...(options.mirrors ?? [])]).toEqual([
      ["docker.io", "m2.example.com:5000"],
      ["ghcr.io", "gh.example"],
    ]);
    expect(options.authFile).toBe("/run/auth.json");
    expect(options.cacheTtlMs).toBe(600_000);
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
    expect(options.cacheTtlMs).toBeUndefined();
  });

  it.each([
    [{ DIGEST_PIN_INSECURE_REGISTRIES: "reg.example.com/path" }, /DIGEST_PIN_INSECURE_REGISTRIES: "reg.example.com\/path" is not host\[:port\]/],
    [{ DIGEST_PIN_INSECURE_REGISTRIES: "a b" }, /DIGEST_PIN_INSECURE_REGISTRIES/],
    [{ DIGEST_PIN_REGISTRY_MIRRORS: "docker.io" }, /DIGEST_PIN_REGISTRY_MIRRORS: "docker.io" is not registry=mirror/],
    [{ DIGEST_PIN_REGISTRY_MIRRORS: "=mirror.example.com" }, /DIGEST_PIN_REGISTRY_MIRRORS/],
    [{ DIGEST_PIN_REGISTRY_MIRRORS: "docker.io=bad/mirror/path" }, /DIGEST_PIN_REGISTRY_MIRRORS/],
    [{ DIGEST_PIN_CACHE_TTL: "soon" }, /DIGEST_PIN_CACHE_TTL: "soon" is not a duration/],
    [{ DIGEST_PIN_CACHE_TTL: "-5" }, /DIGEST_PIN_CACHE_TTL/],
    [{ DIGEST_PIN_REFERENCE_TIMEOUT: "0" }, /DIGEST_PIN_REFERENCE_TIMEOUT: "0" must be longer than 0/],
    [{ DIGEST_PIN_REFERENCE_TIMEOUT: "later" }, /DIGEST_PIN_REFERENCE_TIMEOUT: "later" is not a duration/],
    [{ DIGEST_PIN_REGISTRY_CONCURRENCY: "0" }, /DIGEST_PIN_REGISTRY_CONCURRENCY: "0" is not a positive whole number/],
    [{ DIGEST_PIN_REGISTRY_CONCURRENCY: "2.5" }, /DIGEST_PIN_REGISTRY_CONCURRENCY: "2.5" is not a positive whole number/],
  ])("rejects %o", (env, message) => {
    expect(() => registryOptionsFromEnv(env)).toThrow(RegistryConfigError);
    expect(() => registryOptionsFromEnv(env)).toThrow(message);
  });

  it("parses durations", () => {
    expect(parseDuration("300", "X")).toBe(300_000);
    expect(parseDuration("0", "X")).toBe(0);
    expect(parseDuration("250ms", "X")).toBe(250);
    expect(parseDuration("1.5h", "X")).toBe(5_400_000);
    expect(parseDuration("30 S", "X")).toBe(30_000);
  });
});
