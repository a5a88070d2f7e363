// Running Docker credential helpers: a real process (the tests' own helper script) for every behaviour, from a plain
// answer to one that hangs or floods its output.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialHelpers, runCredentialHelper } from "../../src/registry/credential-helper.js";
import { installCredentialHelper } from "../helpers/credential-helper.js";
import type { TestHelper } from "../helpers/credential-helper.js";
import { rejection } from "../helpers/rejection.js";

const SECRET = "s3cret-from-helper";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("running a credential helper", () => {
  let helper: TestHelper;
  const env = () => ({ ...process.env, PATH: helper.path, TESTHELPER_MARK: "passed-through" });

  beforeAll(async () => {
    helper = await installCredentialHelper();
    await helper.answer({
      "reg.example.com": { username: "robot", secret: SECRET },
      "https://index.docker.io/v1/": { username: "hubuser", secret: SECRET },
      "acr.example.com": { username: "<token>", secret: "refresh-token-1" },
      "empty.example.com": { username: "", secret: "" },
      "hang.example.com": { hang: true },
      "huge.example.com": { huge: 10 },
      "fail.example.com": { fail: `keychain locked\u001b[31m\n${"z".repeat(5000)}` },
      "garbage.example.com": { raw: `{"Username":"robot","Secret":"${SECRET}"` },
    });
  });
  afterAll(async () => {
    await helper?.remove();
  });

  it("runs `docker-credential-<name> get` with the server URL on stdin and the environment passed through", async () => {
    const before = (await helper.calls()).length;
    expect(await runCredentialHelper("testhelper", "reg.example.com", { env: env() })).toEqual({
      username: "robot",
      password: SECRET,
    });
    expect(await runCredentialHelper("testhelper", "https://index.docker.io/v1/", { env: env() })).toEqual({
      username: "hubuser",
      password: SECRET,
    });
    const calls = (await helper.calls()).slice(before);
    expect(calls.map((c) => [c.args, c.input, c.mark])).toEqual([
      [["get"], "reg.example.com", "passed-through"],
      [["get"], "https://index.docker.io/v1/", "passed-through"],
    ]);
  });

  it("reads the `<token>` username as an identity token, like Docker", async () => {
    expect(await runCredentialHelper("testhelper", "acr.example.com", { env: env() })).toEqual({
      username: "",
      password: "",
      identityToken: "refresh-token-1",
    });
  });

  it("takes \"credentials not found in native keychain\" (exit 1), and an empty answer, as no credential", async () => {
    expect(await runCredentialHelper("testhelper", "unknown.example.com", { env: env() })).toBeUndefined();
    expect(await runCredentialHelper("testhelper", "empty.example.com", { env: env() })).toBeUndefined();
  });

  it("names a missing helper and the registry it was wanted for", async () => {
    const error = await rejection(runCredentialHelper("nosuch", "reg.example.com", { env: env() }));
    expect(error.code).toBe("CREDENTIAL_HELPER_MISSING");
    expect(error.message).toContain("docker-credential-nosuch");
    expect(error.message).toContain("reg.example.com");
    expect(error.message).toContain("PATH");
    expect((error as Error & { cause?: { code?: string } }).cause?.code).toBe("ENOENT");
  });

  it("looks on PATH only: a helper beside the working directory but not on PATH is missing", async () => {
    const error = await rejection(
      runCredentialHelper("testhelper", "reg.example.com", { env: { ...process.env, PATH: "/nonexistent" } }),
    );
    expect(error.code).toBe("CREDENTIAL_HELPER_MISSING");
  });

  it("kills a helper that hangs once its time is up", async () => {
    const before = (await helper.calls()).length;
    const started = Date.now();
    const error = await rejection(runCredentialHelper("testhelper", "hang.example.com", { env: env(), timeoutMs: 400 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe("CREDENTIAL_HELPER_TIMEOUT");
    expect(error.message).toContain("docker-credential-testhelper");
    expect(error.message).toContain("hang.example.com");
    const [call] = (await helper.calls()).slice(before);
    expect(call).toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(call!.pid)).toBe(false);
  });

  it("cuts a helper that prints more than it may, and kills it", async () => {
    const before = (await helper.calls()).length;
    const error = await rejection(runCredentialHelper("testhelper", "huge.example.com", { env: env() }));
    expect(error.code).toBe("CREDENTIAL_HELPER_FAILED");
    expect(error.message).toMatch(/more than 64 KiB/);
    expect(error.message.length).toBeLessThan(400);
    const [call] = (await helper.calls()).slice(before);
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(call!.pid)).toBe(false);
  });

  it("reports a failing helper with its error output cut short and cleaned", async () => {
    const error = await rejection(runCredentialHelper("testhelper", "fail.example.com", { env: env() }));
    expect(error.code).toBe("CREDENTIAL_HELPER_FAILED");
    expect(error.message).toContain("keychain locked");
    expect(error.message).toContain("exit code 3");
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error.message.length).toBeLessThan(600);
  });

  it("never echoes what a helper printed on success, even when it cannot be read", async () => {
    const error = await rejection(runCredentialHelper("testhelper", "garbage.example.com", { env: env() }));
    expect(error.code).toBe("CREDENTIAL_HELPER_FAILED");
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain("robot");
  });

  it("refuses a helper name that is a path, running nothing", async () => {
    const before = (await helper.calls()).length;
    const name = `../${helper.dir.split("/").pop()}/testhelper`;
    const error = await rejection(runCredentialHelper(name, "reg.example.com", { env: env() }));
    expect(error.code).toBe("CREDENTIAL_HELPER_MISSING");
    expect(error.message).toMatch(/not a credential helper name/);
    expect(await helper.calls()).toHaveLength(before);
  });
});

