// Probot wiring only: which events lead to which work. Handlers enqueue and return at once.
import type { ApplicationFunction, Probot } from "probot";
import { isDockerfilePath } from "../dockerfile/files.js";
import { CONFIG_PATH } from "../github/config.js";
import type { Octokit } from "../github/files.js";
import { branchFor } from "../github/pull-request.js";
import { WorkQueue } from "../jobs/queue.js";
import { RegistryClient, registryOptionsFromEnv } from "../registry/client.js";
import type { Resolver } from "../registry/types.js";
import { canRunCommands, HELP, isBot, parseCommand } from "./commands.js";
import { scanRepository, summarize, type Services } from "./scan-repository.js";

export interface ScanJob {
  installationId: number;
  owner: string;
  repo: string;
  recreate: boolean;
  /** Issues or PRs waiting for a summary reply. */
  replyTo: number[];
}

export interface AppOptions {
  resolver?: Resolver;
  concurrency?: number;
  /** Exposed for tests: the queue the handlers feed. */
  onQueue?: (queue: WorkQueue<ScanJob>) => void;
}

/** The app's login, `<slug>[bot]`, read once from GitHub. */
function botLoginOf(probot: Probot): () => Promise<string> {
  let login: Promise<string> | undefined;
  return () => {
    login ??= (async () => {
      const octokit = await probot.auth();
      const { data } = await octokit.rest.apps.getAuthenticated();
      return `${data?.slug ?? "digest-pin"}[bot]`;
    })().catch((error: unknown) => {
      login = undefined;
      throw error;
    });
    return login;
  };
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  return (probot, { addHandler }) => {
    addHandler((req, res) => {
      if (req.url !== "/healthz") return false;
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return true;
    });

    const resolver = options.resolver ?? new RegistryClient(registryOptionsFromEnv(process.env));
    const botLogin = botLoginOf(probot);

    const run = async (job: ScanJob) => {
      const log = probot.log.child({ repository: `${job.owner}/${job.repo}`, installation: job.installationId });
      const octokit = (await probot.auth(job.installationId)) as Octokit;
      const services: Services = { resolver, botLogin: await botLogin() };
      let reply: string;
      try {
        const outcome = await scanRepository(octokit, job, services);
        log.info(
          outcome.status === "done"
            ? { action: outcome.sync.action, changes: outcome.plan.changes.length, errors: outcome.plan.errors.length }
            : { status: outcome.status },
          "scan finished",
        );
        reply = summarize(outcome);
      } catch (error) {
        log.error({ err: error }, "scan failed");
        reply = `digest-pin could not finish the scan: ${(error as Error).message}. It will try again on the next trigger.`;
        if (job.replyTo.length === 0) throw error;
      }
      for (const issue of new Set(job.replyTo)) {
        await octokit.rest.issues.createComment({ owner: job.owner, repo: job.repo, issue_number: issue, body: reply });
      }
    };

    const queue = new WorkQueue<ScanJob>({
      concurrency: options.concurrency ?? 4,
      keyOf: (j) => `${j.installationId}/${j.owner}/${j.repo}`.toLowerCase(),
      groupOf: (j) => String(j.installationId),
      merge: (a, b) => ({ ...a, recreate: a.recreate || b.recreate, replyTo: [...a.replyTo, ...b.replyTo] }),
      run,
      onError: (error, job) => probot.log.error({ err: error, repository: `${job.owner}/${job.repo}` }, "job failed"),
    });
    options.onQueue?.(queue);

    const enqueue = (installationId: number, fullName: string, extra: Partial<ScanJob> = {}) => {
      const [owner = "", repo = ""] = fullName.split("/");
      queue.push({ installationId, owner, repo, recreate: false, replyTo: [], ...extra });
    };

    probot.on(["installation.created", "installation_repositories.added"], async (context) => {
      const payload = context.payload;
      const repos = "repositories_added" in payload ? payload.repositories_added : (payload.repositories ?? []);
      for (const r of repos) enqueue(payload.installation.id, r.full_name);
    });

    probot.on("push", async (context) => {
      const { payload } = context;
      if (!payload.installation) return;
      if (payload.deleted || payload.ref !== `refs/heads/${payload.repository.default_branch}`) return;
      const touched = payload.commits.flatMap((c) => [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]);
      // An empty list (a force push, or more commits than the payload carries) may touch anything.
      const relevant =
        payload.commits.length === 0 || touched.some((path) => path === CONFIG_PATH || isDockerfilePath(path));
      if (relevant) enqueue(payload.installation.id, payload.repository.full_name);
    });

    probot.on("issue_comment.created", async (context) => {
      const { payload } = context;
      if (!payload.installation || isBot(payload.comment.user ?? undefined) || isBot(payload.sender)) return;
      const command = parseCommand(payload.comment.body);
      if (command === null) return;
      const issueNumber = payload.issue.number;
      const reply = (body: string) => context.octokit.rest.issues.createComment(context.issue({ body }));

      const permission = await context.octokit.rest.repos
        .getCollaboratorPermissionLevel(context.repo({ username: payload.comment.user?.login ?? payload.sender.login }))
        .then(
          ({ data }) => ({ permission: data.permission, role: data.role_name }),
          (error: { status?: number }) => {
            // Not a collaborator at all: the API answers 404.
            if (error.status === 404) return { permission: "none", role: undefined };
            throw error;
          },
        );
      if (!canRunCommands(permission.permission, permission.role)) {
        await reply(
          `@${payload.sender.login} digest-pin commands need write access to this repository; yours is \`${permission.permission}\`.`,
        );
        return;
      }
      if (command.name === "unknown") {
        await reply(`Unknown command \`${command.text.slice(0, 100)}\`.\n\n${HELP}`);
        return;
      }
      if (command.name === "recreate") {
        const bot = await botLogin();
        const pull = payload.issue.pull_request
          ? (await context.octokit.rest.pulls.get(context.repo({ pull_number: issueNumber }))).data
          : null;
        if (!pull || pull.user?.login !== bot || !pull.head.ref.startsWith(branchFor(""))) {
          await reply("`/digest-pin recreate` works only on digest-pin's own pull request. Use `/digest-pin rescan` here.");
          return;
        }
      }
      await context.octokit.rest.reactions.createForIssueComment(
        context.repo({ comment_id: payload.comment.id, content: "eyes" as const }),
      );
      enqueue(payload.installation.id, payload.repository.full_name, {
        recreate: command.name === "recreate",
        replyTo: [issueNumber],
      });
    });
  };
}

export const app = createApp();
export default app;
