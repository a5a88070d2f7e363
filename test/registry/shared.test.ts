// Resolver layers: the drift check's memo (each distinct question once per check) and the cache replicas share.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyValueStore } from "../../src/jobs/types.js";
import type { ImageReference } from "../../src/reference.js";
import { RegistryClient } from "../../src/registry/client.js";
import { MemoResolver, SharedRunResolver } from "../../src/registry/shared.js";
import { RegistryError, type Resolution, type ResolveOptions, type Resolver } from "../../src/registry/types.js";
import { MemoryStore } from "../../src/state/store.js";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";

const INDEX = "application/vnd.oci.image.index.v1+json";
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
const ref = (repository: string, tag: string | null = "1", digest: string | null = null): ImageReference => ({
  registry: "registry.example",
  repository,
  tag,
  digest,
});

interface Call {
  ref: ImageReference;
  options: ResolveOptions | undefined;
}

/** A resolver that records its questions; answers come from `digests` (by repository:tag), or `fail` decides. */
class RecordingResolver implements Resolver {
  readonly calls: Call[] = [];
  readonly digests = new Map<string, string>();
  /** Throw this for the next questions (then cleared when `failOnce`). */
  failure: Error | null = null;
  failOnce = true;
  /** Answers wait for this when set. */
  gate: Promise<void> | null = null;
  createdAtCalls = 0;

  async resolve(r: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    // The signal is plumbing (the memo's own, for the question it shares): the question is the rest.
    const { signal: _signal, ...question } = options ?? {};
    this.calls.push({ ref: r, options: Object.keys(question).length > 0 ? question : undefined });
    if (this.gate) await this.gate;
    if (this.failure) {
      const failure = this.failure;
      if (this.failOnce) this.failure = null;
      throw failure;
    }
    const digest = this.digests.get(`${r.repository}:${r.tag ?? "latest"}`) ?? digestOf(1);
    if (options?.currentDigest && options.currentDigest !== digest) {
      // As the client does for a single-platform pin: the same platform's manifest, here the pin's neighbour.
      return { digest: `${digest.slice(0, -1)}f`, mediaType: "application/vnd.oci.image.manifest.v1+json" };
    }
    return options?.withPlatforms
      ? { digest, mediaType: INDEX, platforms: [{ os: "linux", architecture: "amd64" }] }
      : { digest, mediaType: INDEX };
  }

