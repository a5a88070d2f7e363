// pin's write step on real files: what it scanned is what it edits, or it writes nothing to that file. A file changed
// since the scan, a path that became a link out of the checkout or stopped being a regular file: an error, untouched.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanFile } from "../../src/engine.js";
import { readTarget } from "../../src/local/read.js";
import { writePlan } from "../../src/local/write.js";
import { plan, resolveRequests, type Plan } from "../../src/plan.js";
import type { Resolution } from "../../src/registry/types.js";

const DIGEST = `sha256:${"d".repeat(64)}`;

let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "digest-pin-write-"));
  root = join(base, "repo");
  outside = join(base, "outside");
  await mkdir(join(root, "svc"), { recursive: true });
  await mkdir(outside);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Scan `root` and plan every tag to DIGEST, as pin does before it writes. */
async function planned(): Promise<Plan> {
  const files = (await readTarget(root)).files.map((f) => scanFile(f.path, f.content));
  const resolutions = new Map<string, Resolution>(resolveRequests(files).map((r) => [r.key, { digest: DIGEST, mediaType: "application/vnd.oci.image.index.v1+json" }]));
  return plan(files, resolutions, { pinUnpinned: true });
}

/** Every file below `dir`, with its bytes: nothing else may appear (no temporary file left behind). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) out[path] = `-> ${await readlink(path)}`;
    else if (entry.isFile()) out[path] = await readFile(path, "utf8");
  }
  return out;
}

describe("writePlan", () => {
  it("writes each file through a new file renamed over it, keeping its mode", async () => {
    await writeFile(join(root, "Dockerfile"), "FROM alpine:3.20\r\nRUN true\r\n");
    await writeFile(join(root, "svc", "run.sh.Dockerfile"), "FROM busybox:1\n");
    await chmod(join(root, "svc", "run.sh.Dockerfile"), 0o751);
    const before = (await stat(join(root, "Dockerfile"))).ino;
    const result = await writePlan(root, await planned());
    expect(result.errors).toEqual([]);
    expect(result.changes.map((c) => c.path)).toEqual(["Dockerfile", "svc/run.sh.Dockerfile"]);
    expect(await tree(root)).toEqual({
      [join(root, "Dockerfile")]: `FROM alpine:3.20@${DIGEST}\r\nRUN true\r\n`,
      [join(root, "svc", "run.sh.Dockerfile")]: `FROM busybox:1@${DIGEST}\n`,
    });
    expect((await stat(join(root, "svc", "run.sh.Dockerfile"))).mode & 0o7777).toBe(0o751);
    // A new inode: readers of the old file never see it half written.
    expect((await stat(join(root, "Dockerfile"))).ino).not.toBe(before);
  });

  it("refuses a file changed since the scan (FILE_CHANGED) and writes nothing to it", async () => {
    await writeFile(join(root, "Dockerfile"), "FROM alpine:3.20\n");
    await writeFile(join(root, "other.Dockerfile"), "FROM busybox:1\n");
    const stale = await planned();
    // Someone edits the file meanwhile: the planned offsets now point into other bytes.
    await writeFile(join(root, "Dockerfile"), "# base image\nFROM alpine:3.20\n");
    const result = await writePlan(root, stale);
    expect(result.errors).toEqual([
      { path: "Dockerfile", line: 1, text: "alpine:3.20", error: expect.stringMatching(/changed since it was scanned/), code: "FILE_CHANGED" },
    ]);
    expect(result.changes.map((c) => c.path)).toEqual(["other.Dockerfile"]);
    expect(await tree(root)).toEqual({
      [join(root, "Dockerfile")]: "# base image\nFROM alpine:3.20\n",
      [join(root, "other.Dockerfile")]: `FROM busybox:1@${DIGEST}\n`,
    });
  });

  it("refuses a file replaced by a link out of the checkout, and leaves the outside file alone", async () => {
    await writeFile(join(root, "Dockerfile"), "FROM alpine:3.20\n");
    const stale = await planned();
    // Same bytes outside, so only the path check can stop the write.
    await writeFile(join(outside, "target"), "FROM alpine:3.20\n");
    await rm(join(root, "Dockerfile"));
    await symlink(join(outside, "target"), join(root, "Dockerfile"));
    const result = await writePlan(root, stale);
    expect(result.errors).toEqual([expect.objectContaining({ path: "Dockerfile", code: "UNSAFE_PATH" })]);
    expect(result.changes).toEqual([]);
    expect(await readFile(join(outside, "target"), "utf8")).toBe("FROM alpine:3.20\n");
    expect((await lstat(join(root, "Dockerfile"))).isSymbolicLink()).toBe(true);
    expect(await tree(root)).toEqual({ [join(root, "Dockerfile")]: `-> ${join(outside, "target")}` });
  });

  it("refuses a path whose folder became a link out of the checkout", async () => {
    await writeFile(join(root, "svc", "Dockerfile"), "FROM alpine:3.20\n");
    const stale = await planned();
    await writeFile(join(outside, "Dockerfile"), "FROM alpine:3.20\n");
    await rename(join(root, "svc"), join(base, "moved"));
    await symlink(outside, join(root, "svc"));
    const result = await writePlan(root, stale);
    expect(result.errors).toEqual([expect.objectContaining({ path: "svc/Dockerfile", code: "UNSAFE_PATH" })]);
    expect(await readFile(join(outside, "Dockerfile"), "utf8")).toBe("FROM alpine:3.20\n");
    expect(await readdir(outside)).toEqual(["Dockerfile"]);
  });

  it("refuses a path that is no longer a regular file", async () => {
    await writeFile(join(root, "Dockerfile"), "FROM alpine:3.20\n");
    const stale = await planned();
    await rm(join(root, "Dockerfile"));
    await mkdir(join(root, "Dockerfile"));
    const result = await writePlan(root, stale);
    expect(result.errors).toEqual([expect.objectContaining({ path: "Dockerfile", code: "UNSAFE_PATH" })]);
    expect(await readdir(join(root, "Dockerfile"))).toEqual([]);
  });

  it("edits the target of a link that stays inside the checkout, and keeps the link", async () => {
    await mkdir(join(root, "docker"));
    await writeFile(join(root, "docker", "base.txt"), "FROM alpine:3.20\n");
    await symlink("docker/base.txt", join(root, "Dockerfile"));
    const result = await writePlan(root, await planned());
    expect(result.errors).toEqual([]);
    expect(await tree(root)).toEqual({
      [join(root, "Dockerfile")]: "-> docker/base.txt",
      [join(root, "docker", "base.txt")]: `FROM alpine:3.20@${DIGEST}\n`,
    });
  });
});
