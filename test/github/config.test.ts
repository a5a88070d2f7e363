import { describe, expect, it } from "vitest";
import type { FoundReference } from "../../src/dockerfile/types.js";
import {
  CONFIG_PATH,
  DEFAULT_CONFIG,
  ignoreDecisions,
  ignoreMatcher,
  MAX_CONFIG_BYTES,
  parseConfig,
  parseDuration,
  type RepoConfig,
} from "../../src/github/config.js";
import { GLOB_LIMITS } from "../../src/github/glob.js";
import { parseReference } from "../../src/reference.js";

function ok(text: string | null): RepoConfig {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.error}`);
  return result.config;
}

function error(text: string): string {
  const result = parseConfig(text);
  if (result.ok) throw new Error(`expected an invalid config, got ${JSON.stringify(result.config)}`);
  return result.error;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("parseConfig defaults", () => {
  const defaults: RepoConfig = {
    enabled: true,
    pinUnpinned: true,
    ignorePaths: [],
    ignoreImages: [],
    labels: ["dependencies", "docker"],
    reviewers: [],
    assignees: [],
    minimumAgeMs: 0,
    commitMessagePrefix: "",
    platforms: [],
    schedule: null,
    timezone: "UTC",
    automerge: false,
  };

  it("are the documented ones", () => {
    expect(DEFAULT_CONFIG).toEqual(defaults);
  });

  it.each([
    ["a missing file", null],
    ["an empty file", ""],
    ["white space", "  \n\n"],
    ["only comments", "# digest-pin settings\n# nothing yet\n"],
    ["an explicit null document", "~\n"],
    ["an empty mapping", "{}\n"],
  ])("apply to %s", (_name, text) => {
    expect(ok(text)).toEqual(defaults);
  });

  it("are not shared between results", () => {
    const a = ok(null);
    a.labels.push("mutated");
    a.enabled = false;
    expect(ok(null)).toEqual(defaults);
    expect(DEFAULT_CONFIG.enabled).toBe(true);
  });

  it("filled in for missing keys are not shared between results either", () => {
    const a = ok("enabled: true");
    a.labels.push("mutated");
    a.ignorePaths.push("x/**");
    expect(ok("enabled: true")).toEqual(defaults);
  });
});

describe("parseConfig keys", () => {
  it("reads every key of the documented example", () => {
    const text = [
      "enabled: true               # false: leave this repository alone",
      "pinUnpinned: false",
      'ignorePaths: ["dev/**"]',
      'ignoreImages: ["docker.io/library/alpine", "ghcr.io/acme/*"]',
      'labels: ["deps"]',
      "reviewers: [alice, acme/platform]",
      "assignees:",
      "  - bob",
      "minimumAge: 3d",
    ].join("\n");
    expect(ok(text)).toEqual({
      ...DEFAULT_CONFIG,
      enabled: true,
      pinUnpinned: false,
      ignorePaths: ["dev/**"],
      ignoreImages: ["docker.io/library/alpine", "ghcr.io/acme/*"],
      labels: ["deps"],
      reviewers: ["alice", "acme/platform"],
      assignees: ["bob"],
      minimumAgeMs: 3 * DAY,
    });
  });

  it("reads each key alone, leaving the others at their defaults", () => {
    expect(ok("enabled: false")).toEqual({ ...DEFAULT_CONFIG, enabled: false });
    expect(ok("pinUnpinned: false")).toEqual({ ...DEFAULT_CONFIG, pinUnpinned: false });
    expect(ok("ignorePaths: [a/**, b]")).toEqual({ ...DEFAULT_CONFIG, ignorePaths: ["a/**", "b"] });
    expect(ok("ignoreImages: [alpine]")).toEqual({ ...DEFAULT_CONFIG, ignoreImages: ["alpine"] });
    expect(ok("labels: []")).toEqual({ ...DEFAULT_CONFIG, labels: [] });
    expect(ok("reviewers: [alice]")).toEqual({ ...DEFAULT_CONFIG, reviewers: ["alice"] });
    expect(ok("assignees: [bob]")).toEqual({ ...DEFAULT_CONFIG, assignees: ["bob"] });
    expect(ok("minimumAge: 12h")).toEqual({ ...DEFAULT_CONFIG, minimumAgeMs: 12 * HOUR });
  });
});

describe("parseConfig errors", () => {
  it("reports invalid YAML with the file and line", () => {
    const message = error("enabled: true\nlabels: [a, b\nreviewers: []\n");
    expect(message).toMatch(new RegExp(`^${CONFIG_PATH.replace(/\./g, "\\.")} is not valid YAML \\(line \\d+\\): `));
    expect(message).not.toContain("\n");
  });

  it("reports the line of the YAML problem", () => {
    expect(error("enabled: true\npinUnpinned: true\nenabled: false\n")).toContain("(line 3)");
  });

  it.each([
    ["enabled: yes", '"enabled"', "boolean"],
    ["enabled: 'true'", '"enabled"', "boolean"],
    ["pinUnpinned: 1", '"pinUnpinned"', "boolean"],
    ["ignorePaths: dev/**", '"ignorePaths"', "array"],
    ["ignoreImages: [1]", '"ignoreImages.0"', "string"],
    ["labels: docker", '"labels"', "array"],
    ["reviewers: {a: 1}", '"reviewers"', "array"],
    ["assignees: [true]", '"assignees.0"', "string"],
  ])("rejects %s, naming the key", (text, key, expected) => {
    const message = error(text);
    expect(message).toContain(`${CONFIG_PATH} is invalid`);
    expect(message).toContain(key);
    expect(message).toContain(expected);
  });

  it("rejects empty strings in lists", () => {
    expect(error('ignorePaths: ["dev/**", ""]')).toContain('"ignorePaths.1": must not be empty');
  });

  it("rejects a document that is not a mapping", () => {
    expect(error("- enabled\n- true\n")).toContain("is invalid");
    expect(error("just words")).toContain("is invalid");
  });

  it("names unknown keys, including misspellings", () => {
    const message = error("enable: false\npinUnpined: false\n");
    expect(message).toContain('unknown key "enable", "pinUnpined"');
  });

  it("lists every problem", () => {
    const message = error("enabled: 1\nlabels: x\nbogus: 2\n");
    expect(message).toContain('"enabled"');
    expect(message).toContain('"labels"');
    expect(message).toContain('"bogus"');
  });

  it("refuses a YAML alias bomb", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    expect(parseConfig(lines.join("\n")).ok).toBe(false);
  });
});

describe("bounds on the config", () => {
  it("refuses a 10 MiB file before parsing it, in a short message naming the size", () => {
    const keys = Array.from({ length: 524_288 }, (_, i) => `k${String(i).padStart(15, "0")}: 1\n`).join("");
    expect(keys.length).toBe(10 * 1024 * 1024);
    expect(error(keys)).toBe(`${CONFIG_PATH} is 10 MiB, over the 64 KiB limit: it was not read`);
  });

  it("takes the size GitHub reports for a file it did not read, and reads one at the limit", () => {
    expect(MAX_CONFIG_BYTES).toBe(64 * 1024);
    expect(parseConfig("", 10 * 1024 * 1024)).toEqual({
      ok: false,
      error: `${CONFIG_PATH} is 10 MiB, over the 64 KiB limit: it was not read`,
    });
    const padded = `enabled: true\n${"#".repeat(MAX_CONFIG_BYTES - 15)}\n`;
    expect(Buffer.byteLength(padded)).toBe(MAX_CONFIG_BYTES);
    expect(ok(padded).enabled).toBe(true);
    expect(error(`${padded}#`)).toContain("over the 64 KiB limit");
  });

  it("bounds the number and length of globs, naming the key", () => {
    const many = Array.from({ length: GLOB_LIMITS.patterns + 1 }, (_, i) => `p${i}/**`);
    expect(error(`ignorePaths: ${JSON.stringify(many)}`)).toContain(`"ignorePaths": must list at most 50 patterns`);
    expect(error(`ignoreImages: ["${"a".repeat(GLOB_LIMITS.length + 1)}"]`)).toContain(
      `"ignoreImages.0": must be at most 200 characters`,
    );
    expect(ok(`ignorePaths: ${JSON.stringify(many.slice(1))}`).ignorePaths).toHaveLength(GLOB_LIMITS.patterns);
  });

  it("refuses globs the matcher does not read, naming the pattern", () => {
    expect(error('ignorePaths: ["ok/**", "@(a|b)/**"]')).toBe(
      `${CONFIG_PATH} is invalid: "ignorePaths.1": pattern "@(a|b)/**": extended globs such as @(…) are not supported`,
    );
    expect(error('ignoreImages: ["**.example.com/*"]')).toContain(
      '"ignoreImages.0": pattern "**.example.com/*": `**` must be a whole path segment',
    );
  });

  it("accepts the pattern that took picomatch 37 s, and matches it without backtracking", async () => {
    const pattern = "**/*/**/*/**/*/**/*/**/*/**/*/**/*/c";
    const config = ok(`ignorePaths: ["${pattern}"]`);
    const deep = Array.from({ length: 60 }, (_, i) => `d${i}`).join("/");
    const files = [
      { path: `${deep}/Dockerfile`, references: [found("python:3")] },
      { path: `${deep}/c`, references: [found("python:3")] },
    ];
    const ignores = await ignoreDecisions(config, files);
    expect(ignores.ok && files.map((f) => ignores.isIgnored(f.path, found("python:3")))).toEqual([false, true]);
  });

  it("refuses patterns whose matching against the repository's paths would take too long", async () => {
    const pattern = `${"*a".repeat(90)}b`;
    const config = ok(`ignorePaths: ${JSON.stringify(Array.from({ length: 50 }, (_, i) => `${pattern}${i}`))}`);
    const files = Array.from({ length: 20 }, (_, i) => ({ path: `${"a".repeat(4_000)}${i}`, references: [found("python:3")] }));
    expect(await ignoreDecisions(config, files)).toEqual({
      ok: false,
      error:
        `${CONFIG_PATH}: matching ignorePaths and ignoreImages against this repository's paths and image names takes ` +
        "more than 20,000,000 steps; use fewer or simpler patterns",
    });
  });
});

