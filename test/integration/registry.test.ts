// The registry client against a real CNCF Distribution registry on loopback (Debian's docker-registry), with
// anonymous, Basic, token and TLS variants, and skopeo as an independent second opinion on digests.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LocalRegistry,
  TEST_USER,
  registryAvailability,
  skopeoAvailable,
  skopeoDigest,
} from "../../bench/harness/registry.js";
import type { ImageKind, PushedImage } from "../../bench/harness/registry.js";
import type { ImageReference } from "../../src/reference.js";
import { RegistryClient } from "../../src/registry/client.js";
import type { RegistryClientOptions } from "../../src/registry/client.js";
import { CredentialStore } from "../../src/registry/credentials.js";
import { MEDIA_TYPES } from "../../src/registry/types.js";
import { rejection } from "../helpers/rejection.js";

const availability = registryAvailability();
if (!availability.available) {
  if (process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
    throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
  }
  console.warn(`Skipping the registry integration tests: ${availability.reason}`);
}

const KINDS: ImageKind[] = ["oci-index", "docker-list", "oci-manifest", "docker-manifest"];
const EXPECTED_TYPE: Record<ImageKind, string> = {
  "oci-index": MEDIA_TYPES.ociIndex,
  "docker-list": MEDIA_TYPES.dockerList,
  "oci-manifest": MEDIA_TYPES.ociManifest,
  "docker-manifest": MEDIA_TYPES.dockerManifest,
};
const creds = () => ({ username: TEST_USER.username, password: TEST_USER.password });

