// Less noise, end to end: the real app against the stand-in GitHub and a real Distribution registry, on a clock the
// test sets. A refresh that changes nothing for the repository's platforms opens nothing; a schedule holds refreshes
// (not pins) until its window, in its time zone; auto-merge is requested through GraphQL (and turned off before new
// image bytes join), with one comment where the repository does not allow it; a tag rebuilt every hour still gets a
// proposal with `minimumAge: 3h`; organization-wide defaults from the `.github` repository apply, read once per run.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registryAvailability } from "../../bench/harness/registry.js";
import { commented, INSTALLATION, installationCreated, OWNER, pushed, startApp, type AppHarness } from "./app-harness.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping less-noise tests: ${availability.reason}`);

const BRANCH = "digest-pin/main";
const HOUR = 3_600_000;
/** Wednesday 5 June 2024, 10:00 UTC (12:00 in Berlin). */
const WEDNESDAY = Date.parse("2024-06-05T10:00:00Z");

describe.skipIf(!availability.available)("less noise", () => {
  let h: AppHarness;
  let host: string;
  let clock = WEDNESDAY;

  const open = (repo: string) => h.gh.pulls(OWNER, repo).find((p) => p.state === "open");
  const file = (repo: string, path = "Dockerfile") => h.gh.readFile(OWNER, repo, BRANCH, path)?.toString();
  const install = async (...repos: string[]) => {
    await h.deliver("installation_repositories", {
      ...installationCreated(h.gh, repos),
      action: "added",
      repositories_added: repos.map((name) => ({ full_name: `${OWNER}/${name}` })),
      repositories_removed: [],
    });
    await h.idle();
  };
  const rescan = async (repo: string) => {
    const issue = h.gh.issues(OWNER, repo).find((i) => i.title === "ops")?.number ?? h.gh.openIssue(OWNER, repo, { title: "ops", user: "writer" }).number;
    h.gh.setPermission(OWNER, repo, "writer", "write");
    await h.deliver("issue_comment", commented(h.gh, repo, issue, "/digest-pin rescan", "writer"));
    await h.idle();
    return h.gh.comments(OWNER, repo, issue).at(-1)?.body ?? "";
  };
  const repo = (name: string, files: Record<string, string>, extra: { allowAutoMerge?: boolean } = {}) =>
    h.gh.addRepo(INSTALLATION, { name, files, ...extra });

  // A fresh GitHub and registry for each test: no test leans on another's state, nor on its share of the stand-in's
  // per-minute write budget (GitHub's secondary limits, which the unpaced test client would exhaust over the file).
  beforeEach(async () => {
    h = await startApp({ now: () => clock });
    host = h.registry.host;
  });
  afterEach(async () => h?.close());

  it("opens nothing for a refresh whose manifests for the repository's platforms did not change", async () => {
    const v1 = await h.registry.pushImage("plat/app", "1", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64"] });
    // A new index for the same tag: another platform joins, linux/amd64's manifest is byte for byte the same.
    const v2 = await h.registry.pushImage("plat/app", "1", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64", "linux/s390x"] });
    expect(v2.digest).not.toBe(v1.digest);
    expect(v2.children["linux/amd64"]).toBe(v1.children["linux/amd64"]);
    const dockerfile = `FROM ${host}/plat/app:1@${v1.digest}\n`;
    repo("amd64-only", { ".github/digest-pin.yml": "platforms: [linux/amd64]\n", Dockerfile: dockerfile });
    repo("flagged", { Dockerfile: `FROM --platform=linux/arm64 ${host}/plat/app:1@${v1.digest}\n` });
    repo("every-platform", { Dockerfile: dockerfile });
    await install("amd64-only", "flagged", "every-platform");
    expect(h.gh.pulls(OWNER, "amd64-only")).toEqual([]);
    expect(h.gh.pulls(OWNER, "flagged")).toEqual([]);
    expect(file("every-platform")).toBe(`FROM ${host}/plat/app:1@${v2.digest}\n`);
    expect(await rescan("amd64-only")).toMatch(/1 skipped \(1 platforms-unchanged\)/);

    // Once linux/amd64 itself changes, the refresh is proposed.
    const v3 = await h.registry.pushImage("plat/app", "1", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64"], salt: "v3" });
    expect(await rescan("amd64-only")).toMatch(/Opened/);
    expect(file("amd64-only")).toBe(`FROM ${host}/plat/app:1@${v3.digest}\n`);
  });

  it("holds refreshes until the schedule's window in its time zone, and pins at once", async () => {
    const old = (await h.registry.pushImage("sched/app", "1", { kind: "oci-index", salt: "old" })).digest;
    const moved = (await h.registry.pushImage("sched/app", "1", { kind: "oci-index", salt: "new" })).digest;
    const pin = (await h.registry.pushImage("sched/pin", "1", { kind: "oci-index" })).digest;
    repo("scheduled", {
      ".github/digest-pin.yml": 'schedule: "on saturday"\ntimezone: Europe/Berlin\n',
      Dockerfile: `FROM ${host}/sched/app:1@${old}\nFROM ${host}/sched/pin:1\n`,
    });
    clock = WEDNESDAY;
    await install("scheduled");
    expect(file("scheduled")).toBe(`FROM ${host}/sched/app:1@${old}\nFROM ${host}/sched/pin:1@${pin}\n`);
    expect(open("scheduled")?.body).toContain("1 refresh wait for the configured schedule");

    // Friday 22:30 UTC is Saturday 00:30 in Berlin: the window is open.
    clock = Date.parse("2024-06-07T22:30:00Z");
    expect(await rescan("scheduled")).toMatch(/Updated/);
    expect(file("scheduled")).toBe(`FROM ${host}/sched/app:1@${moved}\nFROM ${host}/sched/pin:1@${pin}\n`);
    clock = WEDNESDAY;
  });

  it("requests auto-merge through GraphQL, and turns it off before new image bytes join", async () => {
    const pin = (await h.registry.pushImage("am/pin", "1", { kind: "oci-index" })).digest;
    repo("automerged", { ".github/digest-pin.yml": "automerge: pins\n", Dockerfile: `FROM ${host}/am/pin:1\n` }, { allowAutoMerge: true });
    await install("automerged");
    const pull = open("automerged");
    expect(pull?.autoMerge?.mergeMethod).toBe("SQUASH");
    expect(pull?.autoMerge?.enabledBy).toBe(h.gh.botLogin);
    expect(pull?.autoMerge?.commitHeadline).toBe("Pin container images to digests");
    expect(pull?.autoMerge?.commitBody).toContain(`- pin Dockerfile:1 ${host}/am/pin:1 to ${pin}`);
    expect(pull?.autoMerge?.commitBody).not.toMatch(/digest-pin:plan|<!--/);
    expect(h.gh.comments(OWNER, "automerged", pull?.number ?? 0)).toEqual([]);

    // An update joins the pins-only pull request: auto-merge goes off before the branch takes the new bytes.
    const old = (await h.registry.pushImage("am/upd", "1", { kind: "oci-index", salt: "old" })).digest;
    await h.registry.pushImage("am/upd", "1", { kind: "oci-index", salt: "new" });
    const after = h.gh.pushFiles(OWNER, "automerged", "main", { Dockerfile: `FROM ${host}/am/pin:1\nFROM ${host}/am/upd:1@${old}\n` });
    await h.deliver("push", pushed(h.gh, "automerged", after, ["Dockerfile"]));
    await h.idle();
    expect(open("automerged")?.number).toBe(pull?.number);
    expect(file("automerged")).toContain("am/upd:1@");
    expect(open("automerged")?.autoMerge).toBeNull();
  });

  it("says once, in a comment, that the repository does not allow auto-merge", async () => {
    await h.registry.pushImage("am/other", "1", { kind: "oci-index" });
    repo("manual", { ".github/digest-pin.yml": "automerge: all\n", Dockerfile: `FROM ${host}/am/other:1\n` });
    await install("manual");
    const pull = open("manual");
    expect(pull?.autoMerge).toBeNull();
    await rescan("manual");
    const notices = h.gh.comments(OWNER, "manual", pull?.number ?? 0).filter((c) => c.body.includes("auto-merge"));
    expect(notices).toHaveLength(1);
    expect(notices[0]?.body).toContain("GitHub would not enable auto-merge: the repository does not allow auto-merge");
    expect(notices[0]?.body).toContain("Allow auto-merge");

    // Once the repository allows it, the next run asks GitHub again.
    h.gh.updateRepo(OWNER, "manual", { allowAutoMerge: true });
    await rescan("manual");
    expect(open("manual")?.autoMerge?.mergeMethod).toBe("SQUASH");
  });

  it("leaves alone the auto-merge a person turned on", async () => {
    const old = (await h.registry.pushImage("am/person", "1", { kind: "oci-index", salt: "old" })).digest;
    await h.registry.pushImage("am/person", "1", { kind: "oci-index", salt: "new" });
    repo("person", { Dockerfile: `FROM ${host}/am/person:1@${old}\n` }, { allowAutoMerge: true });
    await install("person");
    const pull = open("person");
    if (!pull) throw new Error("no pull request");
    pull.autoMerge = { enabledAt: "2024-06-05T10:00:00Z", enabledBy: "writer", mergeMethod: "MERGE", commitHeadline: null, commitBody: null };
    await h.registry.pushImage("am/person", "1", { kind: "oci-index", salt: "newer" });
    expect(await rescan("person")).toMatch(/Updated/);
    expect(open("person")?.autoMerge?.enabledBy).toBe("writer");
  });

  it("still proposes something for a tag rebuilt every hour with minimumAge: 3h", async () => {
    const start = Date.parse("2024-06-10T08:00:00Z");
    const iso = (t: number) => new Date(t).toISOString();
    const pinned = (await h.registry.pushImage("hourly/app", "1", { kind: "oci-index", salt: "yesterday", created: iso(start - 24 * HOUR) })).digest;
    repo("hourly", { ".github/digest-pin.yml": "minimumAge: 3h\n", Dockerfile: `FROM ${host}/hourly/app:1@${pinned}\n` });
    const builds: string[] = [];
    for (let hour = 0; hour <= 3; hour++) {
      clock = start + hour * HOUR;
      builds.push((await h.registry.pushImage("hourly/app", "1", { kind: "oci-index", salt: `h${hour}`, created: iso(clock) })).digest);
      if (hour === 0) await install("hourly");
      else await rescan("hourly");
      // Every build is younger than 3 hours when it is the tag's newest; until one of them has been out for 3 hours.
      if (hour < 3) expect(h.gh.pulls(OWNER, "hourly"), `hour ${hour}`).toEqual([]);
    }
    expect(file("hourly")).toBe(`FROM ${host}/hourly/app:1@${builds[0]}\n`);
    clock = WEDNESDAY;
  });

  it("does not take an image's word for its age once it saw the tag move to it", async () => {
    const start = Date.parse("2024-06-20T08:00:00Z");
    const first = (await h.registry.pushImage("claims/app", "1", { kind: "oci-index", salt: "a", created: "2024-01-01T00:00:00Z" })).digest;
    repo("claims", { ".github/digest-pin.yml": "minimumAge: 3h\n", Dockerfile: `FROM ${host}/claims/app:1@${first}\n` });
    clock = start;
    await install("claims");
    // The tag moves to an image whose config says it is half a year old: whoever pushed it wrote that.
    const claimed = (await h.registry.pushImage("claims/app", "1", { kind: "oci-index", salt: "b", created: "2024-01-02T00:00:00Z" })).digest;
    clock = start + HOUR;
    expect(await rescan("claims")).toMatch(/1 too-new/);
    expect(h.gh.pulls(OWNER, "claims")).toEqual([]);
    clock = start + 4 * HOUR;
    expect(await rescan("claims")).toMatch(/Opened/);
    expect(file("claims")).toBe(`FROM ${host}/claims/app:1@${claimed}\n`);
    clock = WEDNESDAY;
  });

  it("applies the organization's defaults from its .github repository, read once for the whole delivery", async () => {
    await h.registry.pushImage("org/base", "1", { kind: "oci-index" });
    const dockerfile = `FROM ${host}/org/base:1\n`;
    repo(".github", { ".github/digest-pin.yml": 'labels: [org-wide]\ncommitMessagePrefix: "chore(deps):"\n' });
    repo("settings", { ".github/digest-pin.yml": "labels: [from-settings]\n" });
    repo("org-a", { Dockerfile: dockerfile });
    repo("org-b", { ".github/digest-pin.yml": "labels: [mine]\n", Dockerfile: dockerfile });
    repo("org-c", { ".github/digest-pin.yml": "_extends: settings\n", Dockerfile: dockerfile });
    h.gh.resetCounts();
    await install(".github", "settings", "org-a", "org-b", "org-c");
    expect(open("org-a")?.title).toBe("chore(deps): Pin container images to digests");
    expect(open("org-a")?.labels).toEqual(["org-wide"]);
    expect(open("org-b")?.labels).toEqual(["mine"]);
    expect(open("org-b")?.title).toBe("chore(deps): Pin container images to digests");
    expect(open("org-c")?.labels).toEqual(["from-settings"]);
    expect(open("org-c")?.title).toBe("Pin container images to digests");
    // One read of each base for the whole delivery, however many repositories extend it.
    const reads = h.gh.calls.filter((c) => c.operation === "DigestPinConfigFile").map((c) => `${String(c.variables?.name)}`);
    expect(reads.sort()).toEqual([".github", "settings"]);
    expect(open("org-b")?.body).toContain("From `acme/.github: .github/digest-pin.yml`, then `.github/digest-pin.yml`:");
    const head = h.gh.getRef(OWNER, "org-a", BRANCH) ?? "";
    expect(h.gh.getCommit(OWNER, "org-a", head)?.message.split("\n")[0]).toBe("chore(deps): Pin container images to digests");

    // A change to the defaults reaches every repository of the installation.
    const after = h.gh.pushFiles(OWNER, ".github", "main", { ".github/digest-pin.yml": 'labels: [org-wide]\ncommitMessagePrefix: "build:"\n' });
    await h.deliver("push", pushed(h.gh, ".github", after, [".github/digest-pin.yml"]));
    await h.idle();
    expect(open("org-a")?.title).toBe("build: Pin container images to digests");
    expect(open("org-b")?.title).toBe("build: Pin container images to digests");
  });
});
