// References chosen to attack: repository content names loopback, private and metadata addresses in every spelling,
// token realms and redirects that point there, and registries that try to collect credentials meant for another
// site. Through the built CLI (`digest-pin check`) and through the app. A TCP trap listening on every loopback address
// (`::`, dual stack) at the port the references name proves that no connection is even attempted.
import dns from "node:dns";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { commented } from "../app/app-harness.js";
import { BadRegistry, INSTALLATION, OWNER, startHarness, Trap, type Harness } from "../faults/harness.js";
import { checkout, cli } from "../helpers/cli.js";





interface PlanJson {
  changes: { text?: string; from: string; newDigest: string }[];
  skipped: { text: string; reason: string }[];
  errors: { text: string; error: string }[];
}

let trap: Trap;
beforeAll(async () => {
  trap = await Trap.start();
});
afterAll(async () => trap?.close());

/** Registry hosts in every spelling of loopback, private, link-local and metadata addresses, at the trap's port. */
function hostileReferences(port: number): { refused: string[]; invalid: string[] } {
  const p = port;
  return {
    // Valid references whose registry the host policy must refuse before connecting.
    refused: [
      `127.0.0.1:${p}/x/y:1`,
      `2130706433:${p}/x/y:1`,
      `0x7f000001:${p}/x/y:1`,
      `0x7f.1:${p}/x/y:1`,
      `127.1:${p}/x/y:1`,
      `0177.0.0.1:${p}/x/y:1`,
      `0.0.0.0:${p}/x/y:1`,
      `0:${p}/x/y:1`,
      `localhost:${p}/x/y:1`,
      `LocalHost:${p}/x/y:1`,
      `[::1]:${p}/x/y:1`,
      `[::]:${p}/x/y:1`,
      `[::ffff:7f00:1]:${p}/x/y:1`,
      `[0:0:0:0:0:ffff:7f00:1]:${p}/x/y:1`,
      `[64:ff9b::7f00:1]:${p}/x/y:1`,
      `169.254.169.254/latest/meta-data:1`,
      `169.254.169.254:${p}/x/y:1`,
      `[fd00:ec2::254]/x/y:1`,
      `metadata.google.internal/compute/metadata:1`,
      `10.0.0.1:${p}/x/y:1`,
      `192.168.0.1:${p}/x/y:1`,
      `100.64.0.1:${p}/x/y:1`,
      `registry.localhost:${p}/x/y:1`,
    ],
    // Not even valid references: reported as skipped, never resolved.
    invalid: [
      `[::ffff:127.0.0.1]:${p}/x/y:1`,
      `user@127.0.0.1:${p}/x/y:1`,
      `127.0.0.1.:${p}/x/y:1`,
      `${"a".repeat(250)}.example.com:${p}/x/y:1`,
      `127.0.0.1:${p}/${"x/".repeat(200)}y:1`,
    ],
  };
}

function dockerfileOf(refs: string[]): string {
  return refs.map((r, i) => `FROM ${r} AS s${i}\n`).join("");
}

