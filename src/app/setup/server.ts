// Setup mode: what `npm start` serves until the app has credentials. Probot's `run()` would serve its own setup app,
// whose manifest cannot be given the right webhook URL or target (see manifest.ts), so this module starts Probot's
// Server itself with a handler that serves digest-pin's pages and hands the rest to Probot's setup app:
//   GET  /healthz, /readyz, /metrics   the ops endpoints (/readyz answers 503 until registered)
//   GET  /probot                       the manifest form (webhook URL, GH_ORG target, `state`)
//   GET  /probot/import, /probot/success   the existing-app page and the done page, with the real webhook URL
//   GET  /probot/setup?code&state      GitHub's return: `state` checked here, the code exchanged by Probot
//   POST /probot/import                an existing app's credentials: the page's `state` header checked here
// Once Probot has written the credentials to .env, the setup server stops and the app starts in the same process on
// the same port, so an installation made right after registering is not missed.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { parseEnv } from "node:util";
import { getPrivateKey } from "@probot/get-private-key";
import { Probot, Server, type Logger } from "probot";
import { readPackageFile } from "../../package-files.js";
import { createMetrics } from "../metrics.js";
import { opsHandler } from "../ops-routes.js";
import {
  appManifest,
  appSettingsUrl,
  createAppUrl,
  parseAppYml,
  requestOrigin,
  setupSettings,
  webhookTarget,
  type AppYml,
  type SetupSettings,
} from "./manifest.js";
import { probotSetupHandler, type Handler } from "./probot-setup.js";
import { errorPage, importPage, setupPage, successPage } from "./views.js";

/** Probot's Server needs some key to construct its (unused) Probot in setup mode, as its own `run()` does. */
const PLACEHOLDER_KEY = "setup mode: no key yet";

/**
 * Load `.env` from `cwd` into `env` the way Probot's `run()` does (its values win), then tell whether the app lacks
 * credentials and may serve the setup page. In production Probot refuses to start without them, and so do we:
 * `run()` then says which variable is missing.
 *
 * @example needsSetup({ NODE_ENV: "production" }) // false
 */
