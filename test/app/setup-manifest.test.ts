import { describe, expect, it } from "vitest";
import {
  appManifest,
  createAppUrl,
  parseAppYml,
  requestOrigin,
  SetupError,
  setupSettings,
  webhookTarget,
} from "../../src/app/setup/manifest.js";
import { escapeHtml, setupPage } from "../../src/app/setup/views.js";

describe("setup settings", () => {
  it("refuses what GitHub or a browser would not take, with the variable's name", () => {
    for (const [env, message] of [
      [{ GH_ORG: "-acme" }, /GH_ORG/],
      [{ GH_ORG: "acme/evil" }, /GH_ORG/],
      [{ WEBHOOK_URL: "pin.example.com/hooks" }, /WEBHOOK_URL.*absolute/],
      [{ WEBHOOK_URL: "ftp://pin.example.com/" }, /http or https/],
      [{ WEBHOOK_URL: "https://user:pw@pin.example.com/" }, /user name or password/],
      [{ GHE_PROTOCOL: "gopher", GHE_HOST: "ghe.example.com" }, /GHE_PROTOCOL/],
      [{ WEBHOOK_PATH: "hooks" }, /WEBHOOK_PATH/],
    ] as const) {
      expect(() => setupSettings(env)).toThrow(SetupError);
      expect(() => setupSettings(env)).toThrow(message);
    }
  });

  it("posts to the organization's page with GH_ORG, on GitHub Enterprise Server too", () => {
    expect(createAppUrl(setupSettings({ GH_ORG: "acme" }), "s")).toBe("https://github.com/organizations/acme/settings/apps/new?state=s");
    expect(createAppUrl(setupSettings({}), "s")).toBe("https://github.com/settings/apps/new?state=s");
    expect(createAppUrl(setupSettings({ GHE_HOST: "ghe.acme.dev", GH_ORG: "acme" }), "s")).toBe(
      "https://ghe.acme.dev/organizations/acme/settings/apps/new?state=s",
    );
  });
});

describe("requestOrigin", () => {
  it("takes the first X-Forwarded-Proto and -Host value, else Host and the socket", () => {
    expect(requestOrigin({ host: "10.0.0.5:3000" }, false)).toBe("http://10.0.0.5:3000");
    expect(requestOrigin({ host: "pin.acme.dev" }, true)).toBe("https://pin.acme.dev");
    expect(requestOrigin({ host: "x", "x-forwarded-host": "pin.acme.dev, proxy.local", "x-forwarded-proto": "https,http" }, false)).toBe(
      "https://pin.acme.dev",
    );
    expect(requestOrigin({ host: "[::1]:3000" }, false)).toBe("http://[::1]:3000");
    // An unknown protocol is ignored rather than believed.
    expect(requestOrigin({ host: "pin.acme.dev", "x-forwarded-proto": "javascript" }, false)).toBe("http://pin.acme.dev");
  });

  it("refuses hosts that are not a host[:port]", () => {
    for (const host of ["", "a b", "pin.acme.dev/path", "x'y", 'x"><script>', "user@pin.acme.dev", "pin.acme.dev:99999"]) {
      expect(requestOrigin({ host }, false)).toBeNull();
      expect(requestOrigin({ host: "ok.example", "x-forwarded-host": host || "a b" }, false)).toBeNull();
    }
  });
});

describe("the manifest", () => {
  const yml = parseAppYml("name: digest-pin\nurl: https://example.com\ndefault_events: [push]\nhook_attributes: { url: https://example.com/x }\npublic: false\n");

  it("takes the webhook URL from WEBHOOK_URL, then WEBHOOK_PROXY_URL, then the page's origin and WEBHOOK_PATH", () => {
    const origin = "https://pin.acme.dev";
    expect(appManifest(yml, setupSettings({ WEBHOOK_URL: "https://hooks.acme.dev/gh", WEBHOOK_PROXY_URL: "https://smee.io/x" }), origin).hook_attributes.url).toBe(
      "https://hooks.acme.dev/gh",
    );
    expect(appManifest(yml, setupSettings({ WEBHOOK_PROXY_URL: "https://smee.io/x" }), origin).hook_attributes.url).toBe("https://smee.io/x");
    expect(appManifest(yml, setupSettings({ WEBHOOK_PATH: "/hooks" }), origin)).toMatchObject({
      hook_attributes: { url: "https://pin.acme.dev/hooks", active: true },
      redirect_url: "https://pin.acme.dev/probot/setup",
      name: "digest-pin",
      default_events: ["push"],
    });
  });

  it("is private to GH_ORG, else public so that it can be installed on an organization", () => {
    expect(appManifest(yml, setupSettings({ GH_ORG: "acme" }), "https://x.dev").public).toBe(false);
    expect(appManifest(yml, setupSettings({}), "https://x.dev").public).toBe(true);
  });

  it("says when GitHub cannot deliver there", () => {
    expect(webhookTarget(setupSettings({}), "http://localhost:3000").unreachable).toMatch(/localhost/);
    expect(webhookTarget(setupSettings({}), "http://192.168.1.5:3000").unreachable).toMatch(/private/);
    expect(webhookTarget(setupSettings({}), "https://pin.acme.dev").unreachable).toBeNull();
    // GitHub Enterprise Server may share the private network, but never this machine's loopback.
    expect(webhookTarget(setupSettings({ GHE_HOST: "ghe.acme.dev" }), "http://192.168.1.5:3000").unreachable).toBeNull();
    expect(webhookTarget(setupSettings({ GHE_HOST: "ghe.acme.dev" }), "http://127.0.0.1:3000").unreachable).toMatch(/loopback/);
  });

  it("refuses an app.yml that is not a mapping", () => {
    expect(() => parseAppYml("- a\n- b\n")).toThrow(/mapping/);
    expect(() => parseAppYml("a: [\n")).toThrow(SetupError);
  });

  it("escapes app.yml text in the page", () => {
    const hostile = parseAppYml(`name: "x'\\"><script>1</script>"\nurl: https://example.com\n`);
    const settings = setupSettings({});
    const html = setupPage({
      name: "digest-pin",
      version: "1",
      manifest: appManifest(hostile, settings, "https://x.dev"),
      target: webhookTarget(settings, "https://x.dev"),
      action: createAppUrl(settings, "s"),
      org: null,
    });
    expect(html).not.toContain("<script>1");
    expect(html).toContain(escapeHtml(JSON.stringify(appManifest(hostile, settings, "https://x.dev"))));
  });
});
