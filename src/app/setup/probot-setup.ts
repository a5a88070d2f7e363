// Probot's own setup app: it exchanges GitHub's code for the new app's credentials (`POST
// /app-manifests/{code}/conversions`) and writes them to .env, and saves an existing app's credentials posted from the
// import page. digest-pin wraps it rather than rewriting that part. Probot 14 does not export it, so it is imported by
// file from the installed package (probot is pinned to an exact version; test/e2e/setup.test.ts fails if it moves).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "probot";
import { SetupError } from "./manifest.js";

export type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | void | Promise<boolean | void>;

export interface ProbotSetupOptions {
  /** For Probot's welcome message. */
  host: string;
  port: number;
  log: Logger;
}

type SetupAppFactory = (options: ProbotSetupOptions) => () => Promise<Handler>;

/** Probot's setup request handler (true when it answered). */
export async function probotSetupHandler(options: ProbotSetupOptions): Promise<Handler> {
  const url = new URL("./apps/setup.js", import.meta.resolve("probot"));
  let factory: unknown;
  try {
    factory = ((await import(url.href)) as { setupAppFactory?: unknown }).setupAppFactory;
  } catch (error) {
    throw new SetupError("PROBOT_SETUP_MISSING", `Probot's setup app is not at ${url.href}`, { cause: error });
  }
  if (typeof factory !== "function") {
    throw new SetupError("PROBOT_SETUP_MISSING", `${url.href} no longer exports setupAppFactory`);
  }
  return (factory as SetupAppFactory)(options)();
}
