// Resolver layers for one run (a command, a push's scan, an installation's scan, a drift check): a memo that asks each
// distinct question once for the run, and for a run of many repositories whose jobs spread over replicas, the same
// memo shared through a KeyValueStore (Redis), keyed by the run. Nothing here outlives its run: a tag moves, and the next run must read it again.
// Failures are never remembered.

import { Inflight } from "./cache.js";
import type { KeyValueStore } from "../jobs/types.js";
import { formatReference, type ImageReference } from "../reference.js";
import { RegistryError } from "./types.js";
import type { ImageInfo, LookupOptions, Resolution, ResolveOptions, Resolver } from "./types.js";

function questionKey(ref: ImageReference, options: ResolveOptions = {}): string {
  const o = options;
  return `${formatReference({ ...ref, digest: null })}|${o.currentDigest ?? ""}|${o.platform ?? ""}|${o.withPlatforms ? 1 : 0}`;
}

/**
 * Remembers every answer until dropped: one run's view of the registries. A question in flight is shared by every
 * repository of the run that asks it: each stops waiting at its own deadline, and the question is dropped once none
 * waits (the client bounds each reference's time on its own).
 *
 * @example const run = new MemoResolver(client); await run.resolve(ref); await run.resolve(ref); // one HEAD
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

  imageInfo(ref: ImageReference, digest: string): Promise<ImageInfo> {
    return passImageInfo(this.inner, ref, digest);
  }

  get size(): number {
    return this.answers.size;
  }
}

/**
 * One run's answers (a drift check, an installation's scan), shared by every replica that runs a job of it: the first
 * to ask a question stores the answer under the run's id, the others read it. Another run has another id and reads
 * the registry afresh. Entries expire after `ttlMs`, long after a run is over.
 *
 * @example new MemoResolver(new SharedRunResolver(client, redisStore, runId, 3_600_000))
 */
export class SharedRunResolver implements Resolver {
  constructor(
    private readonly inner: Resolver,
    private readonly store: KeyValueStore,
    private readonly runId: string,
    private readonly ttlMs: number,
  ) {}

  async resolve(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const key = `digest:run:${this.runId}:${questionKey(ref, options)}`;
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

  imageInfo(ref: ImageReference, digest: string): Promise<ImageInfo> {
    return passImageInfo(this.inner, ref, digest);
  }
}

/** A layer's imageInfo: the inner resolver's (immutable answers, cached by the client itself). */
function passImageInfo(inner: Resolver, ref: ImageReference, digest: string): Promise<ImageInfo> {
  if (!inner.imageInfo) return Promise.reject(new RegistryError("INVALID_RESPONSE", "this resolver cannot describe images"));
  return inner.imageInfo(ref, digest);
}
