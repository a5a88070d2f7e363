// A throwaway redis-server on loopback for tests: a free port, no persistence, a temporary directory as cwd.
// Debian's redis-server (`apt-get install -y redis-server`); when it is missing the Redis tests are skipped with a
// warning, or fail when DIGEST_PIN_REQUIRE_REDIS=1 (as in CI).

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const REDIS_BINARY = process.env.DIGEST_PIN_REDIS_BIN ?? "/usr/bin/redis-server";

export function redisAvailability(): { available: true } | { available: false; reason: string } {
  if (existsSync(REDIS_BINARY)) return { available: true };
  return {
    available: false,
    reason: `${REDIS_BINARY} is missing (install the Debian package redis-server, or set DIGEST_PIN_REDIS_BIN)`,
  };
}

/**
 * Whether this test file can use Redis: throws when DIGEST_PIN_REQUIRE_REDIS=1 and it cannot, warns otherwise.
 * Call at module level and gate the suites with `describe.skipIf(!hasRedis)`.
 */
export function checkRedis(what: string): boolean {
  const availability = redisAvailability();
  if (availability.available) return true;
  if (process.env.DIGEST_PIN_REQUIRE_REDIS === "1") {
    throw new Error(`DIGEST_PIN_REQUIRE_REDIS=1 but ${availability.reason}`);
  }
  console.warn(`Skipping ${what}: ${availability.reason}`);
  return false;
}

export interface LocalRedis {
  url: string;
  port: number;
  /** Stop the server and remove its directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket; true when the answer is +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    let answer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
  });
}

async function launch(dir: string): Promise<{ child: ChildProcess; port: number } | { error: string }> {
  const port = await freePort();
  const child = spawn(
    REDIS_BINARY,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (exited) return { error: `redis-server exited: ${stderr.trim() || "no output"}` };
    if (await ping(port)) return { child, port };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill("SIGKILL");
  return { error: `redis-server did not answer PING on port ${port} within 5 s: ${stderr.trim()}` };
}

export async function startRedis(): Promise<LocalRedis> {
  const availability = redisAvailability();
  if (!availability.available) throw new Error(availability.reason);
  const dir = await mkdtemp(path.join(os.tmpdir(), "digest-pin-redis-"));
  let lastError = "";
  // The free port can be taken between our probe and redis-server's bind; try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const launched = await launch(dir);
    if ("error" in launched) {
      lastError = launched.error;
      continue;
    }
    const { child, port } = launched;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(lastError);
}
