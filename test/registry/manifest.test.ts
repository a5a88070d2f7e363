import { describe, expect, it } from "vitest";
import { configPlatform, indexPlatforms, parseManifest, selectPlatform } from "../../src/registry/manifest.js";
import { normalizePlatform, parsePlatform, platformMatches } from "../../src/registry/platform.js";
import { errorMessageOf, verifiedDigest } from "../../src/registry/response.js";
import { backoffDelay, parseRetryAfter } from "../../src/registry/retry.js";
import { MEDIA_TYPES, RegistryError } from "../../src/registry/types.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const body = (o: unknown) => Buffer.from(JSON.stringify(o));

describe("platforms", () => {
  it("parses --platform values and normalizes aliases", () => {
    expect(parsePlatform("linux/amd64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64" });
    expect(parsePlatform("Linux/ARM/v6")).toEqual({ os: "linux", architecture: "arm", variant: "v6" });
    expect(parsePlatform("linux/arm")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
    expect(parsePlatform("$BUILDPLATFORM")).toBeNull();
    expect(parsePlatform("${TARGETPLATFORM}")).toBeNull();
    expect(parsePlatform("linux")).toBeNull();
    expect(parsePlatform("a/b/c/d")).toBeNull();
    expect(normalizePlatform({ os: "linux", architecture: "x86_64" })).toEqual({ os: "linux", architecture: "amd64" });
    expect(normalizePlatform({ os: "linux", architecture: "aarch64" })).toEqual({ os: "linux", architecture: "arm64" });
  });

  it("matches variants after normalization and OS versions when both are known", () => {
    expect(platformMatches({ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "arm64", variant: "v8" })).toBe(true);
    expect(platformMatches({ os: "linux", architecture: "arm", variant: "v6" }, { os: "linux", architecture: "arm", variant: "v7" })).toBe(false);
    expect(platformMatches({ os: "linux", architecture: "amd64" }, { os: "windows", architecture: "amd64" })).toBe(false);
    expect(
      platformMatches(
        { os: "windows", architecture: "amd64", osVersion: "10.0.17763.1" },
        { os: "windows", architecture: "amd64", osVersion: "10.0.20348.1" },
      ),
    ).toBe(false);
  });
});

describe("manifests", () => {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { mediaType: MEDIA_TYPES.ociManifest, digest: d("a"), size: 1, platform: { os: "linux", architecture: "amd64" } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: d("b"), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: d("c"), size: 1, platform: { os: "unknown", architecture: "unknown" } },
    ],
  };

  it("parses an index and lists its platforms without attestations", () => {
    const m = parseManifest(body(index), undefined, "x");
    expect(m.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(indexPlatforms(m)).toEqual([
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ]);
    expect(selectPlatform(m, { os: "linux", architecture: "arm64" }, "x").digest).toBe(d("b"));
    expect(() => selectPlatform(m, { os: "linux", architecture: "ppc64le" }, "x")).toThrow(/no manifest for linux\/ppc64le/);
  });

  it("refuses to guess between two manifests of one platform", () => {
    const twice = { ...index, manifests: [index.manifests[0], { ...index.manifests[0], digest: d("e") }] };
    const m = parseManifest(body(twice), undefined, "x");
    expect(() => selectPlatform(m, { os: "linux", architecture: "amd64" }, "x")).toThrow(/cannot tell which one/);
  });

  it("takes the type from the body, else Content-Type, else the shape", () => {
    const { mediaType: _omit, ...bare } = index;
    expect(parseManifest(body(bare), `${MEDIA_TYPES.dockerList}; charset=utf-8`, "x").mediaType).toBe(MEDIA_TYPES.dockerList);
    expect(parseManifest(body(bare), "application/json", "x").mediaType).toBe(MEDIA_TYPES.ociIndex);
    const single = { schemaVersion: 2, config: { mediaType: "c", digest: d("f"), size: 2 }, layers: [] };
    expect(parseManifest(body(single), undefined, "x").config?.digest).toBe(d("f"));
    expect(() => parseManifest(Buffer.from("nope"), undefined, "x")).toThrow(RegistryError);
    expect(() => parseManifest(body({ schemaVersion: 1, fsLayers: [] }), "application/vnd.docker.distribution.manifest.v1+prettyjws", "x")).toThrow(
      /unsupported manifest type/,
    );
    expect(() => parseManifest(body({ ...index, manifests: [{ digest: "sha256:short" }] }), undefined, "x")).toThrow(/no valid digest/);
  });

  it("reads a config's platform", () => {
    expect(configPlatform(body({ os: "linux", architecture: "arm", variant: "v7", "os.version": "" }))).toEqual({
      os: "linux",
      architecture: "arm",
      variant: "v7",
    });
    expect(configPlatform(Buffer.from("{}"))).toBeUndefined();
  });
});

describe("responses", () => {
  it("verifies digests against the bytes", () => {
    const bytes = Buffer.from("hello");
    const digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    expect(verifiedDigest(bytes, undefined, undefined, "x")).toBe(digest);
    expect(verifiedDigest(bytes, digest, digest, "x")).toBe(digest);
    expect(() => verifiedDigest(bytes, d("0"), undefined, "x")).toThrow(/says its digest is/);
    expect(() => verifiedDigest(bytes, undefined, d("0"), "x")).toThrow(/asked for/);
    expect(() => verifiedDigest(bytes, "md5:abc", undefined, "x")).toThrow(/unsupported digest algorithm/);
  });

  it("turns OCI error bodies into short messages", () => {
    expect(errorMessageOf(body({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] }))).toBe(
      "DENIED: requested access to the resource is denied",
    );
    expect(errorMessageOf(Buffer.from("<html><body>502</body></html>"))).toBeNull();
    expect(errorMessageOf(Buffer.from("plain\u0000text\nhere"))).toBe("plain text here");
    expect(errorMessageOf(Buffer.from("x".repeat(1000)))?.length).toBeLessThanOrEqual(201);
  });
});

describe("retry timing", () => {
  it("parses Retry-After seconds and HTTP dates", () => {
    const now = Date.parse("2024-01-01T00:00:00Z");
    expect(parseRetryAfter("5", now)).toBe(5000);
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(600);
    expect(backoffDelay(20, 100, 1_000, () => 1)).toBe(1000);
  });
});