describe("credential helper answers are cached", () => {
  let helper: TestHelper;
  beforeAll(async () => {
    helper = await installCredentialHelper();
    await helper.answer({ "a.example.com": { username: "a", secret: SECRET }, "slow.example.com": { hang: true } });
  });
  afterAll(async () => {
    await helper?.remove();
  });

  it("asks once per server URL for concurrent and later asks, again after the time-to-live", async () => {
    let now = 1_000;
    const helpers = new CredentialHelpers({ env: { ...process.env, PATH: helper.path }, ttlMs: 60_000, now: () => now });
    const answers = await Promise.all([1, 2, 3].map(() => helpers.get("testhelper", "a.example.com")));
    expect(answers).toEqual([1, 2, 3].map(() => ({ username: "a", password: SECRET })));
    expect(await helpers.get("testhelper", "a.example.com")).toEqual({ username: "a", password: SECRET });
    expect(await helpers.get("testhelper", "b.example.com")).toBeUndefined();
    expect(await helpers.get("testhelper", "b.example.com")).toBeUndefined();
    expect((await helper.calls()).map((c) => c.input)).toEqual(["a.example.com", "b.example.com"]);
    now += 60_001;
    await helpers.get("testhelper", "a.example.com");
    expect((await helper.calls()).map((c) => c.input)).toEqual(["a.example.com", "b.example.com", "a.example.com"]);
    expect(helpers.runs).toBe(3);
  });

  it("remembers a failure too, so a broken helper is not run for every reference", async () => {
    const helpers = new CredentialHelpers({ env: { ...process.env, PATH: helper.path }, timeoutMs: 300 });
    const first = await rejection(helpers.get("testhelper", "slow.example.com"));
    const second = await rejection(helpers.get("testhelper", "slow.example.com"));
    expect([first.code, second.code]).toEqual(["CREDENTIAL_HELPER_TIMEOUT", "CREDENTIAL_HELPER_TIMEOUT"]);
    expect(helpers.runs).toBe(1);
  });
});