describe("hostile registry hosts", () => {
  it("digest-pin check refuses every spelling with a clear reason and opens no connection", async () => {
    const { refused, invalid } = hostileReferences(trap.port);
    const dir = await checkout({ Dockerfile: dockerfileOf([...refused, ...invalid]) });
    const started = Date.now();
    const run = await cli(["check", dir, "--json"]);
    expect(run.code, run.stderr).toBe(2);
    const out = JSON.parse(run.stdout) as PlanJson;
    expect(out.changes).toEqual([]);
    expect(out.errors.map((e) => e.text).sort()).toEqual([...refused].sort());
    for (const e of out.errors) {
      expect(e.error, e.text).toMatch(/refused .*(loopback|unspecified|private|link-local|unique-local|internal|CGNAT|reserved)/);
      // The CLI names its own flag (the app names DIGEST_PIN_INSECURE_REGISTRIES, tested below).
      expect(e.error, e.text).toContain("allow it with --insecure-registry HOST[:PORT]");
    }
    expect(out.skipped.map((s) => s.text).sort()).toEqual([...invalid].sort());
    expect(out.skipped.every((s) => s.reason === "invalid")).toBe(true);
    // Refused before any request: no time-outs were waited for.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(trap.peers).toEqual([]);

    // `resolve` says the same for one reference, and a plain-HTTP listing of another port does not open the trap's.
    const one = await cli(["resolve", `2130706433:${trap.port}/x/y:1`, "--insecure-registry", `127.0.0.1:${trap.port + 1}`]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/refused 127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address; allow it with --insecure-registry/);
    expect(trap.peers).toEqual([]);
  });

  describe("through the app", () => {
    let h: Harness;
    let bad: BadRegistry;
    beforeAll(async () => {
      bad = await BadRegistry.start();
      h = await startHarness({ registry: { insecureRegistries: [bad.host], maxRetries: 0 } });
    });
    afterEach(() => vi.restoreAllMocks());
    afterAll(async () => {
      await h?.close();
      await bad?.close();
    });

    const rescan = async (name: string, dockerfile: string) => {
      h.gh.addRepo(INSTALLATION, { name, files: { Dockerfile: dockerfile } });
      h.gh.setPermission(OWNER, name, "writer", "write");
      const issue = h.gh.openIssue(OWNER, name, { title: "ops", user: "writer" }).number;
      await h.deliver("issue_comment", commented(h.gh, name, issue, "/digest-pin rescan", "writer"));
      await h.idle();
      return h.gh.comments(OWNER, name, issue).at(-1)?.body ?? "";
    };

    it("lists every refused host in the reply, writes nothing and opens no connection", async () => {
      const { refused, invalid } = hostileReferences(trap.port);
      const reply = await rescan("hostile", dockerfileOf([...refused, ...invalid]));
      expect(reply).toContain(`${refused.length} errors`);
      expect(reply).toContain(`${invalid.length} skipped (${invalid.length} invalid)`);
      for (const r of refused) {
        const line = reply.split("\n").find((l) => l.includes(`\`${r}\``));
        expect(line, r).toMatch(/refused .*; list it in DIGEST_PIN_INSECURE_REGISTRIES to allow it$/);
      }
      expect(reply).toMatch(/Nothing to change\.$/);
      expect(h.gh.pulls(OWNER, "hostile")).toEqual([]);
      expect(h.gh.branches(OWNER, "hostile")).toEqual(["main"]);
      expect(trap.peers).toEqual([]);
    });

    it("refuses a public-looking name whose DNS answer is loopback, or mixes loopback in, at connect time", async () => {
      const real = dns.lookup;
      const answers: Record<string, dns.LookupAddress[]> = {
        "rebind.example.com": [{ address: "127.0.0.1", family: 4 }],
        "mixed.example.com": [
          { address: "93.184.215.14", family: 4 },
          { address: "::1", family: 6 },
        ],
      };
      const asked: string[] = [];
      vi.spyOn(dns, "lookup").mockImplementation(((hostname: string, options: unknown, callback: unknown) => {
        const cb = (typeof options === "function" ? options : callback) as (...args: unknown[]) => void;
        const answer = answers[hostname];
        if (!answer) return (real as (...a: unknown[]) => void)(hostname, options, callback);
        asked.push(hostname);
        if ((options as dns.LookupOptions | undefined)?.all) cb(null, answer);
        else cb(null, answer[0]?.address, answer[0]?.family);
      }) as typeof dns.lookup);
      const reply = await rescan(
        "rebind",
        `FROM rebind.example.com:${trap.port}/x/y:1\nFROM mixed.example.com:${trap.port}/x/y:1\n`,
      );
      expect(asked.sort()).toEqual(["mixed.example.com", "rebind.example.com"]);
      expect(reply).toMatch(/rebind\.example\.com:\d+\/x\/y:1`: refused rebind\.example\.com: it resolves to 127\.0\.0\.1, a loopback address/);
      expect(reply).toMatch(/mixed\.example\.com:\d+\/x\/y:1`: refused mixed\.example\.com: it resolves to ::1, a loopback address/);
      expect(h.gh.pulls(OWNER, "rebind")).toEqual([]);
      expect(trap.peers).toEqual([]);
    });

    it("never contacts a token realm or a redirect target at such an address", async () => {
      const p = trap.port;
      const realms = [
        `http://127.0.0.1:${p}/token`,
        `https://2130706433:${p}/token`,
        `http://[::1]:${p}/token`,
        `https://[::ffff:7f00:1]:${p}/token`,
        `http://localhost:${p}/token`,
        `http://169.254.169.254/latest/meta-data/iam`,
        `https://user:pw@${bad.host}/token`,
        `file:///etc/passwd`,
      ];
      const redirects = [
        `http://127.0.0.1:${p}/v2/x/manifests/1`,
        `https://0x7f000001:${p}/x`,
        `https://127.1:${p}/x`,
        `http://[::]:${p}/x`,
        `https://[64:ff9b::7f00:1]:${p}/x`,
        `http://metadata.google.internal/computeMetadata/v1/`,
        `//127.0.0.1:${p}/protocol-relative`,
      ];
      const lines: string[] = [];
      realms.forEach((realm, i) => {
        bad.image(`realm${i}/app`, "1");
        bad.set(`realm${i}/app`, { kind: "challenge", realm });
        lines.push(`FROM ${bad.host}/realm${i}/app:1`);
      });
      redirects.forEach((location, i) => {
        bad.image(`redirect${i}/app`, "1");
        bad.set(`redirect${i}/app`, { kind: "redirect", location });
        lines.push(`FROM ${bad.host}/redirect${i}/app:1`);
      });
      const reply = await rescan("lures", lines.join("\n") + "\n");
      expect(reply).toContain(`${realms.length + redirects.length} errors`);
      realms.forEach((realm, i) => {
        const line = reply.split("\n").find((l) => l.includes(`/realm${i}/app:1\``));
        expect(line, realm).toMatch(/token realm of 127\.0\.0\.1:\d+ refused: refused|names an invalid token realm/);
      });
      redirects.forEach((location, i) => {
        const line = reply.split("\n").find((l) => l.includes(`/redirect${i}/app:1\``));
        expect(line, location).toMatch(/refused/);
      });
      expect(h.gh.pulls(OWNER, "lures")).toEqual([]);
      expect(trap.peers).toEqual([]);
    });
  });
});

