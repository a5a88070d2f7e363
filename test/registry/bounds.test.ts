// Bounds on the work one scan can cause, over real sockets: requests in flight over all registries together (many
// registries on loopback ports, listed as insecure), one deadline per reference for all its requests (retries,
// Retry-After waits, redirects, token requests), and a caller's deadline that ends its wait without failing others.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Deadline } from "../../src/deadline.js";
import { resolveFiles } from "../../src/engine.js";
import type { ScannedFile } from "../../src/plan.js";
import { parseReference, type ImageReference } from "../../src/reference.js";
import { RegistryClient, type RegistryClientOptions } from "../../src/registry/client.js";
import { MEDIA_TYPES, RegistryError } from "../../src/registry/types.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";

function ref(text: string): ImageReference {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/** Requests being answered right now, over every server that shares it. */
class InFlight {
  now = 0;
  max = 0;
  enter(): void {
    this.now++;
    this.max = Math.max(this.max, this.now);
  }
  leave(): void {
    this.now--;
  }
}

type Answer = (req: http.IncomingMessage, res: http.ServerResponse, port: number) => void;

/** A registry on a loopback port that answers every request after `delayMs` as `answer` says. */
async function server(answer: Answer, delayMs = 0, inFlight?: InFlight): Promise<{ host: string; close(): Promise<void>; seen: string[] }> {
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    inFlight?.enter();
    res.on("close", () => inFlight?.leave());
    setTimeout(() => answer(req, res, port), delayMs);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

/** HEAD answers with a digest made from the path: every tag resolves. */
const tagged: Answer = (req, res) => {
  res.writeHead(200, { "docker-content-digest": digestOf(req.url ?? ""), "content-type": MEDIA_TYPES.ociManifest });
  res.end();
};

let servers: Array<{ close(): Promise<void> }> = [];
let clients: RegistryClient[] = [];
const start = async (...args: Parameters<typeof server>) => {
  const s = await server(...args);
  servers.push(s);
  return s;
};
const client = (options: RegistryClientOptions) => {
  const c = new RegistryClient({ retryBaseMs: 1, ...options });
  clients.push(c);
  return c;
};

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});

describe("requests in flight over all registries", () => {
  it("never exceed maxConcurrency, however many hosts the references name", async () => {
    const inFlight = new InFlight();
    const hosts = await Promise.all(Array.from({ length: 12 }, () => start(tagged, 30, inFlight)));
    const c = client({ insecureRegistries: hosts.map((h) => h.host), maxConcurrency: 4, perHostConcurrency: 8 });
    const refs = hosts.flatMap((h) => Array.from({ length: 5 }, (_, t) => ref(`${h.host}/app:${t}`)));
    const answers = await Promise.all(refs.map((r) => c.resolve(r)));
    expect(answers).toHaveLength(60);
    expect(inFlight.max).toBe(4);
    expect(c.stats().requests.head).toBe(60);
  });

  it("default to 32 for a repository's references, each registry at most 8", async () => {
    const inFlight = new InFlight();
    const hosts = await Promise.all(Array.from({ length: 40 }, () => start(tagged, 30, inFlight)));
    const c = client({ insecureRegistries: hosts.map((h) => h.host) });
    const text = hosts.flatMap((h) => [0, 1].map((t) => `FROM ${h.host}/app:${t}\n`)).join("");
    const files: ScannedFile[] = [{ path: "Dockerfile", references: scanDockerfile(Buffer.from(text)) }];
    const resolutions = await resolveFiles(files, c);
    expect([...resolutions.values()].filter((r) => r instanceof Error)).toEqual([]);
    expect(resolutions.size).toBe(80);
    expect(inFlight.max).toBe(32);
  });
});

