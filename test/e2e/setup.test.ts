// Registering the app, end to end: the real app process (`node dist/src/app/main.js`, what `npm start` runs) started
// without credentials in an empty directory, the setup page read as a browser would, its form posted to the stand-in
// GitHub (which registers the app and sends the browser back with a code, as GitHub does), and the app then serving
// webhooks signed with the secret GitHub gave it: installed on an organization, it scans with the key GitHub gave it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { signature, startAppProcess, until, type AppProcess, type Acknowledgement } from "../../bench/harness/app-process.js";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { example } from "../app/app-harness.js";

const ORG = "acme-platform";
const INSTALLATION = 9101;

/** The form on the setup page: where it posts, and the manifest it carries. */
function formOf(html: string): { action: string; manifest: Record<string, unknown> } {
  const decode = (text: string) =>
    text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&amp;/g, "&");
  const action = /<form action="([^"]*)" method="post">/.exec(html)?.[1];
  const manifest = /<input type="hidden" name="manifest" value="([^"]*)">/.exec(html)?.[1];
  if (action === undefined || manifest === undefined) throw new Error(`no manifest form in:\n${html}`);
  return { action: decode(action), manifest: JSON.parse(decode(manifest)) as Record<string, unknown> };
}

/** What the operator's browser does with the form: post it to GitHub, which answers with a redirect back. */
async function postForm(action: string, manifest: Record<string, unknown>): Promise<Response> {
  return fetch(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ manifest: JSON.stringify(manifest) }).toString(),
    redirect: "manual",
  });
}

