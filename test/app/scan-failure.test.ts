// A Dockerfile the scanner fails on is an error, never "no references": through the real app (real Probot, the fake
// GitHub, a real registry), with the scanner failing on files that carry a trigger line (the real scanner otherwise).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryAvailability } from "../../bench/harness/registry.js";
import { readMarker, refKey } from "../../src/github/marker.js";
import { flakyScanner as flaky, TRIGGER } from "../helpers/flaky-scanner.js";
import { commented, INSTALLATION, installationCreated, OWNER, startApp, type AppHarness } from "./app-harness.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}


describe.skipIf(!availability.available)("a file the scanner fails on", () => {
  let h: AppHarness;
  let host: string;
  let python: string;
  let issue: number;

  beforeAll(async () => {
    h = await startApp({ scanner: flaky });
    host = h.registry.host;
    python = (await h.registry.pushImage("library/python", "3.12", { kind: "oci-index" })).digest;
    h.gh.addRepo(INSTALLATION, {
      name: "flaky",
      files: { Dockerfile: `FROM ${host}/library/python:3.12\n`, "broken.Dockerfile": `${TRIGGER}FROM ${host}/library/python:3.12\n` },
    });
    h.gh.setPermission(OWNER, "flaky", "writer", "write");
    issue = h.gh.openIssue(OWNER, "flaky", { title: "ops", user: "writer" }).number;
  });
  afterAll(async () => h?.close());

  const rescan = async () => {
    await h.deliver("issue_comment", commented(h.gh, "flaky", issue, "/digest-pin rescan", "writer"));
    await h.idle();
    return h.gh.comments(OWNER, "flaky", issue).at(-1)?.body ?? "";
  };
  const open = () => h.gh.pulls(OWNER, "flaky").filter((p) => p.state === "open");

  it("is listed in the pull request body and the reply", async () => {
    await h.deliver("installation", installationCreated(h.gh, ["flaky"]));
    await h.idle();
    const [pull] = open();
    expect(pull?.body).toMatch(/`broken\.Dockerfile` line 1: .*could not be scanned: internal error while reading instructions/);
    expect(readMarker(pull?.body)?.refs).toEqual([refKey("Dockerfile", `${host}/library/python:3.12`)]);
    const reply = await rescan();
    expect(reply).toMatch(/1 error\./);
    expect(reply).toContain("`broken.Dockerfile` line 1");
    expect(reply).toContain("could not be scanned");
  });

  it("never closes the pull request nor calls it current while the file fails", async () => {
    const [pull] = open();
    // The file the pull request pins now fails to scan too: its references are unknown, not gone.
    const after = h.gh.pushFiles(OWNER, "flaky", "main", { Dockerfile: `${TRIGGER}FROM ${host}/library/python:3.12\n` });
    expect(after).toMatch(/^[0-9a-f]{40}$/);
    const reply = await rescan();
    expect(open().map((p) => p.number)).toEqual([pull?.number]);
    expect(h.gh.getRef(OWNER, "flaky", "digest-pin/main")).not.toBeNull();
    expect(reply).toMatch(/2 errors\./);
    expect(reply).toMatch(/Left the branch alone: 2 files could not be scanned/);
    expect(reply).not.toMatch(/already current|Nothing left to change/);
    // Once the files scan again, the pull request follows them as usual.
    h.gh.pushFiles(OWNER, "flaky", "main", { Dockerfile: `FROM ${host}/library/python:3.12@${python}\n`, "broken.Dockerfile": null });
    expect(await rescan()).toMatch(/Nothing left to change: closed/);
  });
});