export function needsSetup(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): boolean {
  try {
    Object.assign(env, parseEnv(readFileSync(join(cwd, ".env"), "utf8")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (env.NODE_ENV === "production") return false;
  let key: string | null = null;
  try {
    key = getPrivateKey({ env, cwd });
  } catch {
    // An unreadable key is no key, as in Probot's run().
  }
  return !Number(env.APP_ID) || !key;
}

/** Probot's logger, made the way its `run()` makes it (level, format, message key, Sentry). */
async function probotLogger(env: NodeJS.ProcessEnv): Promise<Logger> {
  const logFormat = env.LOG_FORMAT ? (env.LOG_FORMAT === "pretty" ? "pretty" : "json") : env.NODE_ENV === "production" ? "json" : "pretty";
  const probot = new Probot({
    appId: 1,
    privateKey: PLACEHOLDER_KEY,
    logLevel: (env.LOG_LEVEL || "info") as "info",
    logFormat,
    logLevelInString: env.LOG_LEVEL_IN_STRING === "true",
    ...(env.LOG_MESSAGE_KEY ? { logMessageKey: env.LOG_MESSAGE_KEY } : {}),
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  });
  await probot.ready();
  return probot.log;
}

function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function html(res: ServerResponse, status: number, body: string): true {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(body);
  return true;
}

export interface SetupHandlerOptions {
  settings: SetupSettings;
  appYml: AppYml;
  name: string;
  version: string;
  /** The `state` the manifest form carries and GitHub returns. */
  state: string;
  /** Probot's setup app, for the code exchange and the import. */
  probot: Handler;
  /** Probot has written credentials to .env. */
  onRegistered: () => void;
}

/** The setup-mode request handler (see the top of this file). */
export function setupHandler(options: SetupHandlerOptions): Handler {
  const { settings, appYml, name, state } = options;
  const ops = opsHandler({
    metrics: createMetrics(),
    ready: async () => ({ ok: false, detail: "setup mode: the app is not registered yet; open /probot" }),
  });
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (await ops(req, res)) return true;
    const url = new URL(req.url ?? "/", "http://setup.invalid");
    const route = `${req.method} ${url.pathname}`;
    const originOf = () => requestOrigin(req.headers, Boolean((req.socket as TLSSocket).encrypted));
    switch (route) {
      case "GET /probot":
      case "GET /probot/import":
      case "GET /probot/success": {
        const origin = originOf();
        if (!origin) return html(res, 400, errorPage("Bad request", "The Host header does not name a valid host."));
        const manifest = appManifest(appYml, settings, origin);
        const target = webhookTarget(settings, origin);
        if (route === "GET /probot") {
          const action = createAppUrl(settings, state);
          return html(res, 200, setupPage({ name, version: options.version, manifest, target, action, org: settings.org }));
        }
        if (route === "GET /probot/import") {
          return html(res, 200, importPage({ name, manifest, target, settingsUrl: appSettingsUrl(settings), state }));
        }
        return html(res, 200, successPage(name, target));
      }
      case "GET /probot/setup":
        // Without it, any page could send the operator's browser here with a code for an app of its own.
        if (!sameSecret(url.searchParams.get("state"), state)) {
          return html(res, 400, errorPage("Not from this setup page", "The state GitHub returned does not match this page's; start again at /probot."));
        }
        break;
      case "POST /probot/import":
        if (!sameSecret(req.headers["x-digest-pin-setup"], state)) {
          res.writeHead(403, { "content-type": "text/plain; charset=utf-8" }).end("Use the form at /probot/import.\n");
          return true;
        }
        break;
    }
    const handled = await options.probot(req, res);
    const saved =
      (route === "GET /probot/setup" && res.statusCode === 302) || (route === "POST /probot/import" && res.statusCode === 200);
    if (saved) options.onRegistered();
    return handled;
  };
}

export interface RunSetupOptions {
  env?: NodeJS.ProcessEnv;
  /** Called once credentials are in .env and the setup server has stopped: start the app. */
  onRegistered: () => Promise<unknown>;
}

/**
 * Serve setup mode until the app is registered, then call `onRegistered`.
 *
 * @example if (needsSetup()) await runSetup({ onRegistered: () => run(app) }); else await run(app);
 */
export async function runSetup(options: RunSetupOptions): Promise<Server> {
  const env = options.env ?? process.env;
  const settings = setupSettings(env);
  const appYml = parseAppYml(readPackageFile("app.yml"));
  const pkg = JSON.parse(readPackageFile("package.json")) as { name: string; version: string };
  // Probot would make a smee.io relay channel when smee-client happens to be installed: webhooks through a third
  // party are the operator's choice (WEBHOOK_PROXY_URL), not a default.
  env.NO_SMEE_SETUP ??= "true";
  const log = await probotLogger(env);
  const server = new Server({
    ...(env.HOST ? { host: env.HOST } : {}),
    port: Number(env.PORT) || 3000,
    webhookPath: settings.webhookPath,
    log,
    Probot: Probot.defaults({ appId: 1, privateKey: PLACEHOLDER_KEY, log }),
  });
  const probot = await probotSetupHandler({ host: server.host, port: server.port, log: log.child({ name: "setup" }) });
  let switching = false;
  const onRegistered = () => {
    if (switching) return;
    switching = true;
    // After the answer has gone out: stop serving setup, then start the app on the same port.
    setImmediate(() => {
      server
        .stop()
        .then(() => {
          log.info("digest-pin is registered: starting the app with the credentials in .env (no restart needed)");
          return options.onRegistered();
        })
        .catch((error: unknown) => {
          log.fatal({ err: error }, "digest-pin could not start after registering; restart it");
          process.exitCode = 1;
        });
    });
  };
  const state = randomBytes(16).toString("hex");
  await server.loadHandlerFactory(() => setupHandler({ settings, appYml, name: pkg.name, version: pkg.version, state, probot, onRegistered }));
  await server.start();
  return server;
}
