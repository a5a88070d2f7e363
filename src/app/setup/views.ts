// The setup pages (pure: data in, HTML out). Every value is HTML-escaped: the manifest carries text from the request's
// Host header and from app.yml. Styles come from Probot's own stylesheet, served in setup mode at /probot/static/.

import type { AppManifest, WebhookTarget } from "./manifest.js";

/**
 * Text made safe for HTML element content and double-quoted attribute values.
 *
 * @example escapeHtml(`a<b "c"`) // "a&lt;b &quot;c&quot;"
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A JavaScript string literal that cannot end the <script> element it sits in. */
function jsString(text: string): string {
  return JSON.stringify(text).replace(/</g, "\\u003c");
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/probot/static/primer.css">
</head>
<body class="bg-gray-light">
<div class="container-md p-4">
<div class="Box p-4 bg-white">
${body}
</div>
</div>
</body>
</html>
`;
}

function webhookBlock(target: WebhookTarget): string {
  const warning = target.unreachable
    ? `<p class="flash flash-warn">GitHub cannot deliver webhooks there (${escapeHtml(target.unreachable)}). Set
<code>WEBHOOK_URL</code> to this app's public address (or <code>WEBHOOK_PROXY_URL</code> to a relay) and restart,
or change the webhook URL in the app's settings on GitHub later.</p>`
    : "";
  return `<p>Webhook URL: <code id="webhook-url">${escapeHtml(target.url)}</code> (from ${escapeHtml(target.source)}).</p>
${warning}`;
}

function listOf(manifest: AppManifest): { permissions: string; events: string } {
  const permissions = Object.entries((manifest.default_permissions ?? {}) as Record<string, unknown>)
    .map(([name, level]) => `<li><code>${escapeHtml(name)}</code>: ${escapeHtml(String(level))}</li>`)
    .join("\n");
  const events = ((manifest.default_events ?? []) as unknown[])
    .map((event) => `<li><code>${escapeHtml(String(event))}</code></li>`)
    .join("\n");
  return { permissions, events };
}

export interface SetupPageInput {
  name: string;
  version: string;
  manifest: AppManifest;
  target: WebhookTarget;
  /** The GitHub page the form posts to. */
  action: string;
  org: string | null;
}

/** The start page: a form that posts the manifest to GitHub's registration page. */
export function setupPage(input: SetupPageInput): string {
  const owner = input.org
    ? `on the organization <strong>${escapeHtml(input.org)}</strong>, private to it`
    : `on your personal account, <strong>public</strong> so that it can be installed on an organization (anyone can
install a public app: set <code>GH_ORG</code> and restart to register it on the organization instead)`;
  return page(
    `Register ${input.name}`,
    `<h1>Register ${escapeHtml(input.name)} <span class="Label">v${escapeHtml(input.version)}</span></h1>
<p>This registers a GitHub App ${owner}. GitHub asks for a name (app names are unique across GitHub), then
sends you back here; the app's id, private key and webhook secret are written to <code>.env</code> and the app starts.</p>
${webhookBlock(input.target)}
<form action="${escapeHtml(input.action)}" method="post">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(input.manifest))}">
<button class="btn btn-primary" type="submit">Register GitHub App</button>
<a href="/probot/import" class="ml-2">or use an existing GitHub App</a>
</form>`,
  );
}

export interface ImportPageInput {
  name: string;
  manifest: AppManifest;
  target: WebhookTarget;
  /** Where the app's settings are on GitHub. */
  settingsUrl: string;
  /** Sent back in a header with the form, proving it came from this page. */
  state: string;
}

/** The "existing app" page: what to set on GitHub, and a form for the app's id, secret and key. */
export function importPage(input: ImportPageInput): string {
  const { permissions, events } = listOf(input.manifest);
  return page(
    `Use an existing GitHub App with ${input.name}`,
    `<h1>Use an existing GitHub App</h1>
<h2 class="h3">1. On GitHub</h2>
<p>In <a href="${escapeHtml(input.settingsUrl)}" rel="noreferrer">the app's settings</a>:</p>
${webhookBlock(input.target)}
<p>Set a webhook secret, and grant these repository permissions:</p>
<ul class="ml-4">${permissions}</ul>
<p>Subscribe to these events (installation events are always delivered):</p>
<ul class="ml-4">${events}</ul>
<h2 class="h3 mt-4">2. Here</h2>
<form id="import">
<label for="appId">App ID</label>
<input class="form-control d-block" id="appId" required>
<label for="whs">Webhook secret</label>
<input class="form-control d-block" id="whs" type="password" required>
<label for="pem">Private key (.pem)</label>
<input class="form-control d-block" id="pem" type="file" accept=".pem" required>
<button class="btn btn-primary mt-2" type="submit">Save to .env and start</button>
</form>
<p id="result"></p>
<script>
document.getElementById("import").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = document.getElementById("result");
  try {
    const pem = await document.getElementById("pem").files[0].text();
    const response = await fetch("/probot/import", {
      method: "POST",
      headers: { "content-type": "application/json", "x-digest-pin-setup": ${jsString(input.state)} },
      body: JSON.stringify({ appId: document.getElementById("appId").value, pem, webhook_secret: document.getElementById("whs").value }),
    });
    result.textContent = response.ok
      ? ${jsString(`Saved to .env: ${input.name} is starting. Install the app on your organization from its page on GitHub.`)}
      : "Not saved: " + (await response.text());
  } catch (error) {
    result.textContent = "Not saved: " + error;
  }
});
</script>`,
  );
}

/** Shown at /probot/success while still in setup mode. */
export function successPage(name: string, target: WebhookTarget): string {
  return page(
    `${name} is registered`,
    `<h1>${escapeHtml(name)} is registered</h1>
${webhookBlock(target)}
<p>Install the app on your organization from its page on GitHub (all repositories, or the ones to keep pinned).</p>`,
  );
}

/** A refusal, in plain words. */
export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}
