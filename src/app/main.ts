// `npm start`: run the app. Without APP_ID/PRIVATE_KEY/WEBHOOK_SECRET it serves the setup page instead (setup/server.ts),
// which registers the app on GitHub and then starts it.
import { run } from "probot";
import { app } from "./index.js";
import { needsSetup, runSetup } from "./setup/server.js";

const start = () => run(app);
if (needsSetup()) await runSetup({ onRegistered: start });
else await start();
