// The resolve stage's bounds on what repository content controls: a bounded number of resolutions in flight however
// many references there are, and caps on references per file and per repository past which references are reported
// (TOO_MANY_REFERENCES), never asked and never dropped. References name loopback addresses that the host policy
// refuses before any connection, so each answer is immediate and real.
import { describe, expect, it } from "vitest";
import { scanDockerfile } from "../src/dockerfile/scan.js";
import { runEngine, resolveFiles, RESOLVE_CONCURRENCY } from "../src/engine.js";
import { DEFAULT_CONFIG } from "../src/github/config.js";
import { REFERENCE_LIMITS, resolveRequests, type ScannedFile } from "../src/plan.js";
import { RegistryClient } from "../src/registry/client.js";
import type { Resolver } from "../src/registry/types.js";

/** `count` FROM lines, each naming its own refused registry (127.a.b.c:1). */
function dockerfile(count: number, offset = 0): Buffer {
  const lines: string[] = [];
  for (let i = offset; i < offset + count; i++) {
    lines.push(`FROM 127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:1/app:${i % 7}`);
  }
  return Buffer.from(lines.join("\n") + "\n");
}

function file(path: string, count: number, offset = 0): ScannedFile {
  return { path, references: scanDockerfile(dockerfile(count, offset)) };
}

/** The real client, with a count of the resolutions it has been asked for and not yet answered. */
function counted(client: RegistryClient): Resolver & { max: number; calls: number } {
  let now = 0;
  const out = {
    max: 0,
    calls: 0,
    resolve: async (...args: Parameters<RegistryClient["resolve"]>) => {
      out.calls++;
      out.max = Math.max(out.max, ++now);
      try {
        return await client.resolve(...args);
      } finally {
        now--;
      }
    },
  };
  return out;
}

describe("resolveFiles", () => {
  it("keeps a bounded number of resolutions in flight, however many references", async () => {
    const client = new RegistryClient();
    try {
      const resolver = counted(client);
      const files = [file("a/Dockerfile", 1_000), file("b/Dockerfile", 1_000, 1_000), file("c/Dockerfile", 1_000, 2_000)];
      const resolutions = await resolveFiles(files, resolver);
      expect(resolver.calls).toBe(3_000);
      expect(resolutions.size).toBe(3_000);
      expect([...resolutions.values()].every((r) => r instanceof Error && /refused/.test(r.message))).toBe(true);
      expect(resolver.max).toBe(RESOLVE_CONCURRENCY);
    } finally {
      await client.close();
    }
  });

  it("asks nothing past the caps, and the plan lists every reference past them as TOO_MANY_REFERENCES", async () => {
    expect(REFERENCE_LIMITS).toEqual({ perFile: 1_000, perRepository: 5_000 });
    const client = new RegistryClient();
    try {
      const resolver = counted(client);
      // 1,010 in one file (10 over the file's cap), then 5 files of 900: 4,000 fit the repository's cap, 500 do not.
      const files = [file("big/Dockerfile", 1_010)];
      for (let f = 0; f < 5; f++) files.push(file(`svc${f}/Dockerfile`, 900, 10_000 + f * 900));
      const result = (await runEngine({ files, config: DEFAULT_CONFIG, resolver })).plan;
      expect(resolver.calls).toBe(5_000);

      const tooMany = result.errors.filter((e) => e.code === "TOO_MANY_REFERENCES");
      expect(result.errors).toHaveLength(5_510);
      expect(tooMany).toHaveLength(510);
      const inBig = tooMany.filter((e) => e.path === "big/Dockerfile");
      expect(inBig.map((e) => e.line)).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010]);
      expect(inBig[0]?.error).toBe(
        "not resolved: big/Dockerfile has more than 1,000 image references, and digest-pin resolves the first 1,000 of a file",
      );
      const inRepo = tooMany.filter((e) => e.path !== "big/Dockerfile");
      expect(inRepo).toHaveLength(500);
      expect(new Set(inRepo.map((e) => e.path))).toEqual(new Set(["svc4/Dockerfile"]));
      expect(inRepo.map((e) => e.line)[0]).toBe(401);
      expect(inRepo[0]?.error).toBe(
        "not resolved: the repository has more than 5,000 image references, and digest-pin resolves the first 5,000",
      );
      expect(result.changes).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("counts only references that ask the registry, and takes caps as options", () => {
    const text = Buffer.from(
      "FROM scratch\nFROM ${BASE}\nFROM alpine@sha256:" + "a".repeat(64) + "\nFROM alpine:3\nFROM alpine:3\nFROM node:20\n",
    );
    const files = [{ path: "Dockerfile", references: scanDockerfile(text) }];
    // Three references ask (alpine:3 twice, node:20): with a cap of 2, node:20 is left out.
    expect(resolveRequests(files, { perFile: 2, perRepository: 10 }).map((r) => r.key)).toEqual([
      "docker.io/library/alpine:3||",
    ]);
    expect(resolveRequests(files, { perFile: 10, perRepository: 3 })).toHaveLength(2);
  });
});
