// .env.example lists every variable the app reads: digest-pin's own code, Probot's run() (read-env-options.js) and
// the few read elsewhere (the private key, Node's CA variable).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const READS = /\benv(?:\.([A-Z][A-Z0-9_]+)|\[["']([A-Z][A-Z0-9_]+)["']\]|, ["']([A-Z][A-Z0-9_]+)["']\))/g;
/**
 * Read, but not settings: where the user's home is, where programs (credential helpers) are found, and settings that
 * are retired (read only to warn that they no longer do anything).
 */
const NOT_SETTINGS = new Set(["HOME", "PATH", "DIGEST_PIN_CACHE_TTL"]);
/** Read outside the files scanned below: by @probot/get-private-key, and by Node.js itself. */
const ALSO_READ = ["PRIVATE_KEY", "PRIVATE_KEY_PATH", "NODE_EXTRA_CA_CERTS"];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

function readsOf(text: string): string[] {
  return [...text.matchAll(READS)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

describe(".env.example", () => {
  it("lists every variable the app reads", async () => {
    const read = new Set<string>(ALSO_READ);
    for (const file of await sources(join(ROOT, "src"))) for (const name of readsOf(await readFile(file, "utf8"))) read.add(name);
    const probot = await readFile(join(ROOT, "node_modules/probot/lib/bin/read-env-options.js"), "utf8");
    const fromProbot = readsOf(probot);
    expect(fromProbot).toContain("HOST");
    for (const name of fromProbot) read.add(name);
    for (const name of NOT_SETTINGS) read.delete(name);

    const example = await readFile(join(ROOT, ".env.example"), "utf8");
    const listed = new Set([...example.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string));
    expect([...read].filter((name) => !listed.has(name)).sort()).toEqual([]);
    // And nothing that nothing reads.
    expect([...listed].filter((name) => !read.has(name)).sort()).toEqual([]);
  });
});