  async createdAt(): Promise<Date | null> {
    this.createdAtCalls++;
    return new Date(0);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("MemoResolver", () => {
  it("asks each distinct question once", async () => {
    const inner = new RecordingResolver();
    const memo = new MemoResolver(inner);
    const a = await memo.resolve(ref("team/a"));
    expect(await memo.resolve(ref("team/a"))).toEqual(a);
    // The reference's own digest is not part of the question: the tag is.
    expect(await memo.resolve(ref("team/a", "1", digestOf(9)))).toEqual(a);
    expect(inner.calls).toHaveLength(1);
    await memo.resolve(ref("team/a", "2"));
    await memo.resolve(ref("team/b"));
    await memo.resolve(ref("team/a"), { withPlatforms: true });
    await memo.resolve(ref("team/a"), { withPlatforms: true });
    expect(inner.calls.map((c) => `${c.ref.repository}:${c.ref.tag} ${c.options?.withPlatforms ? "platforms" : ""}`)).toEqual([
      "team/a:1 ",
      "team/a:2 ",
      "team/b:1 ",
      "team/a:1 platforms",
    ]);
    expect(memo.size).toBe(4);
  });

  it("answers a pin that is still the tag's digest from the tag's answer, and asks once about a stale one", async () => {
    const inner = new RecordingResolver();
    inner.digests.set("team/a:1", digestOf(5));
    const memo = new MemoResolver(inner);
    const plain = await memo.resolve(ref("team/a"));
    // Pinned to the current digest, with or without a platform: the same answer, no new question.
    expect(await memo.resolve(ref("team/a"), { currentDigest: digestOf(5) })).toEqual(plain);
    expect(await memo.resolve(ref("team/a"), { currentDigest: digestOf(5), platform: "linux/arm64" })).toEqual(plain);
    expect(inner.calls).toHaveLength(1);
    // Pinned to an older digest: the inner resolver decides (it may keep a single-platform pin's kind), once.
    const stale = await memo.resolve(ref("team/a"), { currentDigest: digestOf(4) });
    expect(stale.digest).not.toBe(plain.digest);
    expect(await memo.resolve(ref("team/a"), { currentDigest: digestOf(4) })).toEqual(stale);
    expect(inner.calls).toHaveLength(2);
    expect(inner.calls[1]?.options).toEqual({ currentDigest: digestOf(4) });
    // A pinned question that comes first still asks the plain one once for everybody.
    const fresh = new RecordingResolver();
    fresh.digests.set("team/a:1", digestOf(5));
    const memo2 = new MemoResolver(fresh);
    await memo2.resolve(ref("team/a"), { currentDigest: digestOf(5) });
    await memo2.resolve(ref("team/a"));
    expect(fresh.calls).toHaveLength(1);
    expect(fresh.calls[0]?.options).toBeUndefined();
  });

  it("asks concurrent questions once", async () => {
    const inner = new RecordingResolver();
    const gate = deferred();
    inner.gate = gate.promise;
    const memo = new MemoResolver(inner);
    const answers = Promise.all([
      ...Array.from({ length: 10 }, () => memo.resolve(ref("team/a"))),
      ...Array.from({ length: 5 }, () => memo.resolve(ref("team/a"), { currentDigest: digestOf(1) })),
      memo.resolve(ref("team/b")),
    ]);
    await new Promise((r) => setTimeout(r, 5));
    expect(inner.calls).toHaveLength(2);
    gate.resolve();
    const settled = await answers;
    expect(new Set(settled.slice(0, 15).map((a) => a.digest))).toEqual(new Set([digestOf(1)]));
    expect(inner.calls).toHaveLength(2);
  });

  it("forgets failures: everyone waiting shares one, and the next question asks again", async () => {
    const inner = new RecordingResolver();
    const gate = deferred();
    inner.gate = gate.promise;
    inner.failure = new RegistryError("SERVER_ERROR", "503 from the registry", 503);
    const memo = new MemoResolver(inner);
    const waiting = [memo.resolve(ref("team/a")), memo.resolve(ref("team/a")), memo.resolve(ref("team/a"), { currentDigest: digestOf(1) })];
    gate.resolve();
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: "SERVER_ERROR" });
    expect(inner.calls).toHaveLength(1);
    inner.gate = null;
    expect((await memo.resolve(ref("team/a"))).digest).toBe(digestOf(1));
    expect(inner.calls).toHaveLength(2);
    expect(memo.size).toBe(1);
  });

  it("a repository whose deadline ends stops waiting; the question goes on for the others, and ends when none waits", async () => {
    const seen: AbortSignal[] = [];
    const inner: Resolver = {
      resolve: (_r, options) =>
        new Promise((resolve, reject) => {
          const signal = options?.signal as AbortSignal;
          seen.push(signal);
          signal.addEventListener("abort", () => reject(signal.reason));
          setTimeout(() => resolve({ digest: digestOf(3), mediaType: INDEX }), 30);
        }),
    };
    const memo = new MemoResolver(inner);
    const a = new AbortController();
    const b = new AbortController();
    const first = memo.resolve(ref("team/a"), { signal: a.signal });
    const second = memo.resolve(ref("team/a"), { signal: b.signal });
    a.abort(new Error("repository a is out of time"));
    await expect(first).rejects.toThrow("repository a is out of time");
    expect((await second).digest).toBe(digestOf(3));
    expect(seen).toHaveLength(1);

    const c = new AbortController();
    const alone = memo.resolve(ref("team/c"), { signal: c.signal });
    c.abort(new Error("repository c is out of time"));
    await expect(alone).rejects.toThrow("repository c is out of time");
    expect(seen[1]?.aborted).toBe(true);
  });

  it("passes createdAt through (and answers null without one)", async () => {
    const inner = new RecordingResolver();
    expect(await new MemoResolver(inner).createdAt(ref("team/a"), digestOf(1))).toEqual(new Date(0));
    expect(inner.createdAtCalls).toBe(1);
    const bare: Resolver = { resolve: async () => ({ digest: digestOf(1), mediaType: INDEX }) };
    expect(await new MemoResolver(bare).createdAt(ref("team/a"), digestOf(1))).toBeNull();
  });
});

/** A store that remembers which keys were written, and can be made to fail. */
class SpyStore implements KeyValueStore {
  readonly keys = new Set<string>();
  failing = false;
  constructor(readonly inner: MemoryStore) {}
  async get(key: string) {
    if (this.failing) throw new Error("store down");
    return this.inner.get(key);
  }
  async set(key: string, value: string, ttlMs?: number) {
    if (this.failing) throw new Error("store down");
    this.keys.add(key);
    return this.inner.set(key, value, ttlMs);
  }
  async setIfAbsent(key: string, value: string, ttlMs?: number) {
    if (this.failing) throw new Error("store down");
    this.keys.add(key);
    return this.inner.setIfAbsent(key, value, ttlMs);
  }
  async delete(key: string) {
    return this.inner.delete(key);
  }
}

