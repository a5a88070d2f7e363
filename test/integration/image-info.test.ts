// imageInfo against a real Distribution registry: created time, OCI labels and platforms of an image by digest, for
// indexes and single manifests, Docker and OCI; answered from the cache the second time (it is immutable); NOT_FOUND
// for a digest the registry does not have.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import type { ImageReference } from "../../src/reference.js";
import { RegistryClient } from "../../src/registry/client.js";
import { MEDIA_TYPES } from "../../src/registry/types.js";
import { rejection } from "../helpers/rejection.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping imageInfo against a real registry: ${availability.reason}`);

const LABELS = {
  "org.opencontainers.image.source": "https://github.com/acme/app",
  "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
  "org.opencontainers.image.version": "1.2.3",
  "com.example.other": "not shown",
};

describe.skipIf(!availability.available)("imageInfo", () => {
  let registry: LocalRegistry;
  let client: RegistryClient;
  const ref = (repository: string): ImageReference => ({ registry: registry.host, repository, tag: null, digest: null });

  beforeAll(async () => {
    registry = await LocalRegistry.start();
    client = new RegistryClient({ insecureRegistries: [registry.host], retryBaseMs: 1 });
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it("describes an index: created and labels of its linux/amd64 image, every platform with its manifest", async () => {
    const pushed = await registry.pushImage("acme/app", "1", {
      kind: "oci-index",
      platforms: ["linux/arm64/v8", "linux/amd64", "linux/arm/v7"],
      created: "2024-05-01T12:30:00Z",
      labels: LABELS,
    });
    const info = await client.imageInfo(ref("acme/app"), pushed.digest);
    expect(info.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(info.created?.toISOString()).toBe("2024-05-01T12:30:00.000Z");
    const { "com.example.other": _other, ...oci } = LABELS;
    expect(info.labels).toEqual(oci);
    expect(info.manifests).toEqual([
      { platform: { os: "linux", architecture: "arm64", variant: "v8" }, digest: pushed.children["linux/arm64/v8"] },
      { platform: { os: "linux", architecture: "amd64" }, digest: pushed.children["linux/amd64"] },
      { platform: { os: "linux", architecture: "arm", variant: "v7" }, digest: pushed.children["linux/arm/v7"] },
    ]);
    expect((await client.createdAt(ref("acme/app"), pushed.digest))?.toISOString()).toBe("2024-05-01T12:30:00.000Z");
  });

  it("describes a single Docker manifest, without platforms, and an image that says nothing", async () => {
    const single = await registry.pushImage("acme/single", "1", { kind: "docker-manifest", labels: LABELS, created: "2023-01-02T03:04:05Z" });
    const info = await client.imageInfo(ref("acme/single"), single.digest);
    expect(info.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(info.created?.toISOString()).toBe("2023-01-02T03:04:05.000Z");
    expect(info.labels["org.opencontainers.image.version"]).toBe("1.2.3");
    expect(info.manifests).toBeUndefined();
    const bare = await registry.pushImage("acme/bare", "1", { kind: "docker-list" });
    expect(await client.imageInfo(ref("acme/bare"), bare.digest)).toMatchObject({ created: null, labels: {} });
  });

  it("asks the registry once for what it already described (immutable, cached)", async () => {
    const pushed = await registry.pushImage("acme/cached", "1", { kind: "oci-index", labels: LABELS });
    registry.clearRequests();
    await client.imageInfo(ref("acme/cached"), pushed.digest);
    const first = (await registry.requests()).length;
    expect(first).toBe(3); // the index, its linux/amd64 manifest, that manifest's config
    registry.clearRequests();
    await client.imageInfo(ref("acme/cached"), pushed.digest);
    expect(await registry.requests()).toEqual([]);
  });

  it("is NOT_FOUND for a digest the registry does not have", async () => {
    const error = await rejection(client.imageInfo(ref("acme/app"), `sha256:${"0".repeat(64)}`));
    expect(error.code).toBe("NOT_FOUND");
  });
});