describe("minimumAge", () => {
  it.each([
    ["0", 0],
    ["'0'", 0],
    ["3d", 3 * DAY],
    ["12h", 12 * HOUR],
    ["90m", 90 * 60_000],
    ["1w", 7 * DAY],
    ["45s", 45_000],
    ["3600", HOUR],
    ["'3600'", HOUR],
  ])("%s is %d ms", (value, ms) => {
    expect(ok(`minimumAge: ${value}`).minimumAgeMs).toBe(ms);
  });

  it.each(["garbage", "3x", "-1", "-1d", "1.5d", "d", "3 days", ".inf", "[1]", "true"])("rejects %s", (value) => {
    expect(error(`minimumAge: ${value}`)).toContain('"minimumAge": must be a duration');
  });

  it("rejects an empty value", () => {
    expect(error("minimumAge:")).toContain('"minimumAge"');
  });

  describe("parseDuration", () => {
    it("turns durations into milliseconds", () => {
      expect(parseDuration("0")).toBe(0);
      expect(parseDuration("2w")).toBe(14 * DAY);
      expect(parseDuration(" 5h ")).toBe(5 * HOUR);
      expect(parseDuration(30)).toBe(30_000);
      expect(parseDuration(0)).toBe(0);
    });

    it("gives null for malformed values", () => {
      expect(parseDuration("")).toBeNull();
      expect(parseDuration("1y")).toBeNull();
      expect(parseDuration("h")).toBeNull();
      expect(parseDuration(-1)).toBeNull();
      expect(parseDuration(Number.NaN)).toBeNull();
      expect(parseDuration(Number.POSITIVE_INFINITY)).toBeNull();
    });
  });
});

