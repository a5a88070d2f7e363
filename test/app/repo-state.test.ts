// What a scan remembers for cheap drift checks: when a repository counts as unchanged, the fingerprint of the
// registry answers, and the store round trip.
import { describe, expect, it } from "vitest";
import { fingerprint, isUnchanged, RepoStateCache, type RepoState } from "../../src/app/repo-state.js";
import { scanDockerfile } from "../../src/dockerfile/scan.js";
import type { Resolutions } from "../../src/engine.js";
import type { KeyValueStore } from "../../src/jobs/types.js";
import { resolveRequests, type ScannedFile } from "../../src/plan.js";
import { RegistryError } from "../../src/registry/types.js";
import { MemoryStore } from "../../src/state/store.js";

const INDEX = "application/vnd.oci.image.index.v1+json";
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
const PUSHED = "2024-05-01T10:00:00Z";

function file(path: string, text: string): ScannedFile {
  return { path, references: scanDockerfile(Buffer.from(text)) };
}

const FILES: ScannedFile[] = [
  file("Dockerfile", `FROM registry.example/base/a:1 AS build\nFROM registry.example/base/b:2@${digestOf(3)}\n`),
  file("api/Dockerfile", "FROM registry.example/base/a:1\nFROM registry.example/base/c:3\n"),
];

function state(overrides: Partial<RepoState> = {}): RepoState {
  return {
    v: 1,
    pushedAt: PUSHED,
    defaultBranch: "main",
    files: FILES,
    fingerprint: "f",
    volatile: false,
    ...overrides,
  };
}

/** Every question of FILES answered: `digest(n)` by question, in the order resolveRequests gives them. */
function answers(files: readonly ScannedFile[], pick: (key: string, i: number) => number | Error): Resolutions {
  const out: Resolutions = new Map();
  resolveRequests(files).forEach((request, i) => {
    const answer = pick(request.key, i);
    out.set(request.key, answer instanceof Error ? answer : { digest: digestOf(answer), mediaType: INDEX });
  });
  return out;
}

describe("isUnchanged", () => {
  it("holds when pushed_at and the default branch are as recorded", () => {
    expect(isUnchanged(state(), PUSHED, "main")).toBe(true);
    expect(isUnchanged(state({ pushedAt: null }), null, "main")).toBe(true);
  });

  it("fails on a push, a new default branch, or a volatile state", () => {
    expect(isUnchanged(state(), "2024-05-01T10:00:01Z", "main")).toBe(false);
    expect(isUnchanged(state(), null, "main")).toBe(false);
    expect(isUnchanged(state({ pushedAt: null }), PUSHED, "main")).toBe(false);
    expect(isUnchanged(state(), PUSHED, "trunk")).toBe(false);
    expect(isUnchanged(state({ volatile: true }), PUSHED, "main")).toBe(false);
  });

  it("accepts a pushed_at moved by our own writes: up to a minute after them, not later", () => {
    const wroteAt = Date.parse("2024-05-02T08:00:00Z");
    const ours = state({ ownWritesUntil: wroteAt });
    expect(isUnchanged(ours, "2024-05-02T08:00:00Z", "main")).toBe(true);
    expect(isUnchanged(ours, "2024-05-01T12:00:00Z", "main")).toBe(true); // before our write: still ours to explain
    expect(isUnchanged(ours, "2024-05-02T08:01:00Z", "main")).toBe(true); // clock slack
    expect(isUnchanged(ours, "2024-05-02T08:01:01Z", "main")).toBe(false); // someone pushed after us
    expect(isUnchanged(ours, null, "main")).toBe(false);
    expect(isUnchanged(ours, "not a date", "main")).toBe(false);
    // Our writes do not excuse the other reasons to read again.
    expect(isUnchanged(ours, "2024-05-02T08:00:00Z", "trunk")).toBe(false);
    expect(isUnchanged({ ...ours, volatile: true }, "2024-05-02T08:00:00Z", "main")).toBe(false);
  });
});

