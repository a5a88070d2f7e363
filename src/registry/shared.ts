// Resolver layers for one run (a command, a push's scan, an installation's scan, a drift check): a memo that asks each
// distinct question once for the run, and for a run of many repositories whose jobs spread over replicas, the same
// memo shared through a KeyValueStore (Redis), keyed by the run. Nothing here outlives its run: a tag moves, and the next run must read it again.
// Failures are never remembered.

import type { KeyValueStore } from "../jobs/types.js";
import { formatReference, type ImageReference } from "../reference.js";
import type { Resolution, ResolveOptions, Resolver } from "./types.js";

function questionKey(ref: ImageReference, options: ResolveOptions = {}): string {
  const o = options;
  return `${formatReference({ ...ref, digest: null })}|${o.currentDigest ?? ""}|${o.platform ?? ""}|${o.withPlatforms ? 1 : 0}`;
}

/**
 * Remembers every answer (and the question in flight) until dropped: one run's view of the registries.
 *
 * @example const run = new MemoResolver(client); await run.resolve(ref); await run.resolve(ref); // one HEAD
 */
export class MemoResolver implements Resolver {
  private readonly answers = new Map<string, Promise<Resolution>>();

  constructor(private readonly inner: Resolver) {}

  resolve(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const current = options?.currentDigest;
    if (current && !options?.withPlatforms) {
      // A pin that is still the tag's digest asks nothing more: the answer is the tag's own. Without this, a tag
      // pinned in some repositories and not in others (or pinned to several digests) cost one request per variant.
      return this.ask(ref).then((tag) => (tag.digest === current ? tag : this.ask(ref, options)));
    }
    return this.ask(ref, options);
  }

  private ask(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const key = questionKey(ref, options);
    let answer = this.answers.get(key);
    if (!answer) {
      answer = this.inner.resolve(ref, options);
      this.answers.set(key, answer);
      // A failure may be passing: the next repository asks again.
      answer.catch(() => this.answers.delete(key));
    }
    return answer;
  }

  createdAt(ref: ImageReference, digest: string): Promise<Date | null> {
    return this.inner.createdAt ? this.inner.createdAt(ref, digest) : Promise.resolve(null);
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

  createdAt(ref: ImageReference, digest: string): Promise<Date | null> {
    return this.inner.createdAt ? this.inner.createdAt(ref, digest) : Promise.resolve(null);
  }
}
