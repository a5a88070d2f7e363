// A queue replica in its own process, for test/jobs/redis-queue.test.ts. Run with
// `node --import ./test/helpers/ts-hooks.mjs test/helpers/queue-replica.ts` and a JSON config in argv[2]:
//   mode "work":  process jobs, recording them (see queue-recorder.ts), until told "stop" on stdin.
//   mode "crash": on the first job, record that it started, then SIGKILL this process (a replica dying mid-job).
// Prints "ready" on stdout once its worker is running.

import { Redis } from "ioredis";
import { RedisJobQueue, type RedisQueueOptions } from "../../src/jobs/redis-queue.js";
import { recordingRun, testQueueFunctions, type TestJob } from "./queue-recorder.js";

interface Config {
  mode: "work" | "crash";
  url: string;
  ns: string;
  replica: string;
  durationMs?: number;
  queue: Partial<RedisQueueOptions<TestJob>>;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const redis = new Redis(config.url);
const queue = new RedisJobQueue<TestJob>({
  concurrency: 4,
  ...config.queue,
  url: config.url,
  ...testQueueFunctions,
  run: recordingRun(redis, {
    ns: config.ns,
    replica: config.replica,
    durationMs: config.durationMs,
    onStart:
      config.mode === "crash"
        ? () => {
            process.kill(process.pid, "SIGKILL");
            return new Promise(() => undefined);
          }
        : undefined,
  }),
  onQueueError: (error) => console.error("replica queue error:", error),
});

await redis.ping();
await queue.ready();
process.stdout.write("ready\n");

process.stdin.setEncoding("utf8");
process.stdin.on("data", (text: string) => {
  if (text.includes("stop")) {
    void (async () => {
      await queue.close();
      await redis.quit();
      process.exit(0);
    })();
  }
});
