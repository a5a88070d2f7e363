// The built command (`dist/src/bin.js`, what `npx digest-pin` runs) on real files and a real registry.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { checkout, cli, inProcess, type Run } from "../helpers/cli.js";
import { BadRegistry } from "../faults/harness.js";

describe("digest-pin scan", () => {
  it("prints the JSON contract for every kind of reference, in file order", async () => {
    const dir = await checkout({
      "Dockerfile":
        "\uFEFF# syntax=docker/dockerfile:1.7\r\n" +
        "ARG BASE=python:3.12-slim\r\n" +
        "FROM --platform=linux/amd64 ${BASE} AS build\r\n" +
        "RUN --mount=type=cache,target=/root/.cache,from=ghcr.io/acme/cache:v1 pip install x\r\n" +
        "FROM scratch\r\n" +
        "COPY --link --from=build /app /app\r\n" +
        "COPY --from=busybox:1.36@sha256:" + "a".repeat(64) + " /bin/sh /sh\r\n" +
        "FROM node:${NODE}\r\n" +
        "FROM Bad/Name\r\n",
      "services/api/Containerfile.prod": "FROM registry.example.com:5000/team/api\n",
      "docs/README.md": "FROM not-a-dockerfile\n",
      "node_modules/x/Dockerfile": "FROM ignored\n",
    });
    const { code, stdout } = await cli(["scan", dir, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      files: [
        {
          path: "Dockerfile",
          references: [
            { kind: "syntax", line: 1, text: "docker/dockerfile:1.7", image: "docker.io/docker/dockerfile", tag: "1.7", digest: null, skip: null },
            { kind: "from", line: 2, text: "python:3.12-slim", image: "docker.io/library/python", tag: "3.12-slim", digest: null, skip: null },
            { kind: "mount-from", line: 4, text: "ghcr.io/acme/cache:v1", image: "ghcr.io/acme/cache", tag: "v1", digest: null, skip: null },
            { kind: "copy-from", line: 7, text: `busybox:1.36@sha256:${"a".repeat(64)}`, image: "docker.io/library/busybox", tag: "1.36", digest: `sha256:${"a".repeat(64)}`, skip: null },
            { kind: "from", line: 8, text: "node:${NODE}", image: null, tag: null, digest: null, skip: "variable" },
            { kind: "from", line: 9, text: "Bad/Name", image: null, tag: null, digest: null, skip: "invalid" },
          ],
        },
        {
          path: "services/api/Containerfile.prod",
          references: [
            { kind: "from", line: 1, text: "registry.example.com:5000/team/api", image: "registry.example.com:5000/team/api", tag: null, digest: null, skip: null },
          ],
        },
      ],
      skippedFiles: [],
    });
  });

  it("prints a readable table by default", async () => {
    const dir = await checkout({ "app.Dockerfile": "FROM alpine:3.20\n" });
    const { code, stdout } = await cli(["scan", dir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/app\.Dockerfile:1\s+from\s+alpine:3\.20\s+unpinned/);
  });

  it("lists every image of digest-pin's own Dockerfile as pinned, tag kept", async () => {
    const root = new URL("../..", import.meta.url).pathname;
    const { code, stdout } = await cli(["scan", root, "--json"]);
    expect(code).toBe(0);
    const own = (JSON.parse(stdout) as { files: { path: string; references: { tag: string | null; digest: string | null }[] }[] })
      .files.find((f) => f.path === "Dockerfile");
    expect(own?.references.length).toBeGreaterThanOrEqual(2);
    for (const ref of own?.references ?? []) {
      expect(ref.tag).not.toBeNull();
      expect(ref.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  it("exits 2 with a clear message when the directory does not exist", async () => {
    const { code, stderr } = await cli(["scan", "/no/such/dir"]);
    expect(code).toBe(2);
    expect(stderr).toContain("/no/such/dir does not exist");
  });

  it("exits 2 on an unknown command, with usage", async () => {
    const { code, stderr } = await cli(["frobnicate"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "frobnicate"[\s\S]*Usage/);
  });
});

describe("control characters in what the CLI prints", () => {
  const OSC52 = "\u001b]52;c;aGk=\u0007"; // writes "hi" to the clipboard of many terminals
  const SHOWN = "\\x1b]52;c;aGk=\\x07";
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  let bad: BadRegistry;
  let dir: string;
  const name = `x${OSC52}.Dockerfile`;

  beforeAll(async () => {
    bad = await BadRegistry.start();
    // A registry message with a bidi override: control characters are stripped from registry text, bidi ones were not.
    bad.set("evil/app", { kind: "status", status: 405, body: JSON.stringify({ errors: [{ message: "\u202eevil" }] }) });
    dir = await checkout({
      [name]: `FROM ${OSC52}evil:1\nFROM alpine\u009b31m:3\nFROM ${bad.host}/evil/app:1\n`,
      [`big${OSC52}.Dockerfile`]: "#".repeat(1024 * 1024 + 1),
    });
  });
  afterAll(async () => {
    await bad?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const expectNoRaw = (run: Run) => {
    expect(run.stdout).not.toMatch(RAW);
    expect(run.stderr).not.toMatch(RAW);
  };

  it("scan shows ESC sequences in file names and references as escapes, on stdout and stderr", async () => {
    const run = await cli(["scan", dir]);
    expectNoRaw(run);
    expect(run.stdout).toContain(`x${SHOWN}.Dockerfile:1`);
    expect(run.stdout).toContain(`${SHOWN}evil:1`);
    expect(run.stdout).toContain("alpine\\x9b31m:3");
    expect(run.stdout).toMatch(/Not read:\nFILE +REASON\n/);
    expect(run.stdout).toContain(`big${SHOWN}.Dockerfile  too-large (larger than 1 MiB)`);
    const json = await cli(["scan", dir, "--json"]);
    expect(json.stderr).toContain(`skipping big${SHOWN}.Dockerfile: larger than 1 MiB`);
  });

  it("check shows registry messages with bidi controls as escapes", async () => {
    const run = await cli(["check", dir, "--insecure-registry", bad.host]);
    expect(run.code).toBe(2);
    expectNoRaw(run);
    expect(run.stdout).toMatch(/Could not resolve[\s\S]*\\u202eevil/);
    expect(run.stdout).toMatch(/Skipped[\s\S]*\\x1b\]52/);
  });

  it("--json keeps every character exactly, escaped as JSON", async () => {
    const scan = await cli(["scan", dir, "--json"]);
    expectNoRaw(scan);
    const files = (JSON.parse(scan.stdout) as { files: { path: string; references: { text: string }[] }[] }).files;
    expect(files.map((f) => f.path)).toEqual([name]);
    expect(files[0]?.references.map((r) => r.text)).toEqual([`${OSC52}evil:1`, "alpine\u009b31m:3", `${bad.host}/evil/app:1`]);
    const check = await cli(["check", dir, "--json", "--insecure-registry", bad.host]);
    expectNoRaw(check);
    const errors = (JSON.parse(check.stdout) as { errors: { error: string }[] }).errors;
    expect(errors[0]?.error).toContain("\u202eevil");
  });

  it("error messages quoting arguments show them escaped", async () => {
    const invalid = await cli(["resolve", `${OSC52}x`]);
    expect(invalid.code).toBe(2);
    expectNoRaw(invalid);
    expect(invalid.stderr).toContain(`invalid reference "${SHOWN}x"`);
    const unknown = await cli([OSC52]);
    expectNoRaw(unknown);
    expect(unknown.stderr).toContain(`unknown command "${SHOWN}"`);
  });
});

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping CLI registry tests: ${availability.reason}`);

describe.skipIf(!availability.available)("digest-pin resolve, pin and check against a real registry", () => {
  let registry: LocalRegistry;
  let host: string;
  let index: string;
  let single: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    registry = await LocalRegistry.start();
    host = registry.host;
    index = (await registry.pushImage("library/python", "3.12", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64"] })).digest;
    single = (await registry.pushImage("tools/lint", "2", { kind: "docker-manifest" })).digest;
  });
  afterAll(async () => {
    await registry?.stop();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  const insecure = () => ["--insecure-registry", host];

  it("resolve prints the pinned reference, and the JSON contract with --json", async () => {
    const plain = await cli(["resolve", `${host}/library/python:3.12`, ...insecure()]);
    expect(plain).toMatchObject({ code: 0, stdout: `${host}/library/python:3.12@${index}\n` });
    const json = await cli(["resolve", `${host}/library/python:3.12`, "--json", ...insecure()]);
    expect(JSON.parse(json.stdout)).toEqual({
      reference: `${host}/library/python:3.12`,
      image: `${host}/library/python`,
      tag: "3.12",
      digest: index,
      mediaType: "application/vnd.oci.image.index.v1+json",
      pinned: `${host}/library/python:3.12@${index}`,
    });
  });

  it("resolve checks that a digest reference exists, and prints it", async () => {
    const byDigest = await inProcess(["resolve", `${host}/library/python@${index}`, ...insecure()]);
    expect(byDigest).toMatchObject({ code: 0, stdout: `${host}/library/python@${index}\n` });
    const both = await inProcess(["resolve", `${host}/library/python:3.12@${index}`, "--json", ...insecure()]);
    expect(JSON.parse(both.stdout)).toMatchObject({ tag: "3.12", digest: index, pinned: `${host}/library/python:3.12@${index}` });
    const ghost = `sha256:${"0".repeat(64)}`;
    const missing = await inProcess(["resolve", `${host}/library/python@${ghost}`, ...insecure()]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe(`digest-pin: no such manifest: ${host}/library/python@${ghost}\n`);
  });

  it("resolve --platform gives that platform's manifest digest from the index", async () => {
    const python = await registry.pushImage("library/python", "3.13", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64"] });
    const arm = await inProcess(["resolve", `${host}/library/python:3.13`, "--platform", "linux/arm64", ...insecure()]);
    expect(arm).toMatchObject({ code: 0, stdout: `${host}/library/python:3.13@${python.children["linux/arm64"]}\n` });
    // Aliases as container runtimes spell them, and from a digest reference of the index.
    const aarch = await inProcess(["resolve", `${host}/library/python@${python.digest}`, "--platform", "linux/aarch64", "--json", ...insecure()]);
    expect(JSON.parse(aarch.stdout)).toMatchObject({ digest: python.children["linux/arm64"], platform: "linux/arm64", mediaType: "application/vnd.oci.image.manifest.v1+json" });
    const none = await inProcess(["resolve", `${host}/library/python:3.13`, "--platform", "linux/s390x", ...insecure()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("has no manifest for linux/s390x (it lists: linux/amd64, linux/arm64)");
    // A single-platform image answers for its own platform only.
    expect((await inProcess(["resolve", `${host}/tools/lint:2`, "--platform", "linux/amd64", ...insecure()])).stdout).toBe(`${host}/tools/lint:2@${single}\n`);
    const other = await inProcess(["resolve", `${host}/tools/lint:2`, "--platform", "linux/arm64", ...insecure()]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("is a single-platform image for linux/amd64, not linux/arm64");
    const bad = await inProcess(["resolve", `${host}/tools/lint:2`, "--platform", "arm64"]);
    expect(bad.stderr).toContain('--platform "arm64" is not OS/ARCH[/VARIANT]');
  });

  it("resolve explains an unknown tag, a refused host and a bad reference, exiting non-zero", async () => {
    const missing = await cli(["resolve", `${host}/library/python:nope`, ...insecure()]);
    expect(missing.code).toBe(2);
    // The reference once, not `ref: ref: no such tag`.
    expect(missing.stderr).toBe(`digest-pin: no such tag: ${host}/library/python:nope\n`);
    const refused = await cli(["resolve", `${host}/library/python:3.12`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refus|not allowed|private|insecure/i);
    const invalid = await cli(["resolve", "python@sha256:abc"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/invalid reference/);
    const env = await cli(["resolve", `${host}/library/python:3.12`], { DIGEST_PIN_INSECURE_REGISTRIES: host });
    expect(env.stdout).toBe(`${host}/library/python:3.12@${index}\n`);
  });

  it("check gates CI, pin rewrites only the reference bytes, and a second pin changes nothing", async () => {
    const latest = (await registry.pushImage("library/python", "latest", { kind: "oci-index", salt: "latest" })).digest;
    const original =
      `# a comment  \r\nFROM ${host}/library/python:3.12 AS base\r\n` +
      `COPY --from=${host}/tools/lint:2 /lint /lint\r\n` +
      `RUN echo "\xff invalid utf-8 stays"\r\n` +
      `FROM ${host}/library/python\r\n`;
    const dir = await checkout({ Dockerfile: Buffer.from(original, "latin1"), "README.md": "x\n" });
    dirs.push(dir);

    const before = await cli(["check", dir, "--json", ...insecure()]);
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout)).toEqual({
      changes: [
        { path: "Dockerfile", line: 2, kind: "from", image: `${host}/library/python`, tag: "3.12", from: `${host}/library/python:3.12`, to: `${host}/library/python:3.12@${index}`, oldDigest: null, newDigest: index },
        { path: "Dockerfile", line: 3, kind: "copy-from", image: `${host}/tools/lint`, tag: "2", from: `${host}/tools/lint:2`, to: `${host}/tools/lint:2@${single}`, oldDigest: null, newDigest: single },
        { path: "Dockerfile", line: 5, kind: "from", image: `${host}/library/python`, tag: "latest", from: `${host}/library/python`, to: `${host}/library/python:latest@${latest}`, oldDigest: null, newDigest: latest },
      ],
      skipped: [],
      errors: [],
      current: [],
      skippedFiles: [],
      summary: { files: 1, references: 3, pin: 3, refresh: 0, current: 0, skipped: 0, errors: 0, skippedFiles: 0 },
      config: { path: null, enabled: true },
    });
    // check wrote nothing.
    expect((await readFile(join(dir, "Dockerfile"))).toString("latin1")).toBe(original);

    const pinned = await cli(["pin", dir, ...insecure()]);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain("Dockerfile:2");
    expect((await readFile(join(dir, "Dockerfile"))).toString("latin1")).toBe(
      original
        .replace(`python:3.12 AS`, `python:3.12@${index} AS`)
        .replace(`lint:2 /lint`, `lint:2@${single} /lint`)
        .replace(`library/python\r\n`, `library/python:latest@${latest}\r\n`),
    );
    expect(await readFile(join(dir, "README.md"), "utf8")).toBe("x\n");

    const again = await cli(["pin", dir, "--json", ...insecure()]);
    const after = JSON.parse(again.stdout) as { changes: unknown[]; current: { line: number; digest: string }[]; summary: object };
    expect(after.changes).toEqual([]);
    expect(after.current.map((c) => [c.line, c.digest])).toEqual([[2, index], [3, single], [5, latest]]);
    expect(after.summary).toEqual({ files: 1, references: 3, pin: 0, refresh: 0, current: 3, skipped: 0, errors: 0, skippedFiles: 0 });
    expect((await cli(["check", dir, ...insecure()])).code).toBe(0);
  });

  it("refreshes a drifted pin, and --no-pin-unpinned leaves unpinned references alone", async () => {
    await registry.pushImage("library/redis", "7", { kind: "docker-list" });
    const old = (await registry.getManifest("library/redis", "7")).digest;
    const dir = await checkout({
      Dockerfile: `FROM ${host}/library/redis:7@${old}\nFROM ${host}/library/python:3.12\n`,
    });
    dirs.push(dir);
    const moved = (await registry.pushImage("library/redis", "7", { kind: "docker-list", salt: "moved" })).digest;
    const check = await cli(["check", dir, "--json", "--no-pin-unpinned", ...insecure()]);
    expect(check.code).toBe(1);
    const report = JSON.parse(check.stdout) as { changes: { oldDigest: string; newDigest: string }[]; skipped: { reason: string }[] };
    expect(report.changes).toMatchObject([{ oldDigest: old, newDigest: moved }]);
    expect(report.skipped).toMatchObject([{ line: 2, reason: "not-pinned" }]);
    await cli(["pin", dir, "--no-pin-unpinned", ...insecure()]);
    expect(await readFile(join(dir, "Dockerfile"), "utf8")).toBe(
      `FROM ${host}/library/redis:7@${moved}\nFROM ${host}/library/python:3.12\n`,
    );
  });

  it("check exits 2 and lists the reference when the registry cannot resolve it", async () => {
    const dir = await checkout({ Dockerfile: `FROM ${host}/library/ghost:1\n` });
    dirs.push(dir);
    const run = await cli(["check", dir, ...insecure()]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Could not resolve[\s\S]*ghost:1/);
    // The table says the reference once: its column, then the reason.
    expect(run.stdout).toMatch(new RegExp(`Dockerfile:1 +${host}/library/ghost:1 +no such tag: ${host}/library/ghost:1\n`));
  });

  it("tables cut digests to 12 hex digits, --wide shows them whole, and check names the command that fixes it", async () => {
    await registry.pushImage("library/redis", "8", { kind: "docker-list" });
    const old = (await registry.getManifest("library/redis", "8")).digest;
    const dir = await checkout({ Dockerfile: `FROM ${host}/library/redis:8@${old}\nFROM ${host}/library/python:3.12\n` });
    dirs.push(dir);
    const moved = (await registry.pushImage("library/redis", "8", { kind: "docker-list", salt: "moved-8" })).digest;
    const short = (d: string) => `${d.slice(0, "sha256:".length + 12)}…`;
    const run = await inProcess(["check", dir, ...insecure()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${host}/library/redis:8@${short(old)}  ${host}/library/redis:8@${short(moved)}\n`);
    expect(run.stdout).toContain(`${host}/library/python:3.12@${short(index)}\n`);
    expect(run.stdout).not.toContain(moved);
    expect(run.stdout).toMatch(new RegExp(`\nRun "digest-pin pin ${dir} --insecure-registry ${host}" to make these 2 changes\\.\n$`));
    const wide = await inProcess(["check", dir, "--wide", ...insecure()]);
    expect(wide.stdout).toContain(`${host}/library/redis:8@${old}  ${host}/library/redis:8@${moved}\n`);
    // The command it names does what it says.
    expect((await inProcess(["pin", dir, ...insecure()])).code).toBe(0);
    expect((await inProcess(["check", dir, ...insecure()])).code).toBe(0);
  });

  it("JSON gives every error its code, the current references and a summary", async () => {
    const dir = await checkout({
      Dockerfile: `FROM ${host}/library/python:3.12@${index}\nFROM ${host}/library/ghost:1\nFROM ${host}/tools/lint:2\nFROM node:\${V}\n`,
    });
    dirs.push(dir);
    const run = await inProcess(["check", dir, "--json", ...insecure()]);
    expect(run.code).toBe(2);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out.errors).toEqual([
      { path: "Dockerfile", line: 2, text: `${host}/library/ghost:1`, error: `no such tag: ${host}/library/ghost:1`, code: "NOT_FOUND" },
    ]);
    expect(out.current).toEqual([
      { path: "Dockerfile", line: 1, text: `${host}/library/python:3.12@${index}`, image: `${host}/library/python`, tag: "3.12", digest: index },
    ]);
    expect(out.summary).toEqual({ files: 1, references: 4, pin: 1, refresh: 0, current: 1, skipped: 1, errors: 1, skippedFiles: 0 });
    // A refused host's error has its code too, and names the flag that allows it.
    const refused = await inProcess(["check", dir, "--json"]);
    const errors = (JSON.parse(refused.stdout) as { errors: { code: string; error: string }[] }).errors;
    expect(errors.map((e) => e.code)).toEqual(["REFUSED_HOST", "REFUSED_HOST", "REFUSED_HOST"]);
    expect(errors.every((e) => e.error.endsWith("allow it with --insecure-registry HOST[:PORT]"))).toBe(true);
  });

  it("pin and check take a single Dockerfile, leaving the others alone", async () => {
    const dir = await checkout({
      "svc/Dockerfile.prod": `FROM ${host}/tools/lint:2\n`,
      "svc/Dockerfile": `FROM ${host}/tools/lint:2\n`,
    });
    dirs.push(dir);
    const file = join(dir, "svc/Dockerfile.prod");
    const check = await inProcess(["check", file, "--json", ...insecure()]);
    expect(check.code).toBe(1);
    expect((JSON.parse(check.stdout) as { changes: { path: string }[] }).changes.map((c) => c.path)).toEqual(["Dockerfile.prod"]);
    expect((await inProcess(["pin", file, ...insecure()])).code).toBe(0);
    expect(await readFile(file, "utf8")).toBe(`FROM ${host}/tools/lint:2@${single}\n`);
    expect(await readFile(join(dir, "svc/Dockerfile"), "utf8")).toBe(`FROM ${host}/tools/lint:2\n`);
  });
});
