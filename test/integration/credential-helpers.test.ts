// Docker credential helpers (`credHelpers`, `credsStore`) against a real Distribution registry: Basic auth (htpasswd)
// and token auth with an identity token. The helper is the tests' own script, on a PATH prepended for the test; what
// it was asked, and how often, is checked, as is what never appears in messages.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LocalRegistry,
  TEST_IDENTITY_TOKEN,
  TEST_USER,
  registryAvailability,
} from "../../bench/harness/registry.js";
import type { PushedImage } from "../../bench/harness/registry.js";
import type { ImageReference } from "../../src/reference.js";
import { RegistryClient } from "../../src/registry/client.js";
import type { RegistryClientOptions } from "../../src/registry/client.js";
import { cli } from "../helpers/cli.js";
import { installCredentialHelper } from "../helpers/credential-helper.js";
import type { TestHelper } from "../helpers/credential-helper.js";
import { rejection } from "../helpers/rejection.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}

const WRONG_SECRET = "wrong-secret-from-helper-9876";

describe.skipIf(!availability.available)("credential helpers against a real registry", () => {
  let basic: LocalRegistry;
  let anonymous: LocalRegistry;
  let token: LocalRegistry;
  let images: { basic: PushedImage; anonymous: PushedImage; token: PushedImage };
  let helper: TestHelper;
  let dir: string;
  const clients: RegistryClient[] = [];

  const ref = (registry: LocalRegistry, repository: string, tag = "1"): ImageReference => ({
    registry: registry.host,
    repository,
    tag,
    digest: null,
  });
  /** A config.json with exactly `config` in it, and a client reading it with the helper's directory first on PATH. */
  async function clientWith(config: object, options: RegistryClientOptions = {}): Promise<RegistryClient> {
    const authFile = path.join(dir, `config-${clients.length}.json`);
    await writeFile(authFile, JSON.stringify(config));
    const client = new RegistryClient({
      insecureRegistries: ["127.0.0.1"],
      authFile,
      retryBaseMs: 10,
      credentialHelpers: { env: { ...process.env, PATH: helper.path } },
      ...options,
    });
    clients.push(client);
    return client;
  }
  /** What the helper was asked since `from`. */
  const asked = async (from: number) => (await helper.calls()).slice(from).map((c) => c.input);

  beforeAll(async () => {
    [basic, anonymous, token] = await Promise.all([
      LocalRegistry.start({ auth: "basic" }),
      LocalRegistry.start(),
      LocalRegistry.start({ auth: "token", privateRepositories: ["team/secret"] }),
    ]);
    images = {
      basic: await basic.pushImage("team/private", "1", { kind: "oci-index" }),
      anonymous: await anonymous.pushImage("pub/app", "1", { kind: "oci-index" }),
      token: await token.pushImage("team/secret", "1", { kind: "docker-list" }),
    };
    await basic.pushImage("team/private", "2", { kind: "docker-manifest" });
    helper = await installCredentialHelper();
    await helper.answer({
      [basic.host]: { username: TEST_USER.username, secret: TEST_USER.password },
      [token.host]: { username: "<token>", secret: TEST_IDENTITY_TOKEN },
    });
    dir = await mkdtemp(path.join(os.tmpdir(), "digest-pin-credhelp-"));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([basic?.stop(), anonymous?.stop(), token?.stop()]);
    await helper?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("credHelpers: resolves with Basic auth, asking the helper once for the exact registry", async () => {
    const from = (await helper.calls()).length;
    const client = await clientWith({ credHelpers: { [basic.host]: helper.name } });
    const [one, again, two] = await Promise.all([
      client.resolve(ref(basic, "team/private", "1")),
      client.resolve(ref(basic, "team/private", "1")),
      client.resolve(ref(basic, "team/private", "2")),
    ]);
    expect(one.digest).toBe(images.basic.digest);
    expect(again.digest).toBe(images.basic.digest);
    expect(two.digest).toMatch(/^sha256:/);
    expect((await client.resolve(ref(basic, "team/private", "1"))).digest).toBe(images.basic.digest);
    expect(await asked(from)).toEqual([basic.host]);
  });

  it("credsStore: answers every registry that asks; an auths entry for it does not compete (Docker's precedence)", async () => {
    const from = (await helper.calls()).length;
    const wrong = Buffer.from(`${TEST_USER.username}:not-the-password`).toString("base64");
    const client = await clientWith({ credsStore: helper.name, auths: { [basic.host]: { auth: wrong } } });
    expect((await client.resolve(ref(basic, "team/private"))).digest).toBe(images.basic.digest);
    expect(await asked(from)).toEqual([basic.host]);
  });

  it("runs the helper only for a registry that asks for credentials", async () => {
    const from = (await helper.calls()).length;
    const client = await clientWith({ credsStore: helper.name, credHelpers: { [anonymous.host]: helper.name } });
    expect((await client.resolve(ref(anonymous, "pub/app"))).digest).toBe(images.anonymous.digest);
    expect(await asked(from)).toEqual([]);
    expect((await client.resolve(ref(basic, "team/private"))).digest).toBe(images.basic.digest);
    expect(await asked(from)).toEqual([basic.host]);
  });

  it("takes the helper's \"not found\" as no credential: anonymous, and the refusal says the helper had none", async () => {
    const empty = await installCredentialHelper("empty");
    try {
      const client = await clientWith(
        { credsStore: empty.name },
        { credentialHelpers: { env: { ...process.env, PATH: empty.path } } },
      );
      const error = await rejection(client.resolve(ref(basic, "team/private")));
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toContain(`docker-credential-empty has no credentials for ${basic.host}`);
      expect((await empty.calls()).map((c) => c.input)).toEqual([basic.host]);
    } finally {
      await empty.remove();
    }
  });

  it("never puts the helper's secret in a message when the registry refuses it", async () => {
    const other = await installCredentialHelper("wrongsecret");
    try {
      await other.answer({ [basic.host]: { username: TEST_USER.username, secret: WRONG_SECRET } });
      const client = await clientWith(
        { credHelpers: { [basic.host]: other.name } },
        { credentialHelpers: { env: { ...process.env, PATH: other.path } } },
      );
      const error = await rejection(client.resolve(ref(basic, "team/private")));
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toContain("docker-credential-wrongsecret");
      expect(error.message).not.toContain(WRONG_SECRET);
      expect(JSON.stringify(error)).not.toContain(WRONG_SECRET);
      expect(String(error.stack)).not.toContain(WRONG_SECRET);
    } finally {
      await other.remove();
    }
  });

  it("names a missing helper and the registry in the error", async () => {
    const client = await clientWith({ credHelpers: { [basic.host]: "nosuch" } });
    const error = await rejection(client.resolve(ref(basic, "team/private")));
    expect(error.code).toBe("CREDENTIAL_HELPER_MISSING");
    expect(error.message).toContain("docker-credential-nosuch");
    expect(error.message).toContain(basic.host);
  });

  it("exchanges an identity token (`<token>` from the helper) at the realm, for its own registry only", async () => {
    const from = (await helper.calls()).length;
    const before = token.tokenRequests.length;
    const client = await clientWith({ credHelpers: { [token.host]: helper.name } });
    expect((await client.resolve(ref(token, "team/secret"))).digest).toBe(images.token.digest);
    // Asked for the registry, never for its realm's host (another port of the same address).
    expect(await asked(from)).toEqual([token.host]);
    const log = token.tokenRequests.slice(before);
    expect(log.map((l) => [l.method, l.grant, l.authorization, l.scopes])).toEqual([
      ["POST", "refresh_token", "valid", ["repository:team/secret:pull"]],
    ]);
  });

  it("says so when an identity token meets a registry that asks for Basic", async () => {
    const tokens = await installCredentialHelper("tokenonly");
    try {
      await tokens.answer({ [basic.host]: { username: "<token>", secret: "refresh-for-basic-1234" } });
      const client = await clientWith(
        { credHelpers: { [basic.host]: tokens.name } },
        { credentialHelpers: { env: { ...process.env, PATH: tokens.path } } },
      );
      const error = await rejection(client.resolve(ref(basic, "team/private")));
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toMatch(/asks for Basic authentication, but the credentials docker-credential-tokenonly gave .* an identity token/);
      expect(error.message).not.toContain("refresh-for-basic-1234");
    } finally {
      await tokens.remove();
    }
  });

  it("reads an identity token from auths too (as `az acr login` leaves it)", async () => {
    const before = token.tokenRequests.length;
    const auth = Buffer.from("00000000-0000-0000-0000-000000000000:").toString("base64");
    const client = await clientWith({ auths: { [token.host]: { auth, identitytoken: TEST_IDENTITY_TOKEN } } });
    expect((await client.resolve(ref(token, "team/secret"))).digest).toBe(images.token.digest);
    expect(token.tokenRequests.slice(before).map((l) => [l.method, l.authorization])).toEqual([["POST", "valid"]]);
  });

  it("through the CLI: `digest-pin resolve` with a config.json that only has credHelpers", async () => {
    const authFile = path.join(dir, "cli-config.json");
    await writeFile(authFile, JSON.stringify({ credHelpers: { [basic.host]: helper.name } }));
    const from = (await helper.calls()).length;
    const reference = `${basic.host}/team/private:1`;
    const ok = await cli(["resolve", reference, "--insecure-registry", basic.host, "--auth-file", authFile], {
      PATH: helper.path,
    });
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe(`${reference}@${images.basic.digest}`);
    expect(ok.code).toBe(0);
    expect(await asked(from)).toEqual([basic.host]);

    await writeFile(authFile, JSON.stringify({ credHelpers: { [basic.host]: "nosuch" } }));
    const missing = await cli(["resolve", reference, "--insecure-registry", basic.host, "--auth-file", authFile], {
      PATH: helper.path,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("docker-credential-nosuch");
    expect(missing.stderr).toContain(basic.host);
  });
});