describe("SharedRunResolver", () => {
  it("serves another replica's job of the same check from the store, until the entry expires", async () => {
    let now = 1_000;
    const store = new MemoryStore({ now: () => now });
    const innerA = new RecordingResolver();
    const innerB = new RecordingResolver();
    innerA.digests.set("team/a:1", digestOf(7));
    innerB.digests.set("team/a:1", digestOf(8)); // would answer differently: shows where an answer came from
    const a = new SharedRunResolver(innerA, store, "check-1", 60_000);
    const b = new SharedRunResolver(innerB, store, "check-1", 60_000);
    const first = await a.resolve(ref("team/a"), { withPlatforms: true });
    expect(await b.resolve(ref("team/a"), { withPlatforms: true })).toEqual(first);
    expect(innerB.calls).toHaveLength(0);
    // Another question (no platforms) is another entry.
    expect((await b.resolve(ref("team/a"))).digest).toBe(digestOf(8));
    expect(innerB.calls).toHaveLength(1);
    now += 60_001;
    expect((await b.resolve(ref("team/a"), { withPlatforms: true })).digest).toBe(digestOf(8));
    expect(innerB.calls).toHaveLength(2);
    expect(innerA.calls).toHaveLength(1);
  });

  it("never answers another check from this one's answers: the next check reads the registry", async () => {
    const store = new MemoryStore();
    const inner = new RecordingResolver();
    inner.digests.set("team/a:1", digestOf(7));
    expect((await new SharedRunResolver(inner, store, "check-1", 60_000).resolve(ref("team/a"))).digest).toBe(digestOf(7));
    inner.digests.set("team/a:1", digestOf(8)); // the tag moved
    expect((await new SharedRunResolver(inner, store, "check-2", 60_000).resolve(ref("team/a"))).digest).toBe(digestOf(8));
    expect(inner.calls).toHaveLength(2);
  });

  it("never caches errors", async () => {
    const store = new SpyStore(new MemoryStore());
    const innerA = new RecordingResolver();
    innerA.failure = new RegistryError("NOT_FOUND", "no such tag", 404);
    const a = new SharedRunResolver(innerA, store, "check-1", 60_000);
    await expect(a.resolve(ref("team/a"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(store.keys.size).toBe(0);
    innerA.failure = new RegistryError("RATE_LIMITED", "429", 429);
    await expect(a.resolve(ref("team/a"))).rejects.toMatchObject({ code: "RATE_LIMITED" });
    const innerB = new RecordingResolver();
    const b = new SharedRunResolver(innerB, store, "check-1", 60_000);
    expect((await b.resolve(ref("team/a"))).digest).toBe(digestOf(1));
    expect(innerB.calls).toHaveLength(1);
    expect(store.keys.size).toBe(1);
  });

  it("treats a damaged entry as a miss and works on without its store", async () => {
    const store = new SpyStore(new MemoryStore());
    const inner = new RecordingResolver();
    const resolver = new SharedRunResolver(inner, store, "check-1", 60_000);
    await resolver.resolve(ref("team/a"));
    const [key] = [...store.keys];
    await store.inner.set(key as string, "{not json");
    expect((await resolver.resolve(ref("team/a"))).digest).toBe(digestOf(1));
    expect(inner.calls).toHaveLength(2);
    expect(await resolver.resolve(ref("team/a"))).toEqual({ digest: digestOf(1), mediaType: INDEX }); // repaired
    expect(inner.calls).toHaveLength(2);
    store.failing = true;
    expect((await resolver.resolve(ref("team/b"))).digest).toBe(digestOf(1));
    expect(inner.calls).toHaveLength(3);
  });
});

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping MemoResolver registry tests: ${availability.reason}`);

describe.skipIf(!availability.available)("MemoResolver over the real client and registry", () => {
  let registry: LocalRegistry;
  let client: RegistryClient;
  const digests = new Map<string, string>();

  beforeAll(async () => {
    registry = await LocalRegistry.start();
    for (const [repository, tag] of [["lib/a", "1"], ["lib/a", "2"], ["lib/b", "1"]] as const) {
      const kind = repository === "lib/b" ? "docker-list" : "oci-index";
      digests.set(`${repository}:${tag}`, (await registry.pushImage(repository, tag, { kind })).digest);
    }
    await registry.requests();
    registry.clearRequests();
    // The client keeps no tags of its own: every question the memo lets through reaches the registry.
    client = new RegistryClient({ insecureRegistries: [registry.host], retryBaseMs: 1, maxRetries: 1 });
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it("costs one HEAD per distinct tag for a fleet's worth of references, pinned or not", async () => {
    const memo = new MemoResolver(client);
    const at = (repository: string, tag: string): ImageReference => ({ registry: registry.host, repository, tag, digest: null });
    // Twenty repositories one after the other (as a queue runs them), each asking about every tag, pinned or not.
    for (let i = 0; i < 20; i++) {
      const questions: Promise<Resolution>[] = [];
      for (const key of digests.keys()) {
        const [repository = "", tag = ""] = key.split(":");
        questions.push(memo.resolve(at(repository, tag), i % 2 === 0 ? {} : { currentDigest: digests.get(key) }));
      }
      const answers = await Promise.all(questions);
      expect(answers.map((a) => a.digest)).toEqual([...digests.values()]);
    }
    const logged = await registry.requests();
    expect(logged.map((e) => `${e.method} ${e.path}`).sort()).toEqual(
      ["HEAD /v2/lib/a/manifests/1", "HEAD /v2/lib/a/manifests/2", "HEAD /v2/lib/b/manifests/1"].sort(),
    );
  });
});
