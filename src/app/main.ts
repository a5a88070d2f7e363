// `npm start`: run the app. Without APP_ID/PRIVATE_KEY/WEBHOOK_SECRET Probot serves its setup page instead,
// which registers the app on GitHub from app.yml.
import { run } from "probot";
import { app } from "./index.js";

await run(app);
