// Resolver layers: a memo for the length of one drift check (each distinct question asked once for the whole fleet),
// and a cache shared by replicas through a KeyValueStore (Redis). Failures are never remembered.

import { Inflight } from "./cache.js";
import type { KeyValueStore } from "../jobs/types.js";
import { formatReference, type ImageReference } from "../reference.js";
import type { LookupOptions, Resolution, ResolveOptions, Resolver } from "./types.js";

function questionKey(ref: ImageReference, options: ResolveOptions = {}): string {
  const o = options;
  return `${formatReference({ ...ref, digest: null })}|${o.currentDigest ?? ""}|${o.platform ?? ""}|${o.withPlatforms ? 1 : 0}`;
}

/**
 * Remembers every answer until dropped: one drift check's view of the registries. A question in flight is shared by
 * every repository of the check that asks it: each stops waiting at its own deadline, and the question is dropped
 * once none waits (the client bounds each reference's time on its own).
 */
export class MemoResolver implements Resolver {
  private readonly answers = new Map<string, Resolution>();
  private readonly asking = new Inflight<string, Resolution>();

  constructor(private readonly inner: Resolver) {}

  resolve(ref: ImageReference, options: ResolveOptions = {}): Promise<Resolution> {
    const { signal, ...question } = options;
    const current = question.currentDigest;
    if (current && !question.withPlatforms) {
      // A pin that is still the tag's digest asks nothing more: the answer is the tag's own. Without this, a tag
      // pinned in some repositories and not in others (or pinned to several digests) cost one request per variant.
      return this.ask(ref, {}, signal).then((tag) => (tag.digest === current ? tag : this.ask(ref, question, signal)));
    }
    return this.ask(ref, question, signal);
  }

  private async ask(ref: ImageReference, question: ResolveOptions, signal: AbortSignal | undefined): Promise<Resolution> {
    const key = questionKey(ref, question);
    const known = this.answers.get(key);
    if (known) return known;
    // A failure is not remembered: it may be passing, and the next repository asks again.
    return this.asking.run(
      key,
      async (shared) => {
        const answer = await this.inner.resolve(ref, { ...question, signal: shared });
        this.answers.set(key, answer);
        return answer;
      },
      signal,
    );
  }

  createdAt(ref: ImageReference, digest: string, options?: LookupOptions): Promise<Date | null> {
    return this.inner.createdAt ? this.inner.createdAt(ref, digest, options) : Promise.resolve(null);
  }

  get size(): number {
    return this.answers.size;
  }
}

/** A tag → digest cache shared by every replica, in front of a registry client. */
export class SharedCacheResolver implements Resolver {
  constructor(
    private readonly inner: Resolver,
    private readonly store: KeyValueStore,
    private readonly ttlMs: number,
  ) {}

  async resolve(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const key = `digest:${questionKey(ref, options)}`;
    const cached = await this.store.get(key).catch(() => null);
    if (cached) {
      try {
        return JSON.parse(cached) as Resolution;
      } catch {
        // A damaged entry is just a miss.
      }
    }
    const answer = await this.inner.resolve(ref, options);
    await this.store.set(key, JSON.stringify(answer), this.ttlMs).catch(() => undefined);
    return answer;
  }

  createdAt(ref: ImageReference, digest: string, options?: LookupOptions): Promise<Date | null> {
    return this.inner.createdAt ? this.inner.createdAt(ref, digest, options) : Promise.resolve(null);
  }
}
