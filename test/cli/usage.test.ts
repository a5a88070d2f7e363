// The command as people meet it first: help for each command, the version, mistakes explained with a hint, a single
// Dockerfile as well as a directory, and errors that name the flag the user typed. Mostly in process (main, the
// function bin.js runs), the built binary where it matters that the real process prints and exits so.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkout, cli, inProcess as run } from "../helpers/cli.js";

const NODE_PARSEARGS_TEXT = /To specify a positional argument|ERR_PARSE_ARGS|Unknown option '/;

describe("digest-pin help and version", () => {
  it("gives each command its own help page with options and examples, on stdout, exit 0", async () => {
    for (const command of ["scan", "resolve", "pin", "check"]) {
      for (const argv of [[command, "--help"], [command, "-h"], ["help", command]]) {
        const out = await run(argv);
        expect(out.code, argv.join(" ")).toBe(0);
        expect(out.stdout).toMatch(new RegExp(`^Usage: digest-pin ${command} `));
        expect(out.stdout).toMatch(/\nOptions:\n[\s\S]*\nExamples:\n {2}digest-pin /);
      }
    }
    // The real binary too.
    expect((await cli(["pin", "--help"])).stdout).toBe((await run(["pin", "--help"])).stdout);
    const check = (await run(["check", "--help"])).stdout;
    for (const flag of ["--config PATH", "--no-config", "--wide", "--format text|json|github", "--insecure-registry"]) {
      expect(check).toContain(flag);
    }
    const scan = (await run(["scan", "--help"])).stdout;
    expect(scan).not.toContain("--insecure-registry");
    expect((await run(["resolve", "--help"])).stdout).toContain("--platform OS/ARCH[/VARIANT]");
  });

  it("prints the package's version", async () => {
    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(await cli(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(await run(["check", "-v"])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it("shows the overview without a command (exit 2) and with --help (exit 0)", async () => {
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: digest-pin <command>/);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:\n[\s\S]*check \[DIR\|FILE\]/);
  });
});

describe("mistakes on the command line", () => {
  it("an unknown option is an error with a suggestion and a hint, not Node's parser text", async () => {
    const out = await cli(["check", ".", "--jsn"]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe(
      'digest-pin: check: unknown option --jsn (did you mean --json?)\nRun "digest-pin check --help" for its options and examples.\n',
    );
    expect(out.stderr).not.toMatch(NODE_PARSEARGS_TEXT);
  });

  it("extra arguments are an error, not ignored", async () => {
    const dir = await checkout({ Dockerfile: "FROM alpine:3.20\n" });
    const out = await run(["scan", dir, "other"]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain('scan takes one DIR or FILE; unexpected: "other"');
    expect(out.stderr).toContain('Run "digest-pin scan --help"');
  });

  it("an option of another command, or a misplaced --format, is an error", async () => {
    const dir = await checkout({ Dockerfile: "FROM alpine:3.20\n" });
    expect((await run(["scan", dir, "--no-pin-unpinned"])).stderr).toContain("--no-pin-unpinned does not apply here");
    const github = await run(["scan", dir, "--format", "github"]);
    expect(github.code).toBe(2);
    expect(github.stderr).toContain('scan: --format must be text or json, not "github" (github applies to pin and check)');
  });

  it("a malformed flag value is reported under the flag's name", async () => {
    const mirror = await run(["resolve", "alpine:3.20", "--mirror", "nonsense"]);
    expect(mirror.code).toBe(2);
    expect(mirror.stderr).toBe('digest-pin: --mirror: "nonsense" is not registry=mirror-host[:port]\n');
    const insecure = await run(["check", ".", "--insecure-registry", "a b"]);
    expect(insecure.stderr).toBe('digest-pin: --insecure-registry: "a b" is not host[:port]\n');
    // The same mistake in the environment is reported under the variable's name.
    const env = await run(["resolve", "alpine:3.20"], { DIGEST_PIN_REGISTRY_MIRRORS: "nonsense" });
    expect(env.stderr).toBe('digest-pin: DIGEST_PIN_REGISTRY_MIRRORS: "nonsense" is not registry=mirror-host[:port]\n');
  });

  it("a refused registry says which flag allows it", async () => {
    const out = await run(["resolve", "127.0.0.1:9/team/app:1"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(
      "digest-pin: refused 127.0.0.1:9: 127.0.0.1 is a loopback address; allow it with --insecure-registry HOST[:PORT]\n",
    );
  });
});

describe("a single Dockerfile as the target", () => {
  it("scan lists one file given by path, whatever its name", async () => {
    const dir = await checkout({ "svc/build.docker": "FROM alpine:3.20\n", "svc/Dockerfile": "FROM node:22\n" });
    const out = await run(["scan", join(dir, "svc/build.docker"), "--json"]);
    expect(out.code).toBe(0);
    expect((JSON.parse(out.stdout) as { files: { path: string; references: { text: string }[] }[] }).files).toEqual([
      { path: "build.docker", references: [expect.objectContaining({ text: "alpine:3.20" })] },
    ]);
  });

  it("a target that does not exist is an error naming it", async () => {
    const out = await run(["check", "/no/such/Dockerfile"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe("digest-pin: /no/such/Dockerfile does not exist or cannot be read\n");
  });
});

describe("files passed over", () => {
  it("scan --json lists files skipped for size, as binary, or as unreadable", async () => {
    const dir = await checkout({
      "big/Dockerfile": `FROM alpine:3.20\n${"#".repeat(1024 * 1024)}\n`,
      "bin/Dockerfile": Buffer.concat([Buffer.from("FROM alpine:3.20\n"), Buffer.from([0, 1, 2])]),
      Dockerfile: "FROM alpine:3.20\n",
    });
    const json = await run(["scan", dir, "--json"]);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { files: { path: string }[]; skippedFiles: unknown[] };
    expect(out.files.map((f) => f.path)).toEqual(["Dockerfile"]);
    expect(out.skippedFiles).toEqual([
      { path: "big/Dockerfile", reason: "too-large", detail: "larger than 1 MiB" },
      { path: "bin/Dockerfile", reason: "binary", detail: "a binary file (NUL bytes)" },
    ]);
    expect(json.stderr).toContain("skipping big/Dockerfile: larger than 1 MiB");
    const text = await run(["scan", dir]);
    expect(text.stdout).toMatch(/Not read:\nFILE\s+REASON\nbig\/Dockerfile\s+too-large \(larger than 1 MiB\)/);
    expect(text.stdout).toMatch(/; 2 files not read\.\n$/);
    // /proc/self/mem is a regular file that every read of fails (EIO), even for root.
    const mem = JSON.parse((await run(["scan", "/proc/self/mem", "--json"])).stdout) as { skippedFiles: unknown[] };
    expect(mem.skippedFiles).toEqual([{ path: "mem", reason: "unreadable", detail: "input/output error (EIO)" }]);
  });
});
