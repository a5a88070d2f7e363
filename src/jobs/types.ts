// What a work queue is to the app, whichever backend runs it (in-process, or BullMQ on Redis).

export interface JobQueue<T> {
  /** Add work; coalesced with waiting work on the same key. Resolves once the work is safely queued. */
  push(job: T): Promise<void>;
  /** Jobs waiting (not running). */
  size(): Promise<number>;
  /** Resolves when nothing is waiting or running (in this process, for the embedded queue; in the cluster for Redis). */
  onIdle(): Promise<void>;
  close(): Promise<void>;
}

/** A small shared key-value store with expiry: memory in one process, Redis across replicas. */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** ttlMs 0 or absent: no expiry. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Set only when the key has no (unexpired) value, atomically across replicas; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  delete(key: string): Promise<void>;
}
