// Reading the command line: each command's own options, and mistakes explained with a hint rather than ignored.
import { describe, expect, it } from "vitest";
import { parseCommandLine, suggest, UsageError } from "../../src/cli/args.js";

function mistake(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

describe("parseCommandLine", () => {
  it("reads a command, its argument and its options in any order", () => {
    expect(parseCommandLine(["--json", "check", "--insecure-registry", "a:5000", "dir", "--insecure-registry=b"])).toMatchObject({
      kind: "run",
      command: "check",
      positionals: ["dir"],
      values: { json: true, "insecure-registry": ["a:5000", "b"], mirror: [] },
    });
    expect(parseCommandLine(["scan", "--", "-odd-dir"])).toMatchObject({ kind: "run", positionals: ["-odd-dir"] });
  });

  it("routes help and version", () => {
    expect(parseCommandLine(["--help"])).toEqual({ kind: "help" });
    expect(parseCommandLine(["check", "-h"])).toEqual({ kind: "help", command: "check" });
    expect(parseCommandLine(["help", "resolve"])).toEqual({ kind: "help", command: "resolve" });
    expect(parseCommandLine([])).toEqual({ kind: "help", bare: true });
    expect(parseCommandLine(["check", "--version"])).toEqual({ kind: "version" });
    expect(parseCommandLine(["-v"])).toEqual({ kind: "version" });
  });

  it("refuses an unknown option, suggesting the one meant", () => {
    const e = mistake(["check", ".", "--jsn"]);
    expect(e.message).toBe("check: unknown option --jsn (did you mean --json?)");
    expect(e.hint()).toBe('Run "digest-pin check --help" for its options and examples.');
    expect(mistake(["pin", "--insecure-registries", "x"]).message).toContain("did you mean --insecure-registry?");
    expect(mistake(["scan", "-x"]).message).toBe("scan: unknown option -x");
  });

  it("refuses an option of another command, naming the commands that take it", () => {
    expect(mistake(["scan", "--mirror", "docker.io=m"]).message).toBe(
      "scan: --mirror does not apply here (it is an option of resolve, pin, check)",
    );
    expect(mistake(["resolve", "x", "--no-config"]).message).toContain("--no-config does not apply here");
  });

  it("refuses a missing value, and a value given to a switch", () => {
    expect(mistake(["check", "--auth-file"]).message).toBe("check: --auth-file needs a value");
    expect(mistake(["check", "--auth-file", "--json"]).message).toMatch(/--auth-file needs a value .*--auth-file=VALUE/);
    expect(mistake(["check", "--json=yes"]).message).toBe("check: --json takes no value");
  });

  it("refuses extra and missing arguments", () => {
    expect(mistake(["check", "a", "b", "c"]).message).toBe('check takes one DIR or FILE; unexpected: "b", "c"');
    expect(mistake(["resolve"]).message).toBe("resolve needs a REFERENCE");
    expect(mistake(["resolve", "a", "b"]).message).toBe('resolve takes one REFERENCE; unexpected: "b"');
    expect(mistake(["check", "--config", "x.yml", "--no-config"]).message).toContain("cannot be used together");
  });

  it("suggests a command for a slip, and nothing for something else", () => {
    expect(mistake(["chekc"]).message).toBe('unknown command "chekc" (did you mean check?)');
    expect(mistake(["frobnicate"]).message).toBe('unknown command "frobnicate"');
    expect(mistake(["frobnicate"]).command).toBeUndefined();
  });
});

describe("suggest", () => {
  it("takes slips, swaps and prefixes, not distant words", () => {
    expect(suggest("--jsno", ["--json", "--wide"])).toBe("--json");
    expect(suggest("--plat", ["--platform", "--json"])).toBe("--platform");
    expect(suggest("--xyz", ["--json", "--wide"])).toBeUndefined();
  });
});
