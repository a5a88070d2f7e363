// `npm start`: run the app. Without APP_ID/PRIVATE_KEY/WEBHOOK_SECRET it serves the setup page instead (setup/server.ts),
// which registers the app on GitHub and then starts it.
import { run } from "probot";
import { AppOctokit } from "../github/pacing.js";
import { app } from "./index.js";
import { needsSetup, runSetup } from "./setup/server.js";

// Probot's Octokit, throttling and retries on, with GraphQL queries paced as reads rather than writes.
const start = () => run(app, { Octokit: AppOctokit });
if (needsSetup()) await runSetup({ onRegistered: start });
else await start();