describe.skipIf(!availability.available)("registry client against a real registry", () => {
  const clients: RegistryClient[] = [];
  const newClient = (options: RegistryClientOptions) => {
    const c = new RegistryClient({ retryBaseMs: 10, ...options });
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  describe("anonymous, plain HTTP", () => {
    let registry: LocalRegistry;
    const pushed = {} as Record<ImageKind, PushedImage>;
    const ref = (repository: string, tag: string): ImageReference => ({
      registry: registry.host,
      repository,
      tag,
      digest: null,
    });
    const client = (options: RegistryClientOptions = {}) => newClient({ insecureRegistries: ["127.0.0.1"], ...options });

    beforeAll(async () => {
      registry = await LocalRegistry.start();
      for (const kind of KINDS) {
        pushed[kind] = await registry.pushImage("acme/app", kind, {
          kind,
          platforms: ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"],
        });
      }
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it.each(KINDS)("resolves a %s tag to the digest that was pushed", async (kind) => {
      const r = await client().resolve(ref("acme/app", kind));
      expect(r.digest).toBe(pushed[kind].digest);
      expect(r.mediaType).toBe(EXPECTED_TYPE[kind]);
    });

    it("resolves a Docker manifest list to the list's digest, not a child's", async () => {
      const c = client();
      const r = await c.resolve(ref("acme/app", "docker-list"), { withPlatforms: true });
      expect(r.digest).toBe(pushed["docker-list"].digest);
      expect(Object.values(pushed["docker-list"].children)).not.toContain(r.digest);
      expect(r.platforms).toEqual([
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm64", variant: "v8" },
        { os: "linux", architecture: "arm", variant: "v7" },
      ]);
    });

    it.runIf(skopeoAvailable())("agrees with skopeo on every kind of tag", async () => {
      const c = client();
      for (const kind of KINDS) {
        const ours = (await c.resolve(ref("acme/app", kind))).digest;
        expect(await skopeoDigest(registry.host, "acme/app", kind), kind).toBe(ours);
      }
    });

    it("a missing tag or repository is NOT_FOUND", async () => {
      const c = client();
      expect((await rejection(c.resolve(ref("acme/app", "no-such-tag")))).code).toBe("NOT_FOUND");
      expect((await rejection(c.resolve(ref("acme/nothing", "1")))).code).toBe("NOT_FOUND");
    });

    it("detects drift when the tag is moved to a new index; the old digest stays fetchable", async () => {
      const before = await registry.pushImage("acme/drift", "1", { kind: "oci-index", salt: "one" });
      const c = client();
      expect((await c.resolve(ref("acme/drift", "1"))).digest).toBe(before.digest);
      const after = await registry.pushImage("acme/drift", "1", { kind: "oci-index", salt: "two" });
      expect(after.digest).not.toBe(before.digest);
      expect((await c.resolve(ref("acme/drift", "1"))).digest).toBe(after.digest);
      // An index pin is refreshed to the new index.
      expect((await c.resolve(ref("acme/drift", "1"), { currentDigest: before.digest })).digest).toBe(after.digest);
      expect((await registry.getManifest("acme/drift", before.digest)).digest).toBe(before.digest);
    });

    it("refreshes a single-platform pin to the same platform, from the old manifest's config or from --platform", async () => {
      const platforms = ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"];
      const old = await registry.pushImage("acme/multi", "stable", { kind: "docker-list", platforms, salt: "old" });
      const now = await registry.pushImage("acme/multi", "stable", { kind: "docker-list", platforms, salt: "new" });
      const c = client();

      const viaConfig = await c.resolve(ref("acme/multi", "stable"), { currentDigest: old.children["linux/arm64/v8"] });
      expect(viaConfig).toEqual({ digest: now.children["linux/arm64/v8"], mediaType: MEDIA_TYPES.dockerManifest });

      const viaFlag = await c.resolve(ref("acme/multi", "stable"), {
        currentDigest: old.children["linux/arm/v7"],
        platform: "linux/arm/v7",
      });
      expect(viaFlag.digest).toBe(now.children["linux/arm/v7"]);

      // Up to date: the pin is listed in the current index.
      const current = await c.resolve(ref("acme/multi", "stable"), { currentDigest: now.children["linux/amd64"] });
      expect(current.digest).toBe(now.children["linux/amd64"]);

      // The tag's new index has no arm/v7: refuse rather than guess.
      await registry.pushImage("acme/multi", "stable", { kind: "docker-list", platforms: ["linux/amd64"], salt: "newer" });
      const fresh = client();
      const error = await rejection(
        fresh.resolve(ref("acme/multi", "stable"), { currentDigest: old.children["linux/arm/v7"] }),
      );
      expect(error.code).toBe("PLATFORM_NOT_FOUND");
    });

    it("looks up each distinct tag once however many concurrent resolutions ask", async () => {
      for (let i = 0; i < 10; i++) await registry.pushImage("acme/many", `t${i}`, { kind: "oci-index", salt: `${i}` });
      await registry.requests();
      registry.clearRequests();
      const c = client();
      const refs = Array.from({ length: 300 }, (_, i) => ref("acme/many", `t${i % 10}`));
      const results = await Promise.all(refs.map((r) => c.resolve(r)));
      expect(new Set(results.map((r) => r.digest)).size).toBe(10);
      expect(c.stats().requests).toEqual({ head: 10, get: 0, token: 0, total: 10 });
      const seen = await registry.requests();
      expect(seen.filter((r) => r.method === "HEAD" && r.path.includes("/manifests/"))).toHaveLength(10);
      expect(seen).toHaveLength(10);
    });

    it("refuses 127.0.0.1 unless it is listed as insecure, sending nothing", async () => {
      await registry.requests();
      registry.clearRequests();
      const strict = newClient({});
      const error = await rejection(strict.resolve(ref("acme/app", "oci-index")));
      expect(error.code).toBe("REFUSED_HOST");
      expect(error.message).toContain("DIGEST_PIN_INSECURE_REGISTRIES");
      // Listed as https only: still no plain HTTP.
      const httpsOnly = newClient({ insecureRegistries: [`https://${registry.host}`], maxRetries: 0 });
      expect((await rejection(httpsOnly.resolve(ref("acme/app", "oci-index")))).code).toBe("NETWORK");
      expect(strict.stats().requests.total).toBe(0);
      expect(await registry.requests()).toHaveLength(0);
    });
  });

  describe("htpasswd Basic auth", () => {
    let registry: LocalRegistry;
    let image: PushedImage;
    const ref = (): ImageReference => ({ registry: registry.host, repository: "team/private", tag: "1", digest: null });

    beforeAll(async () => {
      registry = await LocalRegistry.start({ auth: "basic" });
      image = await registry.pushImage("team/private", "1", { kind: "oci-index" });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it("resolves with credentials, sending them up front after the first challenge", async () => {
      const c = newClient({
        insecureRegistries: [registry.host],
        credentials: CredentialStore.fromEntries({ [registry.host]: creds() }),
      });
      expect((await c.resolve(ref())).digest).toBe(image.digest);
      await c.resolve({ ...ref(), tag: "missing" }).catch(() => undefined);
      // First lookup: challenge + answer; the second goes straight with Basic.
      expect(c.stats().requests.head).toBe(3);
    });

    it("reads credentials from a config.json", async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "digest-pin-auth-"));
      const authFile = path.join(dir, "config.json");
      const auth = Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString("base64");
      await writeFile(authFile, JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } } }));
      try {
        const c = newClient({ insecureRegistries: [registry.host], authFile });
        expect((await c.resolve(ref())).digest).toBe(image.digest);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("is UNAUTHORIZED without credentials or with a wrong password", async () => {
      const none = newClient({ insecureRegistries: [registry.host] });
      expect((await rejection(none.resolve(ref()))).code).toBe("UNAUTHORIZED");
      const wrong = newClient({
        insecureRegistries: [registry.host],
        credentials: CredentialStore.fromEntries({ [registry.host]: { username: TEST_USER.username, password: "nope-wrong" } }),
      });
      const error = await rejection(wrong.resolve(ref()));
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).not.toContain("nope-wrong");
    });
  });

  describe("token auth", () => {
    let registry: LocalRegistry;
    const images: Record<string, PushedImage> = {};
    const ref = (repository: string): ImageReference => ({ registry: registry.host, repository, tag: "1", digest: null });

    beforeAll(async () => {
      registry = await LocalRegistry.start({ auth: "token", privateRepositories: ["team/secret"] });
      for (const repo of ["pub/a", "pub/b", "pub/c", "team/secret"]) {
        images[repo] = await registry.pushImage(repo, "1", { kind: "docker-list" });
      }
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it("gets anonymous tokens for public repositories, batching concurrent scopes", async () => {
      const before = registry.tokenRequests.length;
      // 127.0.0.1 covers the registry and its token realm (another port).
      const c = newClient({ insecureRegistries: ["127.0.0.1"] });
      expect((await c.resolve(ref("pub/a"))).digest).toBe(images["pub/a"]!.digest);
      const rest = await Promise.all(["pub/b", "pub/c"].map((r) => c.resolve(ref(r))));
      expect(rest.map((r) => r.digest)).toEqual([images["pub/b"]!.digest, images["pub/c"]!.digest]);
      const log = registry.tokenRequests.slice(before);
      expect(log.every((l) => l.authorization === "none")).toBe(true);
      expect(log).toHaveLength(2);
      expect(log[1]!.scopes.sort()).toEqual(["repository:pub/b:pull", "repository:pub/c:pull"]);
      expect(c.stats().requests.token).toBe(2);
    });

    it("needs credentials for a private repository, and sends them to the realm", async () => {
      const anonymous = newClient({ insecureRegistries: ["127.0.0.1"] });
      const error = await rejection(anonymous.resolve(ref("team/secret")));
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toContain("insufficient_scope");

      const before = registry.tokenRequests.length;
      const c = newClient({
        insecureRegistries: ["127.0.0.1"],
        credentials: CredentialStore.fromEntries({ [registry.host]: creds() }),
      });
      expect((await c.resolve(ref("team/secret"))).digest).toBe(images["team/secret"]!.digest);
      expect(registry.tokenRequests.slice(before).map((l) => l.authorization)).toEqual(["valid"]);
    });

    it("refuses a token realm on a host that is not listed, even when the registry is", async () => {
      const c = newClient({ insecureRegistries: [registry.host] });
      const error = await rejection(c.resolve(ref("pub/a")));
      expect(error.code).toBe("REFUSED_HOST");
      expect(error.message).toContain("token realm");
    });
  });

  describe("TLS with a self-signed certificate", () => {
    let registry: LocalRegistry;
    let image: PushedImage;
    const ref = (): ImageReference => ({ registry: registry.host, repository: "acme/tls", tag: "1", digest: null });

    beforeAll(async () => {
      registry = await LocalRegistry.start({ tls: true });
      image = await registry.pushImage("acme/tls", "1", { kind: "oci-index" });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it("resolves over https when the certificate is trusted", async () => {
      const c = newClient({ insecureRegistries: [`https://${registry.host}`], ca: registry.ca });
      expect((await c.resolve(ref())).digest).toBe(image.digest);
    });

    it("reports an untrusted certificate as a NETWORK error", async () => {
      const c = newClient({ insecureRegistries: [`https://${registry.host}`], maxRetries: 0 });
      const error = await rejection(c.resolve(ref()));
      expect(error.code).toBe("NETWORK");
      expect(error.message).toMatch(/certificate .* not trusted/);
    });

    it("still refuses the loopback address when it is not listed", async () => {
      const c = newClient({ ca: registry.ca });
      expect((await rejection(c.resolve(ref()))).code).toBe("REFUSED_HOST");
    });
  });
});
