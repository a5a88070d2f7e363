// A credential, and every token obtained with it, goes only to the registry it is configured for. Real parts: a
// Distribution registry with token auth (the victim, credentials for it in a Docker config.json) and a hostile
// registry on loopback (a node:http server) whose challenge names the victim's token realm and asks for push on the
// victim's private repository. Both are listed as insecure. What each server receives is recorded and checked.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRegistry, TEST_USER, registryAvailability } from "../../bench/harness/registry.js";
import type { PushedImage } from "../../bench/harness/registry.js";
import { RegistryClient } from "../../src/registry/client.js";
import { BadRegistry } from "../faults/harness.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}

const PRIVATE = "victim-org/private";
const BAIT = "attacker/bait";

/** The claims of a JWT the token server minted (its `sub` is the user it was minted for, "" when anonymous). */
function claims(authorization: string): { sub?: string; access?: { name: string; actions: string[] }[] } {
  const payload = authorization.replace(/^Bearer /, "").split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ReturnType<typeof claims>;
}

const layouts = [
  { name: "the realm on the victim's own host, like ghcr.io", realmOnRegistryHost: true },
  { name: "the realm on another port of the victim's address, like Distribution's token server", realmOnRegistryHost: false },
];

describe.skipIf(!availability.available).each(layouts)("credentials never cross registries: $name", (layout) => {
  let victim: LocalRegistry;
  let hostile: BadRegistry;
  let image: PushedImage;
  let dir: string;
  let client: RegistryClient;
  /** Token requests of the client under test, after those of seeding (which pushes with the test user). */
  let seeded = 0;
  const tokenLog = () => victim.tokenRequests.slice(seeded);

  beforeAll(async () => {
    victim = await LocalRegistry.start({
      auth: "token",
      privateRepositories: [PRIVATE],
      realmOnRegistryHost: layout.realmOnRegistryHost,
    });
    image = await victim.pushImage(PRIVATE, "1", { kind: "oci-index" });
    seeded = victim.tokenRequests.length;
    hostile = await BadRegistry.start();
    const realm = victim.tokenRealm ?? "";
    for (const repository of [PRIVATE, BAIT]) {
      hostile.image(repository, "1");
      // Any Bearer token is accepted, so the client would go on sending it up front.
      hostile.set(repository, {
        kind: "challenge",
        realm,
        service: "digest-pin-test-registry",
        scope: `repository:${PRIVATE}:pull,push`,
        authorization: /^Bearer /,
      });
    }
    dir = await mkdtemp(path.join(os.tmpdir(), "digest-pin-cross-"));
    const authFile = path.join(dir, "config.json");
    const auth = Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString("base64");
    await writeFile(authFile, JSON.stringify({ auths: { [victim.host]: { auth } } }));
    const realmHost = new URL(realm).host;
    client = new RegistryClient({
      insecureRegistries: [...new Set([victim.host, hostile.host, realmHost])],
      authFile,
      retryBaseMs: 10,
    });
  });
  afterAll(async () => {
    await client?.close();
    await hostile?.close();
    await victim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the victim's credential reaches only the victim's realm; the hostile registry gets anonymous pull tokens", async () => {
    const ref = (registry: string, repository: string) => ({ registry, repository, tag: "1", digest: null });
    // The victim's private image resolves with its credential: its token (realm, service, scope) is now cached.
    expect((await client.resolve(ref(victim.host, PRIVATE))).digest).toBe(image.digest);
    const victimPhase = tokenLog().length;
    expect(tokenLog().map((l) => l.authorization)).toEqual(["valid"]);

    // The hostile registry: the same repository path, then another one (answered up front, from the learned realm).
    await client.resolve(ref(hostile.host, PRIVATE));
    await client.resolve(ref(hostile.host, BAIT));
    // The victim again, to show its own flow still works beside the hostile one.
    expect((await client.resolve(ref(victim.host, PRIVATE))).digest).toBe(image.digest);

    // The token server never received the credential on the hostile registry's behalf, and every scope anyone
    // asked for is pull on the repository being resolved.
    const onBehalfOfHostile = tokenLog().slice(victimPhase);
    expect(onBehalfOfHostile.length).toBeGreaterThan(0);
    for (const request of onBehalfOfHostile) expect(request.authorization).toBe("none");
    for (const request of tokenLog()) {
      for (const scope of request.scopes) expect([`repository:${PRIVATE}:pull`, `repository:${BAIT}:pull`]).toContain(scope);
    }
    expect(tokenLog().filter((l) => l.authorization === "valid")).toHaveLength(1);

    // What the hostile server received: anonymous tokens only, granting nothing on the private repository.
    const received = hostile.requests.map((r) => r.headers.authorization).filter((a) => a !== undefined);
    expect(received.length).toBeGreaterThanOrEqual(2);
    for (const header of received) {
      expect(header).toMatch(/^Bearer /);
      const token = claims(header);
      expect(token.sub).toBe("");
      expect(token.access ?? []).not.toContainEqual(expect.objectContaining({ name: PRIVATE }));
    }
    // The second hostile reference carried its (anonymous) token on the first request: the up-front path was used.
    expect(hostile.requestsFor(BAIT)[0]?.headers.authorization).toMatch(/^Bearer /);
  });
});
