// `npm start`: run the app. Without APP_ID/PRIVATE_KEY/WEBHOOK_SECRET Probot serves its setup page instead,
// which registers the app on GitHub from app.yml.
import { run } from "probot";
import { AppOctokit } from "../github/pacing.js";
import { app } from "./index.js";

// Probot's Octokit, throttling and retries on, with GraphQL queries paced as reads rather than writes.
await run(app, { Octokit: AppOctokit });