function found(text: string): FoundReference {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return { kind: "from", line: 1, start: 5, end: 5 + text.length, text, reference: parsed.value, skip: null };
}

const variable: FoundReference = {
  kind: "from",
  line: 1,
  start: 5,
  end: 12,
  text: "${BASE}",
  reference: null,
  skip: "variable",
};

function matcher(config: Partial<RepoConfig>) {
  return ignoreMatcher({ ...DEFAULT_CONFIG, ...config });
}

describe("ignoreMatcher", () => {
  it("ignores nothing by default", () => {
    const ignored = matcher({});
    expect(ignored("Dockerfile", found("alpine"))).toBe(false);
    expect(ignored("dev/Dockerfile", variable)).toBe(false);
  });

  describe("ignorePaths", () => {
    const ignored = matcher({ ignorePaths: ["dev/**", "**/*.test.Dockerfile", "tools/Dockerfile"] });

    it("matches globs against the repository-relative path", () => {
      expect(ignored("dev/Dockerfile", found("python:3"))).toBe(true);
      expect(ignored("dev/a/b/Containerfile", found("python:3"))).toBe(true);
      expect(ignored("svc/api/unit.test.Dockerfile", found("python:3"))).toBe(true);
      expect(ignored("tools/Dockerfile", found("python:3"))).toBe(true);
    });

    it("does not match other paths", () => {
      expect(ignored("Dockerfile", found("python:3"))).toBe(false);
      expect(ignored("develop/Dockerfile", found("python:3"))).toBe(false);
      expect(ignored("src/dev/Dockerfile", found("python:3"))).toBe(false);
      expect(ignored("tools/sub/Dockerfile", found("python:3"))).toBe(false);
    });

    it("matches dot directories", () => {
      expect(matcher({ ignorePaths: ["**/Dockerfile"] })(".devcontainer/Dockerfile", found("python:3"))).toBe(true);
    });

    it("applies to references the scanner could not parse too", () => {
      expect(ignored("dev/Dockerfile", variable)).toBe(true);
    });
  });

  describe("ignoreImages", () => {
    it.each([
      "docker.io/library/alpine",
      "alpine",
      "library/alpine",
      "index.docker.io/library/alpine",
      "docker.io/alpine",
      "index.docker.io/alpine",
    ])("%s matches every spelling of alpine, whatever the tag or digest", (pattern) => {
      const ignored = matcher({ ignoreImages: [pattern] });
      for (const text of [
        "alpine",
        "alpine:3.20",
        "library/alpine:3",
        "docker.io/alpine",
        "docker.io/library/alpine:edge",
        "index.docker.io/library/alpine",
        `alpine:3@sha256:${"a".repeat(64)}`,
      ]) {
        expect(ignored("Dockerfile", found(text)), text).toBe(true);
      }
      for (const text of ["alpinelinux/docker-cli", "ghcr.io/library/alpine", "acme/alpine", "alpine-extra:1"]) {
        expect(ignored("Dockerfile", found(text)), text).toBe(false);
      }
    });

    it("ghcr.io/acme/* matches the organization's images one level deep", () => {
      const ignored = matcher({ ignoreImages: ["ghcr.io/acme/*"] });
      expect(ignored("Dockerfile", found("ghcr.io/acme/app:1"))).toBe(true);
      expect(ignored("Dockerfile", found("ghcr.io/acme/worker"))).toBe(true);
      expect(ignored("Dockerfile", found("ghcr.io/acme/team/app"))).toBe(false);
      expect(ignored("Dockerfile", found("ghcr.io/other/app"))).toBe(false);
      expect(ignored("Dockerfile", found("docker.io/acme/app"))).toBe(false);
      expect(ignored("Dockerfile", found("acme/app"))).toBe(false);
    });

    it("ghcr.io/acme/** matches nested repositories too", () => {
      const ignored = matcher({ ignoreImages: ["ghcr.io/acme/**"] });
      expect(ignored("Dockerfile", found("ghcr.io/acme/team/app"))).toBe(true);
    });

    it("a user repository on Docker Hub is named without library/", () => {
      const ignored = matcher({ ignoreImages: ["acme/app"] });
      expect(ignored("Dockerfile", found("acme/app:1"))).toBe(true);
      expect(ignored("Dockerfile", found("docker.io/acme/app"))).toBe(true);
      expect(ignored("Dockerfile", found("app"))).toBe(false);
    });

    it("registries with ports and localhost are registries", () => {
      const ignored = matcher({ ignoreImages: ["localhost:5000/app", "localhost/tools/*"] });
      expect(ignored("Dockerfile", found("localhost:5000/app:dev"))).toBe(true);
      expect(ignored("Dockerfile", found("localhost/tools/x"))).toBe(true);
      expect(ignored("Dockerfile", found("app"))).toBe(false);
    });

    it("a bare glob means official images, like a bare name in FROM", () => {
      const ignored = matcher({ ignoreImages: ["python*"] });
      expect(ignored("Dockerfile", found("python:3"))).toBe(true);
      expect(ignored("Dockerfile", found("pythonista:1"))).toBe(true);
      expect(ignored("Dockerfile", found("acme/python"))).toBe(false);
    });

    it("any of several patterns matches", () => {
      const ignored = matcher({ ignoreImages: ["node", "ghcr.io/acme/*"] });
      expect(ignored("Dockerfile", found("node:20"))).toBe(true);
      expect(ignored("Dockerfile", found("ghcr.io/acme/x"))).toBe(true);
      expect(ignored("Dockerfile", found("python:3"))).toBe(false);
    });

    it("cannot match a reference that did not parse", () => {
      expect(matcher({ ignoreImages: ["**"] })("Dockerfile", variable)).toBe(false);
    });
  });
});

