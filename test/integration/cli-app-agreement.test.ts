// One engine for the CLI and the app: the same repository and config, served by one real Distribution registry, give
// the same plan to `digest-pin check --json` (the built command, on a checkout) and to the app (in-process Probot
// against the stand-in GitHub, through a real installation webhook): the same changes, skips and errors, and
// `digest-pin pin` writes exactly the bytes of the app's pull request.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryAvailability } from "../../bench/harness/registry.js";
import type { ScanOutcome } from "../../src/app/scan-repository.js";
import type { Plan } from "../../src/plan.js";
import { installationCreated, INSTALLATION, OWNER, startApp, type AppHarness } from "../app/app-harness.js";
import { checkout, cli } from "../helpers/cli.js";

const availability = registryAvailability();
if (!availability.available && process.env.DIGEST_PIN_REQUIRE_REGISTRY === "1") {
  throw new Error(`DIGEST_PIN_REQUIRE_REGISTRY=1 but ${availability.reason}`);
}
if (!availability.available) console.warn(`skipping CLI/app agreement tests: ${availability.reason}`);

const DAY = 86_400_000;

interface Findings {
  changes: string[];
  skipped: string[];
  errors: string[];
  current: string[];
}

/** A plan as sets of comparable lines (file order may differ: a git tree lists files in its own order). */
function findings(p: Pick<Plan, "changes" | "skipped"> & Partial<Pick<Plan, "current">> & { errors: { path: string; line: number; text: string; code?: string }[] }): Findings {
  return {
    changes: p.changes.map((c) => `${c.path}:${c.line} ${c.from} -> ${c.to}`).sort(),
    skipped: p.skipped.map((s) => `${s.path}:${s.line} ${s.text} ${s.reason}`).sort(),
    errors: p.errors.map((e) => `${e.path}:${e.line} ${e.text} ${e.code}`).sort(),
    current: (p.current ?? []).map((c) => `${c.path}:${c.line} ${c.text}`).sort(),
  };
}

describe.skipIf(!availability.available)("digest-pin check in CI and the app agree on one repository", () => {
  let h: AppHarness;
  let host: string;
  let files: Record<string, string>;
  const outcomes: ScanOutcome[] = [];

  beforeAll(async () => {
    h = await startApp({ onScanned: (_job, outcome) => void outcomes.push(outcome) });
    host = h.registry.host;
    const old = new Date(Date.now() - 30 * DAY).toISOString();
    const push = (repository: string, tag: string, salt: string, created = old) =>
      h.registry.pushImage(repository, tag, { kind: "oci-index", salt, created }).then((i) => i.digest);
    // Pins made a while ago; since then python, fresh and alpine moved, stable did not.
    const python1 = await push("library/python", "3.12", "1");
    const fresh1 = await push("team/fresh", "1", "1");
    const alpine1 = await push("library/alpine", "3.20", "1");
    const stable = await push("team/stable", "1", "1");
    await push("library/python", "3.12", "2");
    await push("team/fresh", "1", "2", new Date(Date.now() - DAY).toISOString()); // younger than minimumAge
    await push("library/alpine", "3.20", "2");
    const ghost = `sha256:${"e".repeat(64)}`;
    files = {
      ".github/digest-pin.yml":
        `pinUnpinned: false\nminimumAge: 3d\nignorePaths: ["dev/**"]\nignoreImages: ["${host}/library/alpine"]\nlabels: []\n`,
      Dockerfile:
        `ARG BASE=${host}/library/python:3.12@${python1}\n` +
        `FROM \${BASE} AS build\n` +
        `FROM ${host}/team/fresh:1@${fresh1} AS fresh\n` +
        `FROM ${host}/library/alpine:3.20@${alpine1} AS tools\n` +
        `# digest-pin: ignore\n` +
        `FROM ${host}/library/python:3.12@${python1} AS by-hand\n` +
        `FROM ${host}/team/stable:1@${stable} AS stable\n` +
        `FROM ${host}/library/python:3.12 AS unpinned\n` +
        `FROM ${host}/library/python:\${PY} AS variable\n` +
        `FROM ${host}/library/ghost:1@${ghost}\n` +
        `COPY --from=${host}/library/python:3.12@${python1} /a /a\n`,
      "services/api/Containerfile": `FROM ${host}/library/python:3.12@${python1}\r\nRUN true\r\n`,
      "dev/Dockerfile": `FROM ${host}/library/python:3.12@${python1}\n`,
    };
    h.gh.addRepo(INSTALLATION, { name: "shared", files });
  });
  afterAll(async () => h?.close());

  it("gives the same changes, skips and errors, and the same bytes once pinned", async () => {
    await h.deliver("installation", installationCreated(h.gh, ["shared"]));
    await h.idle();
    const app = outcomes.find((o) => o.status === "done");
    if (app?.status !== "done") throw new Error(`the app did not scan: ${JSON.stringify(outcomes)}`);

    const dir = await checkout(files);
    const check = await cli(["check", dir, "--json", "--insecure-registry", host]);
    expect(check.code, check.stderr).toBe(2); // the ghost tag is an error in both
    const cliPlan = JSON.parse(check.stdout) as Plan;

    const appFindings = findings(app.plan);
    expect(findings(cliPlan)).toEqual(appFindings);
    // And the plan is the one the config asks for, so the agreement is not an agreement on nothing.
    expect(appFindings.changes.map((c) => c.split(" ")[0])).toEqual(["Dockerfile:1", "Dockerfile:11", "services/api/Containerfile:1"]);
    expect(appFindings.skipped.map((s) => `${s.split(" ")[0]} ${s.split(" ").at(-1)}`)).toEqual([
      "Dockerfile:3 too-new",
      "Dockerfile:4 ignored",
      "Dockerfile:6 ignored-inline",
      "Dockerfile:8 not-pinned",
      "Dockerfile:9 variable",
      "dev/Dockerfile:1 ignored",
    ]);
    expect(appFindings.errors).toEqual([`Dockerfile:10 ${host}/library/ghost:1@sha256:${"e".repeat(64)} NOT_FOUND`]);
    expect(appFindings.current).toEqual([`Dockerfile:7 ${host}/team/stable:1@${files.Dockerfile?.match(/stable:1@(sha256:\w+)/)?.[1]}`]);

    // pin writes what the app's pull request commits, byte for byte.
    const pin = await cli(["pin", dir, "--insecure-registry", host]);
    expect(pin.code, pin.stderr).toBe(2);
    for (const path of Object.keys(files)) {
      const branch = h.gh.readFile(OWNER, "shared", "digest-pin/main", path);
      expect((await readFile(join(dir, path))).equals(branch ?? Buffer.alloc(0)), path).toBe(true);
    }
  });
});