describe("credentials", () => {
  /** An HTTP server that records requests and answers with `reply`. */
  async function recorder(reply: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const seen: http.IncomingHttpHeaders[] = [];
    const urls: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      urls.push(req.url ?? "");
      reply(req, res);
    });
    await new Promise<void>((r) => server.listen(0, "::", r));
    return { seen, urls, port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(r)) };
  }

  it("go only to their registry: never to a token realm or redirect on another site, even one the operator listed", async () => {
    const user = "pinner";
    const password = "s3cret-Passw0rd-never-elsewhere";
    const basic = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    const registry = await BadRegistry.start();
    const mirror = await BadRegistry.start(); // serves the same manifests at another origin (a CDN, say)
    const tokens = await recorder((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"token":"t0k"}'));
    try {
      const digests = {
        token: registry.image("token/app", "1"),
        sameSite: registry.image("samesite/app", "1"),
        moved: registry.image("moved/app", "1"),
      };
      mirror.image("moved/app", "1");
      // A realm on another site (localhost is not 127.0.0.1's site), a realm on the registry's own site, and a
      // redirect to another origin after Basic auth.
      registry.set("token/app", {
        kind: "challenge",
        realm: `http://localhost:${tokens.port}/token`,
        authorization: "Bearer t0k",
      });
      registry.set("samesite/app", {
        kind: "challenge",
        realm: `http://127.0.0.1:${tokens.port}/token`,
        authorization: "Bearer t0k",
      });
      registry.set("moved/app", {
        kind: "challenge",
        realm: null,
        authorization: basic,
        then: { kind: "redirect", location: `http://localhost:${mirror.port}/v2/moved/app/manifests/1` },
      });
      const dir = await checkout({
        Dockerfile:
          `FROM ${registry.host}/token/app:1\n` + `FROM ${registry.host}/moved/app:1\n` + `FROM ${registry.host}/samesite/app:1\n`,
        "config.json": JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } }),
      });
      const run = await cli([
        "check",
        dir,
        "--json",
        "--auth-file",
        join(dir, "config.json"),
        "--insecure-registry",
        registry.host,
        "--insecure-registry",
        `localhost:${tokens.port}`,
        "--insecure-registry",
        `127.0.0.1:${tokens.port}`,
        "--insecure-registry",
        `localhost:${mirror.port}`,
      ]);
      expect(run.code, run.stderr).toBe(1);
      const out = JSON.parse(run.stdout) as PlanJson;
      expect(out.errors).toEqual([]);
      expect(out.changes.map((c) => c.newDigest).sort()).toEqual(Object.values(digests).sort());

      // The realm on another site got an anonymous request; the one on the registry's site got the credentials.
      const realmCalls = tokens.urls.map((u, i) => ({ u, auth: tokens.seen[i]?.authorization, host: tokens.seen[i]?.host }));
      const foreign = realmCalls.filter((c) => c.host?.startsWith("localhost:"));
      const own = realmCalls.filter((c) => c.host?.startsWith("127.0.0.1:"));
      expect(foreign.length).toBeGreaterThan(0);
      expect(foreign.every((c) => c.auth === undefined)).toBe(true);
      expect(own.length).toBeGreaterThan(0);
      expect(own.every((c) => c.auth === basic)).toBe(true);
      // The redirect target (another origin) never saw them either; the registry did.
      expect(mirror.requests.length).toBeGreaterThan(0);
      expect(mirror.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
      expect(registry.requestsFor("moved/app").some((r) => r.headers.authorization === basic)).toBe(true);
      // No URL carried them, and the output does not show them.
      for (const u of [...tokens.urls, ...mirror.requests.map((r) => r.path)]) expect(u).not.toContain(password);
      expect(run.stdout + run.stderr).not.toContain(password);
      expect(run.stdout + run.stderr).not.toContain(basic.slice(6));
    } finally {
      await registry.close();
      await mirror.close();
      await tokens.close();
    }
  });
});
