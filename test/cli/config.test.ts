// The CLI reads the repository's `.github/digest-pin.yml` as the app does (ignorePaths, ignoreImages, pinUnpinned,
// minimumAge, enabled), with the same parser and messages; `--config PATH` and `--no-config` choose otherwise.
// In process (main, what bin.js runs) against a real Distribution registry.
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRegistry, registryAvailability } from "../../bench/harness/registry.js";
import { parseConfig } from "../../src/github/config.js";
import { checkout, inProcess } from "../helpers/cli.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping CLI config tests: ${availability.reason}`);

const run = (argv: string[]) => inProcess(argv);

interface Report {
  changes: { path: string; line: number; from: string }[];
  skipped: { path: string; line: number; reason: string }[];
  errors: { path: string; code: string }[];
  config: { path: string | null; enabled: boolean };
}

const DAY = 86_400_000;

describe.skipIf(!availability.available)("digest-pin check and pin read the repository config", () => {
  let registry: LocalRegistry;
  let host: string;
  const insecure = () => ["--insecure-registry", host];

  beforeAll(async () => {
    registry = await LocalRegistry.start();
    host = registry.host;
    const old = new Date(Date.now() - 30 * DAY).toISOString();
    await registry.pushImage("library/python", "3.12", { kind: "oci-index", created: old });
    await registry.pushImage("library/alpine", "3.20", { kind: "oci-index", created: old });
    await registry.pushImage("team/fresh", "1", { kind: "oci-index", created: new Date(Date.now() - DAY).toISOString() });
    await registry.pushImage("team/aged", "1", { kind: "oci-index", created: new Date(Date.now() - 9 * DAY).toISOString() });
  });
  afterAll(async () => registry?.stop());

  const repository = (config: string | null) =>
    checkout({
      ...(config === null ? {} : { ".github/digest-pin.yml": config }),
      Dockerfile:
        `FROM ${host}/library/python:3.12 AS app\n` +
        `FROM ${host}/library/alpine:3.20 AS tools\n` +
        `# digest-pin: ignore\nFROM ${host}/library/python:3.12 AS pinned-by-hand\n` +
        `FROM ${host}/team/fresh:1 AS fresh\nFROM ${host}/team/aged:1\n`,
      "dev/Dockerfile": `FROM ${host}/library/python:3.12\n`,
    });
  const CONFIG = `ignorePaths: ["dev/**"]\nignoreImages: ["${"HOST"}/library/alpine"]\nminimumAge: 3d\nlabels: []\n`;

  it("applies ignorePaths, ignoreImages, minimumAge and inline ignores, and says which config it read", async () => {
    const dir = await repository(CONFIG.replace("HOST", host));
    const out = await run(["check", dir, "--json", ...insecure()]);
    expect(out.code, out.stderr).toBe(1);
    const report = JSON.parse(out.stdout) as Report;
    expect(report.changes.map((c) => c.line)).toEqual([1, 6]);
    expect(report.skipped.map((s) => [s.path, s.line, s.reason])).toEqual([
      ["Dockerfile", 2, "ignored"],
      ["Dockerfile", 4, "ignored-inline"],
      ["Dockerfile", 5, "too-new"],
      ["dev/Dockerfile", 1, "ignored"],
    ]);
    expect(report.config).toEqual({ path: join(dir, ".github/digest-pin.yml"), enabled: true });
  });

  it("pinUnpinned: false refreshes only existing pins; --no-config and --config PATH choose another config", async () => {
    const dir = await repository("pinUnpinned: false\n");
    const off = JSON.parse((await run(["check", dir, "--json", ...insecure()])).stdout) as Report;
    expect(off.changes).toEqual([]);
    expect(new Set(off.skipped.map((s) => s.reason))).toEqual(new Set(["not-pinned", "ignored-inline"]));

    const none = JSON.parse((await run(["check", dir, "--json", "--no-config", ...insecure()])).stdout) as Report;
    expect(none.changes.map((c) => `${c.path}:${c.line}`)).toEqual(["Dockerfile:1", "Dockerfile:2", "Dockerfile:5", "Dockerfile:6", "dev/Dockerfile:1"]);
    expect(none.config).toEqual({ path: null, enabled: true });

    const other = join(dir, "ci-config.yml");
    await writeFile(other, 'ignorePaths: ["Dockerfile"]\n');
    const chosen = JSON.parse((await run(["check", dir, "--json", "--config", other, ...insecure()])).stdout) as Report;
    expect(chosen.changes.map((c) => c.path)).toEqual(["dev/Dockerfile"]);
    expect(chosen.config.path).toBe(other);
  });

  it("an invalid config is an error with the app's message, and nothing is scanned or written", async () => {
    const text = "pinUnpinned: maybe\nschedule: daily\n";
    const dir = await repository(text);
    const before = await readFile(join(dir, "Dockerfile"), "utf8");
    const appMessage = (parseConfig(text) as { error: string }).error;
    expect(appMessage).toContain(".github/digest-pin.yml is invalid");
    const out = await run(["pin", dir, ...insecure()]);
    expect(out).toEqual({ code: 2, stdout: "", stderr: `digest-pin: ${appMessage.replace(".github/digest-pin.yml", join(dir, ".github/digest-pin.yml"))}\n` });
    expect(await readFile(join(dir, "Dockerfile"), "utf8")).toBe(before);
    // Named as the user named it with --config.
    const other = join(dir, "mine.yml");
    await writeFile(other, text);
    expect((await run(["check", dir, "--config", other])).stderr).toBe(`digest-pin: ${appMessage.replace(".github/digest-pin.yml", other)}\n`);
    expect((await run(["check", dir, "--config", join(dir, "missing.yml")])).stderr).toBe(`digest-pin: ${join(dir, "missing.yml")} does not exist\n`);
  });

  it("enabled: false leaves the repository alone, as the app does: exit 0, nothing written", async () => {
    const dir = await repository("enabled: false\n");
    const before = await readFile(join(dir, "Dockerfile"), "utf8");
    const out = await run(["pin", dir, ...insecure()]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`${join(dir, ".github/digest-pin.yml")} says enabled: false: nothing to pin (--no-config ignores it).\n`);
    expect(await readFile(join(dir, "Dockerfile"), "utf8")).toBe(before);
    const json = JSON.parse((await run(["check", dir, "--json", ...insecure()])).stdout) as Report;
    expect(json).toMatchObject({ changes: [], errors: [], config: { enabled: false } });
  });

  it("below the root of a git checkout, the root's config applies with repository paths", async () => {
    const dir = await checkout({
      ".git/HEAD": "ref: refs/heads/main\n",
      ".github/digest-pin.yml": 'ignorePaths: ["services/api/dev/**"]\n',
      "services/api/Dockerfile": `FROM ${host}/library/python:3.12\n`,
      "services/api/dev/Dockerfile": `FROM ${host}/library/python:3.12\n`,
    });
    const sub = JSON.parse((await run(["check", join(dir, "services/api"), "--json", ...insecure()])).stdout) as Report;
    expect(sub.changes.map((c) => c.path)).toEqual(["Dockerfile"]);
    expect(sub.skipped).toMatchObject([{ path: "dev/Dockerfile", reason: "ignored" }]);
    // One file below the root: the same config, the same verdict.
    const one = JSON.parse((await run(["check", join(dir, "services/api/dev/Dockerfile"), "--json", ...insecure()])).stdout) as Report;
    expect(one.changes).toEqual([]);
    expect(one.skipped).toMatchObject([{ path: "Dockerfile", reason: "ignored" }]);
    // Outside any git checkout only the directory itself is looked at: a config above an unrelated folder never applies.
    const loose = await checkout({ ".github/digest-pin.yml": "enabled: false\n", "a/Dockerfile": `FROM ${host}/library/python:3.12\n` });
    const inner = JSON.parse((await run(["check", join(loose, "a"), "--json", ...insecure()])).stdout) as Report;
    expect(inner.config).toEqual({ path: null, enabled: true });
    expect(inner.changes).toHaveLength(1);
  });

  it("refuses a config that is a symbolic link, as GitHub would not read it as the config", async () => {
    const dir = await checkout({ "elsewhere.yml": "enabled: false\n", Dockerfile: `FROM ${host}/library/python:3.12\n` });
    await mkdir(join(dir, ".github"));
    await symlink(join(dir, "elsewhere.yml"), join(dir, ".github/digest-pin.yml"));
    const out = await run(["check", dir, ...insecure()]);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`digest-pin: ${join(dir, ".github/digest-pin.yml")} is a symbolic link\n`);
    // A linked `.github` folder too (it may lead out of the checkout).
    const linked = await checkout({ "conf/digest-pin.yml": "enabled: false\n", Dockerfile: `FROM ${host}/library/python:3.12\n` });
    await symlink(join(linked, "conf"), join(linked, ".github"));
    expect((await run(["check", linked, ...insecure()])).stderr).toBe(
      `digest-pin: ${join(linked, ".github/digest-pin.yml")} is reached through a symbolic link (${join(linked, ".github")})\n`,
    );
  });
});
