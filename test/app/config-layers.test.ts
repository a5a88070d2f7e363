import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config-layers.js";
import { CONFIG_PATH, extendsOf } from "../../src/github/config.js";

/** A reader over `{ "repo:path": text }` that records what was asked. */
function reader(files: Record<string, string>) {
  const asked: string[] = [];
  const read = async (owner: string, repo: string, path: string) => {
    asked.push(`${owner}/${repo}:${path}`);
    return files[`${repo}:${path}`] ?? null;
  };
  return { read, asked };
}

describe("loadConfig", () => {
  it("starts from the organization's .github file, the repository's keys on top", async () => {
    const { read, asked } = reader({ [`.github:${CONFIG_PATH}`]: "labels: [org]\nschedule: weekends\nminimumAge: 1d\n" });
    const loaded = await loadConfig("acme", "api", "labels: [mine]\n", read);
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.config.labels).toEqual(["mine"]);
    expect(loaded.config.schedule?.text).toEqual(["weekends"]);
    expect(loaded.config.minimumAgeMs).toBe(86_400_000);
    expect(loaded.sources).toEqual([`acme/.github: ${CONFIG_PATH}`, CONFIG_PATH]);
    expect(loaded.effective.labels).toEqual(["mine"]);
    expect(asked).toEqual([`acme/.github:${CONFIG_PATH}`]);
  });

  it("uses the defaults when neither file exists, and the .github repository reads only its own file", async () => {
    const { read, asked } = reader({});
    const loaded = await loadConfig("acme", "api", null, read);
    expect(loaded.ok && loaded.sources).toEqual([]);
    const own = reader({});
    await loadConfig("acme", ".github", "labels: []\n", own.read);
    expect(own.asked).toEqual([]);
    expect(asked).toHaveLength(1);
  });

  it("follows _extends instead, in a chain, to another repository of the same organization", async () => {
    const { read, asked } = reader({
      "settings:.github/digest-pin.yml": "_extends: base:configs/pin.yaml\nlabels: [settings]\n",
      "base:configs/pin.yaml": "labels: [base]\ncommitMessagePrefix: 'chore:'\n",
    });
    const loaded = await loadConfig("acme", "api", "_extends: acme/settings\nreviewers: [alice]\n", read);
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.config.labels).toEqual(["settings"]);
    expect(loaded.config.commitMessagePrefix).toBe("chore:");
    expect(loaded.config.reviewers).toEqual(["alice"]);
    expect(asked).toEqual(["acme/settings:.github/digest-pin.yml", "acme/base:configs/pin.yaml"]);
    expect(loaded.effective).not.toHaveProperty("_extends");
  });

  it("refuses another organization's base, a circle, and a base with errors, naming the file", async () => {
    expect(await loadConfig("acme", "api", "_extends: evil/settings\n", reader({}).read)).toEqual({
      ok: false,
      error: `${CONFIG_PATH}: "_extends" must name a repository of acme, not of evil`,
    });
    const circle = reader({ "a:.github/digest-pin.yml": "_extends: b\n", "b:.github/digest-pin.yml": "_extends: a\n" });
    const looped = await loadConfig("acme", "api", "_extends: a\n", circle.read);
    expect(looped.ok === false && looped.error).toMatch(/goes round in a circle/);
    const broken = await loadConfig("acme", "api", null, reader({ [`.github:${CONFIG_PATH}`]: "labels: 5\n" }).read);
    expect(broken.ok === false && broken.error).toBe(`acme/.github: ${CONFIG_PATH} is invalid: "labels": Expected array, received number`);
  });
});

describe("extendsOf", () => {
  it("reads Probot's forms", () => {
    expect(extendsOf("_extends: settings", "acme")).toEqual({ repo: "settings", path: CONFIG_PATH });
    expect(extendsOf("_extends: acme/settings:x/y.yml", "acme")).toEqual({ repo: "settings", path: "x/y.yml" });
    expect(extendsOf("labels: []", "acme")).toBeNull();
    expect(extendsOf(null, "acme")).toBeNull();
  });
});