describe("one deadline per reference", () => {
  it("ends 503s with Retry-After behind a redirect at the reference's deadline, as TIMEOUT naming both", async () => {
    const registry = await start((req, res, port) => {
      if (req.url?.startsWith("/v2/moved/")) {
        res.writeHead(307, { location: `http://127.0.0.1:${port}/v2/busy/app/manifests/1` }).end();
      } else {
        res.writeHead(503, { "retry-after": "1", "content-type": "application/json" });
        res.end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      }
    });
    const c = client({
      insecureRegistries: [registry.host],
      maxRetries: 10,
      maxRetryDelayMs: 30_000,
      timeouts: { referenceMs: 400 },
    });
    await expect(c.resolve(ref(`${registry.host}/moved/app:1`))).rejects.toMatchObject({
      name: "RegistryError",
      code: "TIMEOUT",
      message:
        `${registry.host}/moved/app:1: gave up after 0.4 s, the time allowed for one reference ` +
        "(all its requests, retries and redirects)",
    });
    // The first attempt (a redirect, then the 503), and the one-second wait it asked for cut short: no second try.
    expect(registry.seen).toEqual(["HEAD /v2/moved/app/manifests/1", "HEAD /v2/busy/app/manifests/1"]);
  });

  it("covers the token request: a realm that never answers ends at the reference's deadline", async () => {
    const registry = await start((req, res, port) => {
      if (req.url?.startsWith("/token")) return; // never answers
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="test"` });
      res.end();
    });
    const c = client({ insecureRegistries: [registry.host], timeouts: { referenceMs: 300, totalMs: 5_000 } });
    await expect(c.resolve(ref(`${registry.host}/locked/app:1`))).rejects.toMatchObject({
      code: "TIMEOUT",
      message: expect.stringContaining(`${registry.host}/locked/app:1: gave up after 0.3 s`),
    });
    expect(registry.seen).toEqual(["HEAD /v2/locked/app/manifests/1", "GET /token?service=test&scope=repository%3Alocked%2Fapp%3Apull"]);
  });

  it("a caller's own deadline ends its wait only: another caller of the same tag still gets the answer", async () => {
    const registry = await start(tagged, 300);
    const c = client({ insecureRegistries: [registry.host] });
    const scan = new Deadline(50, "the registry work of one repository scan");
    try {
      const [early, patient] = await Promise.allSettled([
        c.resolve(ref(`${registry.host}/shared/app:1`), { signal: scan.signal }),
        c.resolve(ref(`${registry.host}/shared/app:1`)),
      ]);
      expect(early.status).toBe("rejected");
      const error = (early as PromiseRejectedResult).reason as RegistryError;
      expect(error.code).toBe("TIMEOUT");
      expect(error.message).toBe(
        `${registry.host}/shared/app:1: gave up after 0.05 s, the time allowed for the registry work of one repository scan`,
      );
      expect(patient).toEqual({ status: "fulfilled", value: expect.objectContaining({ digest: expect.any(String) }) });
      expect(registry.seen).toEqual(["HEAD /v2/shared/app/manifests/1"]);
    } finally {
      scan.dispose();
    }
  });

  it("a scan's deadline fails what is left of the stage at once, each reference named", async () => {
    const stalled = await start(() => undefined); // accepts, never answers
    const c = client({ insecureRegistries: [stalled.host], timeouts: { referenceMs: 20_000, totalMs: 20_000 } });
    const text = Array.from({ length: 50 }, (_, i) => `FROM ${stalled.host}/app:${i}\n`).join("");
    const files: ScannedFile[] = [{ path: "Dockerfile", references: scanDockerfile(Buffer.from(text)) }];
    const scan = new Deadline(300, "the registry work of one repository scan");
    try {
      const resolutions = await resolveFiles(files, c, { signal: scan.signal });
      expect(resolutions.size).toBe(50);
      for (const [key, answer] of resolutions) {
        expect(answer, key).toBeInstanceOf(RegistryError);
        expect((answer as RegistryError).code).toBe("TIMEOUT");
        expect((answer as RegistryError).message).toMatch(
          new RegExp(`^${stalled.host}/app:\\d+: gave up after 0\\.3 s, the time allowed for the registry work of one repository scan$`),
        );
      }
      // At most the per-host limit ever reached the stalled host: the rest never left the queue.
      expect(stalled.seen.length).toBeLessThanOrEqual(8);
    } finally {
      scan.dispose();
    }
  });
});
