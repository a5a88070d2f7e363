// Registry faults over real sockets: a local server that stalls, resets, lies, floods or fails, first against the
// client (what test/registry/client.test.ts cannot show with MockAgent: real connections, streamed bodies), then
// through the whole app: failures are listed, nothing is pinned to a digest that was not read, an outage never closes
// or strips the open pull request, and the app converges once the registry answers again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { proposalKey, readMarker } from "../../src/github/marker.js";
import { parseReference } from "../../src/reference.js";
import { RegistryClient, type RegistryClientOptions } from "../../src/registry/client.js";
import { RegistryError } from "../../src/registry/types.js";
import { commented, installationCreated } from "../app/app-harness.js";
import { BadRegistry, INSTALLATION, OWNER, sha256, startHarness, type Harness } from "./harness.js";

function ref(text: string) {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    return error as RegistryError;
  }
  throw new Error("expected the resolution to fail");
}

describe("the registry client over real sockets", () => {
  let bad: BadRegistry;
  let client: RegistryClient | undefined;
  const make = (options: RegistryClientOptions = {}) =>
    (client = new RegistryClient({ insecureRegistries: [bad.host], retryBaseMs: 1, ...options }));

  beforeAll(async () => {
    bad = await BadRegistry.start();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });
  afterAll(async () => bad?.close());

  it("gives up on an answer that stalls, before the headers or halfway through the body, at the time-out", async () => {
    bad.image("hang/head", "1");
    bad.image("hang/body", "1");
    bad.set("hang/head", { kind: "stall" });
    bad.set("hang/body", { kind: "stall-body" });
    const c = make({ timeouts: { totalMs: 300 }, maxRetries: 2 });
    for (const repository of ["hang/head", "hang/body"]) {
      const started = Date.now();
      const error = await failure(c.resolve(ref(`${bad.host}/${repository}:1`)));
      expect(error.code, repository).toBe("TIMEOUT");
      expect(error.message).toContain("within 0.3 s");
      // A time-out is not retried: the registry already had its chance, and a hung one would hold the scan for long.
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it("retries a connection reset in the middle of the body, then reports it as a network failure", async () => {
    bad.image("cut/app", "1");
    bad.set("cut/app", { kind: "reset" });
    const c = make({ maxRetries: 2 });
    const error = await failure(c.resolve(ref(`${bad.host}/cut/app:1`)));
    expect(error.code).toBe("NETWORK");
    expect(bad.requestsFor("cut/app").filter((r) => r.method === "GET")).toHaveLength(3);
  });

  it("cuts a 200 MiB streamed manifest at the 4 MiB limit without reading the rest", async () => {
    bad.image("huge/app", "1");
    bad.set("huge/app", { kind: "huge", bytes: 200 * 1024 * 1024 });
    const c = make({ maxRetries: 0 });
    const before = process.memoryUsage();
    const error = await failure(c.resolve(ref(`${bad.host}/huge/app:1`)));
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain("4 MiB");
    // The client closed the connection: the server could only push what fits in the read and the socket buffers.
    await new Promise((r) => setTimeout(r, 100));
    expect(bad.sent.get("huge/app")).toBeLessThan(32 * 1024 * 1024);
    const grown = process.memoryUsage().arrayBuffers - before.arrayBuffers;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  it("never returns the digest a registry claims for a body that hashes to something else", async () => {
    const digest = bad.image("liar/app", "1");
    bad.set("liar/app", { kind: "lie" });
    const error = await failure(make().resolve(ref(`${bad.host}/liar/app:1`)));
    expect(error.code).toBe("DIGEST_MISMATCH");
    // The message names both: what was claimed, and what the bytes are.
    expect(error.message).toContain(digest);
    expect(error.message).toContain(sha256(`not ${digest}`));
  });
});

describe("the app with failing registries", () => {
  let h: Harness;
  let bad: BadRegistry;
  let dockerfile: string;
  const digests: Record<string, string> = {};
  const FAILING = ["down", "gateway", "limited", "slow", "liar", "cut", "huge", "pinned"];
  const OLD = sha256("an old pin");
  let ops: number;

  beforeAll(async () => {
    bad = await BadRegistry.start();
    h = await startHarness({ registry: { insecureRegistries: [bad.host], timeouts: { totalMs: 400 }, maxRetries: 1 } });
    for (const name of ["good", ...FAILING]) digests[name] = bad.image(`${name}/app`, "1");
    dockerfile =
      `# syntax=${bad.host}/good/app:1\r\n` +
      FAILING.map((name) => `FROM ${bad.host}/${name}/app:1${name === "pinned" ? `@${OLD}` : ""} AS ${name}\r\n`).join("") +
      `RUN echo "trailing spaces stay"   \r\n`;
    h.gh.addRepo(INSTALLATION, { name: "flaky", files: { Dockerfile: dockerfile } });
    h.gh.setPermission(OWNER, "flaky", "writer", "write");
    ops = h.gh.openIssue(OWNER, "flaky", { title: "ops", user: "writer" }).number;
  });
  afterAll(async () => {
    await h?.close();
    await bad?.close();
  });

  const failAll = (names: string[]) => {
    for (const name of names) bad.set(`${name}/app`, { kind: "ok" });
    bad.set("down/app", { kind: "status", status: 503 });
    bad.set("gateway/app", { kind: "status", status: 502, body: "<html>Bad Gateway</html>" });
    bad.set("limited/app", { kind: "status", status: 429, headers: { "retry-after": "3600" } });
    bad.set("slow/app", { kind: "stall" });
    bad.set("liar/app", { kind: "lie" });
    bad.set("cut/app", { kind: "reset" });
    bad.set("huge/app", { kind: "huge", bytes: 200 * 1024 * 1024 });
    bad.set("pinned/app", { kind: "status", status: 503 });
  };
  const branchFile = () => h.gh.readFile(OWNER, "flaky", "digest-pin/main", "Dockerfile")?.toString("latin1");
  const openPulls = () => h.gh.pulls(OWNER, "flaky").filter((p) => p.state === "open");
  const rescan = async () => {
    await h.deliver("issue_comment", commented(h.gh, "flaky", ops, "/digest-pin rescan", "writer"));
    await h.idle();
    const reply = h.gh.comments(OWNER, "flaky", ops).at(-1);
    expect(reply?.user).toBe("digest-pin[bot]");
    return reply?.body ?? "";
  };

  it("lists every failure in the pull request and pins only what the registry answered, byte for byte", async () => {
    failAll(FAILING);
    await h.deliver("installation", installationCreated(h.gh, ["flaky"]));
    await h.idle();
    const [pull] = openPulls();
    expect(openPulls()).toHaveLength(1);
    // Only the syntax directive resolved: the rest of the file is exactly as it was.
    expect(branchFile()).toBe(dockerfile.replace(`good/app:1\r\n`, `good/app:1@${digests.good}\r\n`));
    const body = pull?.body ?? "";
    expect(body).toMatch(/Could not be resolved/);
    const reasons: Record<string, RegExp> = {
      down: /answered 503 2 times/,
      gateway: /answered 502 2 times/,
      limited: /rate limiting requests \(it asks to retry after 3600 s\)/,
      slow: /no complete answer .* within 0\.4 s/,
      liar: /the registry says its digest is sha256:\w+, but the content hashes to/,
      cut: /request to .* failed/,
      huge: /larger than 4 MiB/,
      pinned: /answered 503 2 times/,
    };
    for (const [name, reason] of Object.entries(reasons)) {
      const line = body.split("\n").find((l) => l.includes(`${name}/app:1`));
      expect(line, name).toMatch(reason);
    }
    // No failing reference reached the table of changes, the marker, or the branch.
    const marker = readMarker(body);
    expect(marker?.proposed).toEqual([proposalKey(`${bad.host}/good/app`, "1", digests.good ?? "")]);
    for (const name of FAILING) expect(branchFile()).not.toContain(digests[name]);
    expect(branchFile()).toContain(`pinned/app:1@${OLD} AS pinned`);
    expect(bad.sent.get("huge/app")).toBeLessThan(32 * 1024 * 1024);
    expect(await h.metric("digest_pin_references_total", { status: "error" })).toBe(FAILING.length);
  });

  it("an outage of every registry neither closes the pull request nor calls anything current", async () => {
    const pull = openPulls()[0];
    const head = h.gh.getRef(OWNER, "flaky", "digest-pin/main");
    failAll([]);
    bad.set("good/app", { kind: "status", status: 503 });
    const reply = await rescan();
    expect(reply).toMatch(/0 current/);
    expect(reply).toMatch(/9 errors/);
    expect(reply).not.toMatch(/Nothing (left )?to change/);
    expect(openPulls().map((p) => p.number)).toEqual([pull?.number]);
    expect(h.gh.getRef(OWNER, "flaky", "digest-pin/main")).toBe(head);
    expect(h.gh.comments(OWNER, "flaky", pull?.number ?? 0)).toEqual([]);
  });

  it("converges once the registries answer again, and a later partial outage does not strip what the PR proposes", async () => {
    for (const name of ["good", ...FAILING]) bad.set(`${name}/app`, { kind: "ok" });
    const number = openPulls()[0]?.number;
    let reply = await rescan();
    expect(reply).toMatch(/0 errors/);
    expect(reply).toContain(`Updated #${number}`);
    let expected = dockerfile.replace(`good/app:1\r\n`, `good/app:1@${digests.good}\r\n`);
    for (const name of FAILING) {
      expected = expected.replace(
        name === "pinned" ? `pinned/app:1@${OLD} ` : `${name}/app:1 `,
        `${name}/app:1@${digests[name]} `,
      );
    }
    expect(branchFile()).toBe(expected);
    const head = h.gh.getRef(OWNER, "flaky", "digest-pin/main");
    expect(readMarker(openPulls()[0]?.body)?.commit).toBe(head);

    // One registry fails again: the pull request keeps proposing its digest rather than dropping it.
    bad.set("down/app", { kind: "status", status: 503 });
    reply = await rescan();
    expect(reply).toMatch(/1 error/);
    expect(h.gh.getRef(OWNER, "flaky", "digest-pin/main")).toBe(head);
    expect(branchFile()).toBe(expected);
    expect(openPulls().map((p) => p.number)).toEqual([number]);
    expect(h.gh.pulls(OWNER, "flaky")).toHaveLength(1);
  });
});
