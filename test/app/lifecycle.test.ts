// The pull request lifecycle, end to end inside one process: real Probot, real example webhooks, the fake GitHub with
// git semantics, a real Distribution registry and the real registry client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proposes, readMarker, replaceMarker } from "../../src/github/marker.js";
import { CONFIG_ISSUE_TITLE } from "../../src/github/config-issue.js";
import { registryAvailability } from "../../bench/harness/registry.js";
import {
  commented,
  installationCreated,
  OWNER,
  pushed,
  startApp,
  INSTALLATION,
  type AppHarness,
} from "./app-harness.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping app lifecycle tests: ${availability.reason}`);

const BRANCH = "digest-pin/main";

describe.skipIf(!availability.available)("pull request lifecycle", () => {
  let h: AppHarness;
  let host: string;
  let python: string; // the digest python:3.12 has now
  let dockerfile: string;
  let frontend: string; // the digest of the syntax directive's image
  let ops: number; // an ordinary issue where people type commands

  beforeAll(async () => {
    h = await startApp();
    host = h.registry.host;
    python = (await h.registry.pushImage("library/python", "3.12", { kind: "oci-index", platforms: ["linux/amd64", "linux/arm64"] })).digest;
    await h.registry.pushImage("tools/builder", "1", { kind: "docker-manifest" });
    frontend = (await h.registry.pushImage("docker/dockerfile", "1", { kind: "docker-list" })).digest;
    dockerfile =
      `# syntax=${host}/docker/dockerfile:1\r\n` +
      `FROM ${host}/tools/builder:1 AS build\r\n` +
      `RUN echo hi  \r\n` +
      `FROM ${host}/library/python:3.12\r\n` +
      `COPY --from=build /out /out\r\n`;
    h.gh.addRepo(INSTALLATION, {
      name: "service",
      files: { "Dockerfile": dockerfile, "README.md": "hello\n", "docker/missing.Dockerfile": `FROM ${host}/library/nope:1\n` },
    });
    h.gh.addRepo(INSTALLATION, { name: "plain", files: { "README.md": "no containers here\n" } });
    h.gh.addRepo(INSTALLATION, { name: "old", archived: true, files: { Dockerfile: `FROM ${host}/library/python:3.12\n` } });
    ops = h.gh.openIssue(OWNER, "service", { title: "ops", user: "writer" }).number;
    h.gh.setPermission(OWNER, "service", "writer", "write");
    h.gh.setPermission(OWNER, "service", "reader", "read");
  });
  afterAll(async () => h?.close());

  const pulls = () => h.gh.pulls(OWNER, "service").filter((p) => p.head.ref === BRANCH);
  const openPull = () => pulls().find((p) => p.state === "open");
  const branchFile = (path = "Dockerfile") => h.gh.readFile(OWNER, "service", BRANCH, path)?.toString("latin1");
  const rescan = async (login = "writer", number = ops, body = "/digest-pin rescan") => {
    await h.deliver("issue_comment", commented(h.gh, "service", number, body, login));
    await h.idle();
  };

  it("opens one pull request per repository that needs one, on installation", async () => {
    await h.deliver("installation", installationCreated(h.gh, ["service", "plain", "old"]));
    await h.idle();
    expect(h.gh.pulls(OWNER, "plain")).toHaveLength(0);
    expect(h.gh.pulls(OWNER, "old")).toHaveLength(0);
    expect(pulls()).toHaveLength(1);
    const pull = openPull();
    expect(pull?.title).toBe("Pin container images to digests");
    expect(pull?.labels.sort()).toEqual(["dependencies", "docker"]);
    // Only the reference bytes changed: CRLF, trailing spaces and everything else are identical.
    const builder = (await h.client.resolve({ registry: host, repository: "tools/builder", tag: "1", digest: null })).digest;
    expect(branchFile()).toBe(
      dockerfile
        .replace(`dockerfile:1\r\n`, `dockerfile:1@${frontend}\r\n`)
        .replace(`tools/builder:1 `, `tools/builder:1@${builder} `)
        .replace(`python:3.12\r\n`, `python:3.12@${python}\r\n`),
    );
    // The unresolvable reference is listed, not dropped, and its file is untouched.
    expect(pull?.body).toContain("library/nope:1");
    expect(pull?.body).toMatch(/Could not be resolved/);
    expect(branchFile("docker/missing.Dockerfile")).toBe(`FROM ${host}/library/nope:1\n`);
    // One verified commit on top of the default branch.
    const head = h.gh.getRef(OWNER, "service", BRANCH) ?? "";
    const commit = h.gh.getCommit(OWNER, "service", head);
    expect(commit?.verified).toBe(true);
    expect(commit?.parents).toEqual([h.gh.getRef(OWNER, "service", "main")]);
    expect(readMarker(pull?.body)?.commit).toBe(head);
  });

  it("does nothing on a re-run when nothing changed, and replies with a summary", async () => {
    const head = h.gh.getRef(OWNER, "service", BRANCH);
    const body = openPull()?.body;
    h.gh.resetCounts();
    const seen = h.gh.comments(OWNER, "service", ops).length;
    await rescan("writer");
    expect(h.gh.getRef(OWNER, "service", BRANCH)).toBe(head);
    expect(openPull()?.body).toBe(body);
    const writes = h.gh.calls.filter((c) => c.method !== "GET" && c.route !== "POST /graphql" && !c.path.includes("access_tokens"));
    // Only the 👀 reaction and the summary reply.
    expect(writes.map((c) => c.route).sort()).toEqual(
      ["POST /repos/{owner}/{repo}/issues/{number}/comments", "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"].sort(),
    );
    const thread = h.gh.comments(OWNER, "service", ops);
    expect(thread).toHaveLength(seen + 2); // the command and one reply
    expect(thread.at(-2)?.reactions.map((r) => r.content)).toEqual(["eyes"]);
    const reply = thread.at(-1);
    expect(reply?.user).toBe("digest-pin[bot]");
    expect(reply?.body).toMatch(/scanned 2 Dockerfiles/);
    expect(reply?.body).toMatch(/1 error/);
    expect(reply?.body).toContain(`#${openPull()?.number}`);
  });

  it("refreshes the same pull request when a tag moves", async () => {
    const number = openPull()?.number;
    const moved = (await h.registry.pushImage("library/python", "3.12", { kind: "oci-index", platforms: ["linux/amd64"], salt: "v2" })).digest;
    expect(moved).not.toBe(python);
    await rescan();
    expect(pulls()).toHaveLength(1);
    expect(openPull()?.number).toBe(number);
    expect(branchFile()).toContain(`python:3.12@${moved}\r\n`);
    expect(readMarker(openPull()?.body)?.commit).toBe(h.gh.getRef(OWNER, "service", BRANCH));
    python = moved;
  });

  it("leaves a branch someone else pushed to alone, says so once, and resets it on /digest-pin recreate", async () => {
    const number = openPull()?.number ?? 0;
    const foreign = h.gh.pushFiles(OWNER, "service", BRANCH, { "notes.txt": "mine\n" }, { author: "writer" });
    await rescan();
    await rescan();
    expect(h.gh.getRef(OWNER, "service", BRANCH)).toBe(foreign);
    const notices = h.gh.comments(OWNER, "service", number).filter((c) => c.body.includes("Someone else pushed"));
    expect(notices).toHaveLength(1);
    expect(notices[0]?.body).toContain("/digest-pin recreate");

    await h.deliver("issue_comment", commented(h.gh, "service", number, "/digest-pin recreate", "writer", { isPull: true }));
    await h.idle();
    const head = h.gh.getRef(OWNER, "service", BRANCH);
    expect(head).not.toBe(foreign);
    expect(h.gh.readFile(OWNER, "service", BRANCH, "notes.txt")).toBeNull();
    expect(readMarker(openPull()?.body)?.commit).toBe(head);
  });

  it("does not adopt a commit someone else pushed when the pull request's marker is edited to name it", async () => {
    const number = openPull()?.number ?? 0;
    const marker = readMarker(openPull()?.body);
    if (!marker) throw new Error("no marker");
    const notices = () => h.gh.comments(OWNER, "service", number).filter((c) => c.body.includes("Someone else pushed"));
    const earlier = notices().length;
    // The base moves on (a docs change): the app's commit now sits on an older base commit and is still its own.
    h.gh.pushFiles(OWNER, "service", "main", { "README.md": "hello again\n" });
    await rescan();
    const ours = h.gh.getRef(OWNER, "service", BRANCH);
    expect(ours).toBe(marker.commit);
    expect(notices()).toHaveLength(earlier);

    // A writer pushes a commit written as the app (its name and email) and edits the body so its marker names it.
    const forged = h.gh.pushFiles(OWNER, "service", BRANCH, { Dockerfile: `FROM ${host}/evil/image:1\n` }, { author: h.gh.botLogin });
    h.gh.editItem(OWNER, "service", number, { body: replaceMarker(openPull()?.body ?? "", { ...marker, commit: forged }) });
    const reply = async () => h.gh.comments(OWNER, "service", ops).at(-1)?.body ?? "";
    await rescan();
    expect(await reply()).toMatch(/Left the branch alone: foreign commits/);
    // A new digest to propose: still not written over their commit.
    const moved = (await h.registry.pushImage("library/python", "3.12", { kind: "oci-index", salt: "forged" })).digest;
    await rescan();
    expect(await reply()).toMatch(/Left the branch alone: foreign commits/);
    expect(h.gh.getRef(OWNER, "service", BRANCH)).toBe(forged);
    expect(notices().slice(earlier).map((c) => c.body.includes(forged.slice(0, 7)))).toEqual([true]);

    await h.deliver("issue_comment", commented(h.gh, "service", number, "/digest-pin recreate", "writer", { isPull: true }));
    await h.idle();
    expect(branchFile()).toContain(`python:3.12@${moved}\r\n`);
    expect(readMarker(openPull()?.body)?.commit).toBe(h.gh.getRef(OWNER, "service", BRANCH));
    python = moved;
  });

  it("refuses commands from people without write access and ignores bots", async () => {
    const before = h.gh.getRef(OWNER, "service", BRANCH);
    const seen = h.gh.comments(OWNER, "service", ops).length;
    await rescan("reader");
    const replies = h.gh.comments(OWNER, "service", ops).slice(seen);
    expect(replies).toHaveLength(2); // the command and the refusal
    expect(replies[1]?.body).toMatch(/need write access/);
    expect(replies[0]?.reactions).toHaveLength(0);
    await h.deliver("issue_comment", commented(h.gh, "service", ops, "/digest-pin rescan", "other-app[bot]", { type: "Bot" }));
    await h.idle();
    expect(h.gh.comments(OWNER, "service", ops)).toHaveLength(seen + 3); // nothing but the bot's own comment
    expect(h.gh.getRef(OWNER, "service", BRANCH)).toBe(before);
  });

  it("does not propose digests of a pull request closed without merging again, but does propose newer ones", async () => {
    const closed = openPull();
    h.gh.closePull(OWNER, "service", closed?.number ?? 0);
    await rescan();
    expect(openPull()).toBeUndefined();

    const newer = (await h.registry.pushImage("library/python", "3.12", { kind: "oci-index", salt: "v3" })).digest;
    await rescan();
    const reopened = openPull();
    expect(reopened).toBeDefined();
    expect(reopened?.number).not.toBe(closed?.number);
    expect(proposes(readMarker(reopened?.body), `${host}/library/python`, "3.12", newer)).toBe(true);
    python = newer;
  });

  it("closes its pull request and deletes the branch when nothing is left to change", async () => {
    const pull = openPull();
    // Someone pins everything on the default branch themselves, and removes the broken file.
    const pinned = h.gh.readFile(OWNER, "service", BRANCH, "Dockerfile") ?? Buffer.alloc(0);
    const after = h.gh.pushFiles(OWNER, "service", "main", { Dockerfile: pinned, "docker/missing.Dockerfile": null });
    await h.deliver("push", pushed(h.gh, "service", after, ["Dockerfile", "docker/missing.Dockerfile"]));
    await h.idle();
    expect(h.gh.pull(OWNER, "service", pull?.number ?? 0)?.state).toBe("closed");
    expect(h.gh.getRef(OWNER, "service", BRANCH)).toBeNull();
    expect(h.gh.comments(OWNER, "service", pull?.number ?? 0).at(-1)?.body).toMatch(/no longer needed/);
  });

  it("proposes the same digests again when they are needed again after it closed its own pull request", async () => {
    const closed = h.gh.pulls(OWNER, "service").filter((p) => p.state === "closed");
    const after = h.gh.pushFiles(OWNER, "service", "main", { Dockerfile: dockerfile });
    await h.deliver("push", pushed(h.gh, "service", after, ["Dockerfile"]));
    await h.idle();
    const reopened = openPull();
    expect(reopened).toBeDefined();
    expect(closed.map((p) => p.number)).not.toContain(reopened?.number);
    expect(branchFile()).toContain(`python:3.12@${python}`);
    // Put the pinned file back so the scenarios that follow start from a repository with nothing to change.
    const pinned = h.gh.readFile(OWNER, "service", BRANCH, "Dockerfile") ?? Buffer.alloc(0);
    const again = h.gh.pushFiles(OWNER, "service", "main", { Dockerfile: pinned });
    await h.deliver("push", pushed(h.gh, "service", again, ["Dockerfile"]));
    await h.idle();
    expect(openPull()).toBeUndefined();
  });

  it("opens one configuration issue for a broken config and closes it once fixed", async () => {
    const bad = h.gh.pushFiles(OWNER, "service", "main", { ".github/digest-pin.yml": "pinUnpinned: maybe\n" });
    await h.deliver("push", pushed(h.gh, "service", bad, [".github/digest-pin.yml"]));
    await h.idle();
    await rescan();
    const issues = () => h.gh.issues(OWNER, "service").filter((i) => i.title === CONFIG_ISSUE_TITLE);
    expect(issues()).toHaveLength(1);
    expect(issues()[0]?.state).toBe("open");
    expect(issues()[0]?.body).toContain("pinUnpinned");

    const good = h.gh.pushFiles(OWNER, "service", "main", { ".github/digest-pin.yml": "pinUnpinned: false\n" });
    await h.deliver("push", pushed(h.gh, "service", good, [".github/digest-pin.yml"]));
    await h.idle();
    expect(issues()).toHaveLength(1);
    expect(issues()[0]?.state).toBe("closed");
  });

  it("with minimumAge, proposes only digests whose image is old enough", async () => {
    const day = 86_400_000;
    await h.registry.pushImage("library/fresh", "1", { kind: "oci-index", created: new Date(Date.now() - day).toISOString() });
    const aged = await h.registry.pushImage("library/aged", "1", { kind: "oci-index", created: new Date(Date.now() - 9 * day).toISOString() });
    h.gh.addRepo(INSTALLATION, {
      name: "careful",
      files: {
        ".github/digest-pin.yml": "minimumAge: 3d\nlabels: []\n",
        Dockerfile: `FROM ${host}/library/fresh:1\nFROM ${host}/library/aged:1\n`,
      },
    });
    await h.deliver("installation_repositories", {
      ...installationCreated(h.gh, ["careful"]),
      action: "added",
      repositories_added: [{ full_name: `${OWNER}/careful` }],
      repositories_removed: [],
    });
    await h.idle();
    const [pull] = h.gh.pulls(OWNER, "careful");
    expect(pull?.labels).toEqual([]);
    expect(h.gh.readFile(OWNER, "careful", BRANCH, "Dockerfile")?.toString()).toBe(
      `FROM ${host}/library/fresh:1\nFROM ${host}/library/aged:1@${aged.digest}\n`,
    );
  });

  it("ignores pushes to other branches and pushes that touch no Dockerfile", async () => {
    h.gh.resetCounts();
    const other = h.gh.pushFiles(OWNER, "service", "feature", { Dockerfile: "FROM busybox\n" });
    const payload = pushed(h.gh, "service", other, ["Dockerfile"]);
    payload.ref = "refs/heads/feature";
    await h.deliver("push", payload);
    const docs = h.gh.pushFiles(OWNER, "service", "main", { "README.md": "more\n" });
    await h.deliver("push", pushed(h.gh, "service", docs, ["README.md"]));
    await h.idle();
    expect(h.gh.calls.filter((c) => c.route !== "UNKNOWN" && !c.path.includes("access_tokens"))).toHaveLength(0);
  });
});
