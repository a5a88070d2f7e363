// The command's own errors, in process (main) against a real registry: a file the scanner fails on, and a file that
// changes between its scan and its write. Both are errors in the output with exit code 2, and neither file is written.
// The scanner is injected (main's `deps`): it fails on a trigger line, or edits the file it was just handed.
import { writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { scanDockerfile, type Scanner } from "../../src/dockerfile/scan.js";
import { checkout, inProcess } from "../helpers/cli.js";
import { flakyScanner as flaky, TRIGGER } from "../helpers/flaky-scanner.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}


const run = (argv: string[], scan: Scanner) => inProcess(argv, {}, { scan });

describe("digest-pin scan", () => {
  it("reports a file the scanner fails on and exits 2", async () => {
    const dir = await checkout({ Dockerfile: "FROM alpine:3.20\n", "broken.Dockerfile": `${TRIGGER}FROM alpine:3.20\n` });
    const json = await run(["scan", dir, "--json"], flaky);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).files).toEqual([
      { path: "Dockerfile", references: [expect.objectContaining({ text: "alpine:3.20" })] },
      { path: "broken.Dockerfile", references: [], error: "could not be scanned: internal error while reading instructions" },
    ]);
    const text = await run(["scan", dir], flaky);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/broken\.Dockerfile:1\s+-\s+-\s+error \(could not be scanned: internal error/);
  });
});

describe.skipIf(!availability.available)("digest-pin pin", () => {
  let registry: LocalRegistry;
  let host: string;
  let digest: string;

  beforeAll(async () => {
    registry = await LocalRegistry.start();
    host = registry.host;
    digest = (await registry.pushImage("library/alpine", "3.20", { kind: "oci-index" })).digest;
  });
  afterAll(async () => registry?.stop());

  it("lists a file the scanner fails on as an error, leaves it alone and exits 2", async () => {
    const broken = `${TRIGGER}FROM ${host}/library/alpine:3.20\n`;
    const dir = await checkout({ Dockerfile: `FROM ${host}/library/alpine:3.20\n`, "broken.Dockerfile": broken });
    const { code, stdout } = await run(["pin", dir, "--json", "--insecure-registry", host], flaky);
    expect(code).toBe(2);
    const out = JSON.parse(stdout);
    expect(out.errors).toEqual([
      { path: "broken.Dockerfile", line: 1, text: "(whole file)", error: "could not be scanned: internal error while reading instructions", code: "SCAN_FAILED" },
    ]);
    expect(out.changes.map((c: { path: string }) => c.path)).toEqual(["Dockerfile"]);
    expect(await readFile(join(dir, "Dockerfile"), "utf8")).toBe(`FROM ${host}/library/alpine:3.20@${digest}\n`);
    expect(await readFile(join(dir, "broken.Dockerfile"), "utf8")).toBe(broken);
    // `check` says the same and writes nothing.
    expect((await run(["check", dir, "--insecure-registry", host], flaky)).code).toBe(2);
  });

  it("refuses to write a file that changed after it was scanned, and exits 2", async () => {
    const dir = await checkout({ Dockerfile: `FROM ${host}/library/alpine:3.20\n` });
    const edited = `# someone's edit\nFROM ${host}/library/alpine:3.20\n`;
    // The scanner sees the bytes as read; the file is edited right after, before pin writes.
    const racing: Scanner = (content) => {
      const refs = scanDockerfile(content);
      writeFileSync(join(dir, "Dockerfile"), edited);
      return refs;
    };
    const { code, stdout } = await run(["pin", dir, "--insecure-registry", host], racing);
    expect(code).toBe(2);
    expect(stdout).toMatch(/Dockerfile:1\s+\S+alpine:3\.20\s+Dockerfile changed since it was scanned/);
    expect(stdout).toMatch(/0 to pin, 0 to refresh, 0 current, 0 skipped, 1 errors\./);
    expect(await readFile(join(dir, "Dockerfile"), "utf8")).toBe(edited);
  });
});
