// The embedded queue (src/jobs/queue.ts) behind the JobQueue interface that the Redis queue also implements.

import { WorkQueue, type QueueOptions } from "./queue.js";
import type { JobQueue } from "./types.js";

export class MemoryJobQueue<T> implements JobQueue<T> {
  readonly queue: WorkQueue<T>;
  private closed = false;

  constructor(options: QueueOptions<T> | WorkQueue<T>) {
    this.queue = options instanceof WorkQueue ? options : new WorkQueue(options);
  }

  async push(job: T): Promise<void> {
    if (this.closed) throw new Error("the queue is closed");
    this.queue.push(job);
  }

  async size(): Promise<number> {
    return this.queue.size;
  }

  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }

  /** Waiting work is dropped (it lived in this process only); resolves when the running jobs have finished. */
  close(): Promise<void> {
    this.closed = true;
    return this.queue.close();
  }
}