describe("the keys for reviews and noise", () => {
  it("reads commitMessagePrefix, platforms, schedule, timezone and automerge", () => {
    const config = ok(
      [
        'commitMessagePrefix: "chore(deps):"',
        "platforms: [linux/amd64, linux/arm64/v8]",
        "schedule: [weekends, after 10pm on weekdays]",
        "timezone: Europe/Berlin",
        "automerge: pins",
      ].join("\n"),
    );
    expect(config.commitMessagePrefix).toBe("chore(deps):");
    expect(config.platforms).toEqual(["linux/amd64", "linux/arm64/v8"]);
    expect(config.schedule?.text).toEqual(["weekends", "after 10pm on weekdays"]);
    expect(config.timezone).toBe("Europe/Berlin");
    expect(config.automerge).toBe("pins");
    expect(ok("automerge: false").automerge).toBe(false);
    expect(ok("schedule: '* 2-5 * * 1-5'").schedule?.windows).toHaveLength(1);
  });

  it.each([
    ['commitMessagePrefix: "a\\nb"', '"commitMessagePrefix": must be one line'],
    [`commitMessagePrefix: ${"x".repeat(51)}`, '"commitMessagePrefix": must be at most 50 characters'],
    ["platforms: [amd64]", '"platforms.0": must be a platform such as linux/amd64'],
    ["platforms: [$TARGETPLATFORM]", '"platforms.0": must be a platform'],
    ["schedule: on blursday", '"schedule": "on blursday" has "blursday", which is not a day'],
    ["schedule: 0 3 * * 1", '"schedule": "0 3 * * 1": the minute field must be *'],
    ["schedule: 5", '"schedule": must be a window or a list of windows'],
    ["timezone: Mars/Olympus", '"timezone": must be a time zone name such as UTC or Europe/Berlin'],
    ["automerge: yes", '"automerge": must be "pins", "updates", "all" or false'],
    ["automerge: true", '"automerge": must be "pins", "updates", "all" or false'],
    ["_extends: ../../etc", '"_extends": must name a repository'],
  ])("rejects %s with a clear message", (text, message) => {
    expect(error(text)).toContain(message);
  });

  it("gives the effective config in the file's own words, every key filled in", () => {
    const result = parseConfig("minimumAge: 3d\nschedule: weekends\n");
    if (!result.ok) throw new Error(result.error);
    // The defaults, as a file says them: minimumAge as written, schedule as written; nothing from `_extends`.
    const { minimumAgeMs: _ms, schedule: _schedule, ...filled } = DEFAULT_CONFIG;
    expect(result.effective).toEqual({ ...filled, minimumAge: "3d", schedule: "weekends" });
  });
});