describe("registering the app from the setup page", () => {
  let gh: FakeGitHub;
  const apps: AppProcess[] = [];
  const dirs: string[] = [];

  const start = async (env: Record<string, string>, cwd?: string) => {
    const dir = cwd ?? (await mkdtemp(join(tmpdir(), "digest-pin-setup-")));
    if (!cwd) dirs.push(dir);
    const app = await startAppProcess(gh.host, env, { cwd: dir, credentials: false });
    apps.push(app);
    return { app, dir };
  };

  beforeAll(async () => {
    gh = await FakeGitHub.start();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
  });
  afterAll(async () => {
    await gh?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("answers /healthz in setup mode, and /readyz says it is not registered yet", async () => {
    const { app } = await start({});
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain("not registered");
  });

  it("posts the operator's webhook URL to the organization's registration page, private to it", async () => {
    const { app } = await start({ GH_ORG: ORG, WEBHOOK_URL: "https://pin.acme.example/api/github/webhooks" });
    const page = await fetch(`${app.url}/probot`).then((r) => r.text());
    const { action, manifest } = formOf(page);
    expect(action).toMatch(new RegExp(`^${gh.url}/organizations/${ORG}/settings/apps/new\\?state=[0-9a-f]{32}$`));
    const appYml = parseYaml(await readFile(new URL("../../app.yml", import.meta.url), "utf8")) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: "digest-pin",
      url: appYml.url,
      hook_attributes: { url: "https://pin.acme.example/api/github/webhooks", active: true },
      redirect_url: `${app.url}/probot/setup`,
      public: false,
      default_permissions: { contents: "write", pull_requests: "write", issues: "write", metadata: "read" },
      default_events: ["push", "issue_comment", "pull_request"],
    });
    expect(page).not.toContain("cannot deliver");
  });

  it("without WEBHOOK_URL: the page's own address (through a proxy), a public app on the personal account", async () => {
    const { app } = await start({});
    const headers = { "x-forwarded-proto": "https", "x-forwarded-host": "pin.acme.example" };
    const { action, manifest } = formOf(await fetch(`${app.url}/probot`, { headers }).then((r) => r.text()));
    expect(action).toMatch(new RegExp(`^${gh.url}/settings/apps/new\\?state=`));
    expect(manifest).toMatchObject({
      hook_attributes: { url: "https://pin.acme.example/api/github/webhooks" },
      redirect_url: "https://pin.acme.example/probot/setup",
      public: true,
    });
    // Straight at the process: a loopback address GitHub cannot deliver to, said on the page.
    const direct = await fetch(`${app.url}/probot`).then((r) => r.text());
    expect(formOf(direct).manifest).toMatchObject({ hook_attributes: { url: `${app.url}/api/github/webhooks` } });
    expect(direct).toContain("GitHub cannot deliver webhooks there");
    // A forged host is refused, not reflected.
    const forged = await fetch(`${app.url}/probot`, { headers: { "x-forwarded-host": `x"><script>alert(1)</script>` } });
    expect(forged.status).toBe(400);
    expect(await forged.text()).not.toContain("<script>alert");
  });

  it("the existing-app page and the done page show the real webhook URL, and the import needs the page's token", async () => {
    const { app, dir } = await start({ WEBHOOK_PROXY_URL: "https://smee.io/digest-pin-test" });
    const page = await fetch(`${app.url}/probot/import`).then((r) => r.text());
    expect(page).toContain(`<code id="webhook-url">https://smee.io/digest-pin-test</code>`);
    expect(page).toContain("<code>pull_requests</code>: write");
    const success = await fetch(`${app.url}/probot/success`).then((r) => r.text());
    expect(success).toContain(`<code id="webhook-url">https://smee.io/digest-pin-test</code>`);
    // Cross-site pages cannot send this header without a preflight, which setup mode never grants.
    const forged = await fetch(`${app.url}/probot/import`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ appId: "1", pem: "x", webhook_secret: "y" }),
    });
    expect(forged.status).toBe(403);
    await expect(readFile(join(dir, ".env"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("refuses GitHub's return without the page's state, and writes nothing", async () => {
    const { app, dir } = await start({ GH_ORG: ORG });
    const { action, manifest } = formOf(await fetch(`${app.url}/probot`).then((r) => r.text()));
    const back = new URL((await postForm(action, manifest)).headers.get("location") ?? "");
    back.searchParams.set("state", "0".repeat(32));
    const answer = await fetch(back, { redirect: "manual" });
    expect(answer.status).toBe(400);
    expect(gh.manifests.registrations.at(-1)?.converted).toBe(false);
    await expect(readFile(join(dir, ".env"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("registers on the organization, writes .env, and serves webhooks signed with GitHub's secret at once and after a restart", async () => {
    const { app, dir } = await start({ GH_ORG: ORG, WEBHOOK_URL: "https://pin.acme.example/api/github/webhooks" });
    const { action, manifest } = formOf(await fetch(`${app.url}/probot`).then((r) => r.text()));

    // GitHub registers the app and sends the browser back with a code and the state.
    const registered = await postForm(action, manifest);
    expect(registered.status).toBe(302);
    const back = registered.headers.get("location") ?? "";
    expect(back).toMatch(new RegExp(`^${app.url}/probot/setup\\?code=[0-9a-f]+&state=[0-9a-f]{32}$`));
    const registration = gh.manifests.registrations.at(-1);
    expect(registration?.owner).toEqual({ login: ORG, type: "Organization" });
    expect(registration?.manifest).toMatchObject({ public: false, hook_attributes: { url: "https://pin.acme.example/api/github/webhooks" } });

    // The app exchanges the code and sends the browser on to the page that installs the app.
    const done = await fetch(back, { redirect: "manual" });
    expect(done.status).toBe(302);
    expect(done.headers.get("location")).toBe(`${gh.url}/apps/digest-pin/installations/new`);
    expect(gh.calls.filter((c) => c.route === "POST /app-manifests/{code}/conversions").map((c) => c.status)).toEqual([201]);
    const env = parseEnv(await readFile(join(dir, ".env"), "utf8"));
    expect(env).toMatchObject({ APP_ID: "4242", WEBHOOK_SECRET: registration?.webhookSecret, PRIVATE_KEY: registration?.pem });

    // The operator installs it on the organization; GitHub delivers installation.created, signed with the secret.
    gh.addInstallation(INSTALLATION, { login: ORG, type: "Organization" });
    gh.addRepo(INSTALLATION, { name: "service", files: { "README.md": "no images here\n" } });
    const deliver = async (target: AppProcess) => {
      const payload = example("installation", "created");
      payload.installation = { ...(payload.installation as object), id: INSTALLATION, account: gh.userPayload(ORG) };
      const r = gh.repositoryPayload(ORG, "service") as { id: number; node_id: string; full_name: string; private: boolean };
      payload.repositories = [{ id: r.id, node_id: r.node_id, name: "service", full_name: r.full_name, private: r.private }];
      const body = JSON.stringify(payload);
      const before = gh.tokenRequests.length;
      // The same process switches from setup to the app: the first tries may still meet the setup server, or no one.
      let answer: Acknowledgement | undefined;
      for (let i = 0; i < 100 && answer?.status !== 200; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        answer = await target
          .send({ name: "installation", payload, body, signature: signature(body, registration?.webhookSecret) })
          .catch(() => undefined);
      }
      expect(answer?.status).toBe(200);
      // The scan asks for an installation token with a JWT that the stand-in checks against the key it issued.
      await until("an installation token", () => gh.tokenRequests.length > before);
      expect(gh.calls.filter((c) => c.route === "POST /app/installations/{installation_id#}/access_tokens" && c.status !== 201)).toEqual([]);
      const wrong = await target.send({ name: "installation", payload, body, signature: signature(body, "development") });
      expect(wrong.status).toBeGreaterThanOrEqual(400);
    };
    await deliver(app);

    // A restart reads the same credentials from .env.
    await app.stop();
    const restarted = await startAppProcess(gh.host, {}, { cwd: dir, credentials: false });
    apps.push(restarted);
    await deliver(restarted);
    expect((await fetch(`${restarted.url}/readyz`)).status).toBe(200);
    await writeFile(join(dir, ".env"), "");
  });
});