describe("fingerprint", () => {
  const base = answers(FILES, (_key, i) => 10 + i);

  it("is stable: the same answers give the same fingerprint, whatever the order of files and answers", () => {
    const again = fingerprint(FILES, answers(FILES, (_key, i) => 10 + i));
    expect(fingerprint(FILES, base)).toBe(again);
    expect(fingerprint([...FILES].reverse(), base)).toBe(again);
    const reordered: Resolutions = new Map([...base].reverse());
    expect(fingerprint(FILES, reordered)).toBe(again);
    expect(fingerprint(FILES, base)).toMatch(/^[0-9a-f]{64}$/);
    // Answers to questions these files do not ask do not matter.
    const extra: Resolutions = new Map([...base, ["registry.example/other:1||", { digest: digestOf(99), mediaType: INDEX }]]);
    expect(fingerprint(FILES, extra)).toBe(again);
  });

  it("changes when a digest changes", () => {
    const moved = answers(FILES, (_key, i) => (i === 1 ? 99 : 10 + i));
    expect(fingerprint(FILES, moved)).not.toBe(fingerprint(FILES, base));
  });

  it("changes when an error appears or its code changes, but not with its message", () => {
    const failing = (code: "NOT_FOUND" | "RATE_LIMITED", message = "x") =>
      answers(FILES, (_key, i) => (i === 0 ? new RegistryError(code, message) : 10 + i));
    const notFound = fingerprint(FILES, failing("NOT_FOUND"));
    expect(notFound).not.toBe(fingerprint(FILES, base));
    expect(fingerprint(FILES, failing("RATE_LIMITED"))).not.toBe(notFound);
    expect(fingerprint(FILES, failing("NOT_FOUND", "another wording"))).toBe(notFound);
    const plainError = answers(FILES, (_key, i) => (i === 0 ? new Error("boom") : 10 + i));
    expect(fingerprint(FILES, plainError)).not.toBe(notFound);
    const missing: Resolutions = new Map([...base].slice(1));
    expect(fingerprint(FILES, missing)).not.toBe(fingerprint(FILES, base));
  });

  it("changes with the questions: a new reference, or a pin to another digest", () => {
    const more = [...FILES, file("tools/Dockerfile", "FROM registry.example/base/d:4\n")];
    expect(fingerprint(more, answers(more, (_key, i) => 10 + i))).not.toBe(fingerprint(FILES, base));
    const repinned = [FILES[0] as ScannedFile, file("api/Dockerfile", `FROM registry.example/base/a:1\nFROM registry.example/base/c:3@${digestOf(4)}\n`)];
    expect(fingerprint(repinned, answers(repinned, (_key, i) => 10 + i))).not.toBe(fingerprint(FILES, base));
  });
});

describe("RepoStateCache", () => {
  it("round-trips a state, by installation and case-insensitive name, and forgets it", async () => {
    const cache = new RepoStateCache(new MemoryStore());
    const saved = state({ fingerprint: fingerprint(FILES, answers(FILES, (_k, i) => i)), ownWritesUntil: 1234 });
    await cache.set(7, "Acme", "Service", saved);
    const read = await cache.get(7, "acme", "service");
    expect(read).toEqual(JSON.parse(JSON.stringify(saved)));
    // Still a state the fingerprint check can use after the JSON trip.
    expect(fingerprint(read?.files ?? [], answers(FILES, (_k, i) => i))).toBe(saved.fingerprint);
    expect(await cache.get(8, "acme", "service")).toBeNull();
    await cache.forget(7, "ACME", "SERVICE");
    expect(await cache.get(7, "acme", "service")).toBeNull();
  });

  it("reads damaged or foreign entries as no state", async () => {
    const writes = new Map<string, string>();
    const store = new MemoryStore();
    const spy: KeyValueStore = {
      get: (k) => store.get(k),
      set: (k, v, ttl) => {
        writes.set(k, v);
        return store.set(k, v, ttl);
      },
      setIfAbsent: (k, v, ttl) => store.setIfAbsent(k, v, ttl),
      delete: (k) => store.delete(k),
    };
    const cache = new RepoStateCache(spy);
    await cache.set(7, "acme", "service", state());
    const [key] = [...writes.keys()];
    for (const damaged of ["{not json", "null", "42", JSON.stringify({ ...state(), v: 2 }), JSON.stringify({ ...state(), files: "x" })]) {
      await store.set(key as string, damaged);
      expect(await cache.get(7, "acme", "service")).toBeNull();
    }
  });

  it("expires unused state after a month", async () => {
    let now = 0;
    const cache = new RepoStateCache(new MemoryStore({ now: () => now }));
    await cache.set(7, "acme", "service", state());
    now = 29 * 24 * 3600 * 1000;
    expect(await cache.get(7, "acme", "service")).not.toBeNull();
    now = 31 * 24 * 3600 * 1000;
    expect(await cache.get(7, "acme", "service")).toBeNull();
  });
});
