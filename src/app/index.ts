// Probot wiring only: which events lead to which work. Handlers enqueue and return at once.
import { randomUUID } from "node:crypto";
import type { ApplicationFunction, Probot } from "probot";
import { isDockerfilePath } from "../dockerfile/files.js";
import type { Scanner } from "../dockerfile/scan.js";
import { CONFIG_PATH } from "../github/config.js";
import { enableConditionalRequests, MemoryConditionalCache } from "../github/conditional.js";
import { branchFor, type Octokit } from "../github/files.js";
import { instrumentOctokit } from "../github/instrument.js";
import { inlineCode, inlineText } from "../github/markdown.js";
import { postedError } from "../github/posted.js";
import { MemoryJobQueue } from "../jobs/memory-queue.js";
import { connectRedis } from "../jobs/redis.js";
import { RedisJobQueue } from "../jobs/redis-queue.js";
import { parseInterval, startSchedule } from "../jobs/schedule.js";
import type { JobQueue, KeyValueStore } from "../jobs/types.js";
import { RegistryClient, registryOptionsFromEnv } from "../registry/client.js";
import { parseTimeout, retiredSettings, setting } from "../registry/options.js";
import { MemoResolver, SharedRunResolver } from "../registry/shared.js";
import type { Resolver } from "../registry/types.js";
import { MemoryStore, RedisStore } from "../state/store.js";
import { canRunCommands, HELP, isBot, parseCommand } from "./commands.js";
import { listFleet, listInstallation } from "./drift-check.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { opsHandler } from "./ops-routes.js";
import { RepoStateCache } from "./repo-state.js";
import { scanRepository, summarize, type ScanOutcome, type ScanRequest } from "./scan-repository.js";
import { ORG_CONFIG_REPO } from "./config-layers.js";
import { RunConfigFiles } from "./run-config-files.js";
import { TagHistory } from "../state/tag-history.js";

export interface ScanJob extends ScanRequest {
  recreate: boolean;
  /** Issues or PRs waiting for a summary reply. */
  replyTo: number[];
  /**
   * The run of many repositories this job belongs to (a drift check, an installation's scan): its registry answers
   * are shared by that run's jobs, and only by them. Without it the job is a run of its own.
   */
  runId?: string;
  /** The webhook delivery that asked for it, for the logs. */
  delivery?: string;
}

export interface AppOptions {
  /** Where settings come from (default process.env): REDIS_URL, DIGEST_PIN_INTERVAL, registry settings. */
  env?: NodeJS.ProcessEnv;
  resolver?: Resolver;
  concurrency?: number;
  /** The budget of one scan's registry work (default DIGEST_PIN_SCAN_TIMEOUT, else SCAN_TIMEOUT_MS: 5 minutes). */
  scanTimeoutMs?: number;
  metrics?: Metrics;
  /** Exposed for tests: the Dockerfile scanner (default scanDockerfile). */
  scanner?: Scanner;
  /** Exposed for tests: told each scan's outcome (e.g. the plan, to compare with the CLI's). */
  onScanned?: (job: ScanJob, outcome: ScanOutcome) => void;
  /** Exposed for tests: the queue the handlers feed. */
  onQueue?: (queue: JobQueue<ScanJob>) => void;
  /** Exposed for tests and benchmarks: run a drift check now (it only queues; wait on the queue for the work). */
  onDriftCheck?: (run: () => Promise<void>) => void;
  /** Exposed for tests: the clock scans plan with (schedules, minimumAge). */
  now?: () => number;
}

/** A run's memo unused for this long is dropped: the run is over by then. */
const MEMO_TTL_MS = 30 * 60 * 1000;

/**
 * How long a webhook's answer waits for a write made while handling it (the 👀 reaction, a refusal). Octokit paces an
 * installation's writes at one a second, so under load such a write queues for seconds while GitHub gives a delivery
 * 10 s: past this wait the write finishes after the answer, and a failure is logged instead of losing the command.
 */
const HANDLER_WRITE_WAIT_MS = 300;

/**
 * A command comment is obeyed once, however often its delivery arrives: GitHub redelivers deliveries up to 3 days old,
 * and anyone who captured a signed body can send it again.
 */
const COMMAND_MEMORY_MS = 3 * 24 * 3600 * 1000;

/**
 * A person without write access is told so at most once an hour on an issue, however many commands they post: the
 * app's voice is not theirs to make repeat itself (SECURITY.md promises one reply).
 */
const REFUSAL_INTERVAL_MS = 3600 * 1000;

function boundedWrite(write: Promise<unknown>, onError: (error: unknown) => void): Promise<void> {
  const done = write.then(() => undefined, onError);
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, HANDLER_WRITE_WAIT_MS)));
  return Promise.race([done, waited]).finally(() => clearTimeout(timer));
}

/** `load` run once (with the first caller's arguments); a failure is not remembered, so the next call asks again. */
function once<A extends unknown[], T>(load: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let value: Promise<T> | undefined;
  return (...args) => {
    value ??= load(...args).catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

/** The app's login, `<slug>[bot]`, read once from GitHub. */
function botLoginOf(probot: Probot): () => Promise<string> {
  return once(async () => {
    const octokit = await probot.auth();
    const { data } = await octokit.rest.apps.getAuthenticated();
    return `${data?.slug ?? "digest-pin"}[bot]`;
  });
}

/**
 * The account id of the app's bot user, read once from its public profile (an app's token cannot read it from
 * `/app`). GitHub puts it in the email of every commit the app makes: see ownership.ts.
 */
function botIdOf(): (octokit: Octokit, login: string) => Promise<number> {
  return once(async (octokit: Octokit, login: string) => (await octokit.rest.users.getByUsername({ username: login })).data.id);
}

function outcomeMetric(outcome: ScanOutcome) {
  if (outcome.status === "done") return outcome.sync.action;
  if (outcome.status === "config-error") return "config_error" as const;
  if (outcome.status === "cached") return "unchanged" as const;
  return "skipped" as const;
}

/** A GitHub rate-limit answer: when it resets, in ms from now. */
function rateLimitReset(error: unknown): number | null {
  const e = error as { status?: number; response?: { headers?: Record<string, string | undefined> } };
  if (e?.status !== 403 && e?.status !== 429) return null;
  const headers = e.response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  if (headers["x-ratelimit-remaining"] === "0") {
    const reset = Number(headers["x-ratelimit-reset"]) * 1000;
    return Number.isFinite(reset) ? Math.max(1000, reset - Date.now()) : 60_000;
  }
  return null;
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  return (probot, { addHandler }) => {
    const env = options.env ?? process.env;
    const redisUrl = env.REDIS_URL || undefined;
    const metrics = options.metrics ?? createMetrics();
    const log = probot.log;

    const redis = redisUrl ? connectRedis(redisUrl, { name: "digest-pin:app", onError: (e) => log.warn({ err: e }, "redis") }) : null;
    addHandler(
      opsHandler({
        metrics,
        ready: async () => {
          if (!redis) return { ok: true };
          try {
            await redis.ping();
            return { ok: true };
          } catch (error) {
            return { ok: false, detail: `redis unreachable: ${(error as Error).message}` };
          }
        },
      }),
    );

    const store: KeyValueStore = redis
      ? new RedisStore({ redis, prefix: "digest-pin:state:" })
      : new MemoryStore({ maxEntries: 50_000 });
    const states = new RepoStateCache(store);
    for (const message of retiredSettings(env)) log.warn(message);
    const scanTimeout = setting(env, "DIGEST_PIN_SCAN_TIMEOUT");
    const scanTimeoutMs =
      options.scanTimeoutMs ?? (scanTimeout === undefined ? undefined : parseTimeout(scanTimeout, "DIGEST_PIN_SCAN_TIMEOUT"));
    const client =
      options.resolver ??
      new RegistryClient({
        ...registryOptionsFromEnv(env),
        onRequest: (info) => metrics.registryRequest(info),
      });
    // Every run reads each tag it needs from its registry, because a tag can move at any moment: a command's or a
    // push's job gets a memo of its own, and the jobs of a drift check or of an installation's scan share their run's
    // (each distinct question asked once for the fleet; with Redis, once for the replicas running its jobs). Nothing
    // is carried over to the next run.
    const runs = new Map<string, { resolver: MemoResolver; at: number }>();
    const resolverFor = (job: ScanJob): Resolver => {
      if (!job.runId) return new MemoResolver(client);
      const now = Date.now();
      for (const [id, memo] of runs) if (now - memo.at > MEMO_TTL_MS) runs.delete(id);
      let memo = runs.get(job.runId);
      if (!memo) {
        const shared = redis ? new SharedRunResolver(client, store, job.runId, MEMO_TTL_MS) : client;
        runs.set(job.runId, (memo = { resolver: new MemoResolver(shared), at: now }));
      }
      memo.at = now; // a run still going keeps its memo, however long its writes take
      return memo.resolver;
    };
    const configFiles = new RunConfigFiles(MEMO_TTL_MS);
    const history = new TagHistory(store, options.now);
    const conditional = new MemoryConditionalCache();
    const prepare = (octokit: Octokit, namespace: string) => {
      instrumentOctokit(octokit, (info) => metrics.githubRequest(info));
      enableConditionalRequests(octokit, conditional, { namespace });
    };
    const botLogin = botLoginOf(probot);
    const botId = botIdOf();

    const run = async (job: ScanJob): Promise<void> => {
      const started = Date.now();
      const jobLog = log.child({
        repository: `${job.owner}/${job.repo}`,
        installation: job.installationId,
        ...(job.delivery ? { delivery: job.delivery } : {}),
        ...(job.runId ? { run: job.runId } : {}),
      });
      const octokit = (await probot.auth(job.installationId)) as Octokit;
      prepare(octokit, `installation:${job.installationId}`);
      let reply: string;
      try {
        const login = await botLogin();
        const outcome = await scanRepository(octokit, job, {
          resolver: resolverFor(job),
          botLogin: login,
          bot: async () => ({ login, id: await botId(octokit, login) }),
          states,
          history,
          readConfigFile: configFiles.readerFor(`${job.installationId}:${job.runId ?? job.delivery ?? randomUUID()}`, octokit),
          ...(options.now ? { now: options.now } : {}),
          ...(options.scanner ? { scanner: options.scanner } : {}),
          ...(scanTimeoutMs === undefined ? {} : { scanTimeoutMs }),
        });
        metrics.scanFinished(outcomeMetric(outcome));
        options.onScanned?.(job, outcome);
        if (outcome.status === "done") metrics.referencesCounted(outcome.plan);
        jobLog.info(
          outcome.status === "done"
            ? { action: outcome.sync.action, changes: outcome.plan.changes.length, errors: outcome.plan.errors.length }
            : { status: outcome.status },
          "scan finished",
        );
        reply = summarize(outcome);
      } catch (error) {
        metrics.scanFinished("failed");
        const wait = rateLimitReset(error);
        if (wait !== null) {
          // Out of GitHub budget: this work waits for the reset instead of failing.
          jobLog.warn({ retryInMs: wait }, "GitHub rate limit reached; the scan waits for the reset");
          setTimeout(() => void queue.push(job).catch(() => undefined), Math.min(wait, 3_600_000)).unref();
          return;
        }
        jobLog.error({ err: error }, "scan failed");
        reply =
          `digest-pin could not finish the scan: ${inlineText(postedError((error as Error).message))}. ` +
          "It will try again on the next trigger.";
        if (job.replyTo.length === 0) throw error;
      } finally {
        metrics.observeJob(job.drift ? "drift" : "scan", (Date.now() - started) / 1000);
      }
      for (const issue of new Set(job.replyTo)) {
        await octokit.rest.issues.createComment({ owner: job.owner, repo: job.repo, issue_number: issue, body: reply });
      }
    };

    const queueOptions = {
      concurrency: options.concurrency ?? Number(env.DIGEST_PIN_CONCURRENCY || 4),
      keyOf: (j: ScanJob) => `${j.installationId}/${j.owner}/${j.repo}`.toLowerCase(),
      groupOf: (j: ScanJob) => String(j.installationId),
      // A webhook's full scan wins over a drift check's shortcut; replies and flags add up.
      merge: (a: ScanJob, b: ScanJob): ScanJob => ({
        ...a,
        ...b,
        recreate: a.recreate || b.recreate,
        configTouched: Boolean(a.configTouched || b.configTouched),
        drift: Boolean(a.drift && b.drift),
        // Merged with a command or a push (a run of its own), the job reads afresh; of two runs, the later one's.
        runId: a.runId && b.runId ? b.runId : undefined,
        replyTo: [...a.replyTo, ...b.replyTo],
      }),
      run,
      onError: (error: unknown, job: ScanJob) => log.error({ err: error, repository: `${job.owner}/${job.repo}` }, "job failed"),
    };
    // How long a replica may go silent before its running job is given to another (BullMQ's job lock).
    const jobLockMs = Number(env.DIGEST_PIN_JOB_LOCK_MS) || undefined;
    const queue: JobQueue<ScanJob> = redisUrl
      ? new RedisJobQueue<ScanJob>({
          ...queueOptions,
          url: redisUrl,
          onQueueError: (e) => log.warn({ err: e }, "queue"),
          ...(jobLockMs ? { lockDurationMs: jobLockMs, lockTtlMs: jobLockMs } : {}),
        })
      : new MemoryJobQueue<ScanJob>(queueOptions);
    metrics.setQueueDepthSource(() => queue.size());
    options.onQueue?.(queue);

    const enqueue = (installationId: number, fullName: string, extra: Partial<ScanJob> = {}) => {
      const [owner = "", repo = ""] = fullName.split("/");
      return queue.push({ installationId, owner, repo, recreate: false, replyTo: [], ...extra });
    };

    const driftCheck = async () => {
      const runId = randomUUID();
      const targets = await listFleet(probot, {
        log,
        // Per installation: every installation lists the same URL (/installation/repositories), and a shared entry
        // would hand each one the other's ETag, so that no listing ever came back 304.
        prepare: (octokit, installationId) =>
          prepare(octokit, installationId === undefined ? "app" : `installation:${installationId}`),
      });
      for (const { installationId, repository: r } of targets) {
        await queue.push({
          installationId,
          owner: r.owner,
          repo: r.repo,
          recreate: false,
          replyTo: [],
          drift: true,
          runId,
          defaultBranch: r.defaultBranch,
          pushedAt: r.pushedAt,
        });
      }
      log.info({ repositories: targets.length, run: runId }, "drift check queued");
    };
    options.onDriftCheck?.(driftCheck);

    const rescanInstallation = async (installationId: number, delivery: string) => {
      const octokit = (await probot.auth(installationId)) as Octokit;
      prepare(octokit, `installation:${installationId}`);
      for (const r of await listInstallation(octokit)) {
        await queue.push({ installationId, owner: r.owner, repo: r.repo, recreate: false, replyTo: [], defaultBranch: r.defaultBranch, configTouched: true, delivery });
      }
    };
    startSchedule({
      name: "digest-pin:drift",
      intervalMs: parseInterval(env.DIGEST_PIN_INTERVAL),
      redisUrl,
      run: driftCheck,
      onError: (error) => log.error({ err: error }, "drift check failed"),
    });

    probot.on(["installation.created", "installation_repositories.added"], async (context) => {
      const payload = context.payload;
      const repos = "repositories_added" in payload ? payload.repositories_added : (payload.repositories ?? []);
      // One run for the delivery's repositories: each distinct tag is read once for all of them.
      const runId = randomUUID();
      for (const r of repos) await enqueue(payload.installation.id, r.full_name, { delivery: context.id, runId });
    });

    probot.on("push", async (context) => {
      const { payload } = context;
      if (!payload.installation) return;
      if (payload.deleted || payload.ref !== `refs/heads/${payload.repository.default_branch}`) return;
      const touched = payload.commits.flatMap((c) => [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]);
      // An empty list (a force push, or more commits than the payload carries) may touch anything.
      const unknown = payload.commits.length === 0;
      const configTouched = unknown || touched.includes(CONFIG_PATH);
      if (configTouched && payload.repository.name === ORG_CONFIG_REPO) {
        // The organization's defaults changed: every repository of the installation plans again (one read each).
        await rescanInstallation(payload.installation.id, context.id);
      }
      if (configTouched || touched.some((path) => isDockerfilePath(path))) {
        await enqueue(payload.installation.id, payload.repository.full_name, {
          defaultBranch: payload.repository.default_branch,
          configTouched,
          delivery: context.id,
        });
      }
    });

    probot.on("issue_comment.created", async (context) => {
      const { payload } = context;
      if (!payload.installation || isBot(payload.comment.user ?? undefined) || isBot(payload.sender)) return;
      const command = parseCommand(payload.comment.body);
      if (command === null) return;
      const handled = `command:${payload.installation.id}:${payload.comment.id}`;
      if (await store.get(handled)) return;
      // Remembered once the command is answered (a refusal, or queued); a delivery that failed before may come again.
      const answered = () => store.set(handled, context.id, COMMAND_MEMORY_MS);
      const issueNumber = payload.issue.number;
      // Not context.octokit: Probot paces the writes of every event's client under one key, so one 👀 a second across
      // all installations; a client of the installation is paced with that installation's own writes.
      const octokit = (await probot.auth(payload.installation.id)) as Octokit;
      const failed = (what: string) => (error: unknown) =>
        log.warn({ err: error, repository: payload.repository.full_name, delivery: context.id }, `${what} failed`);
      const reply = async (body: string) => {
        await answered();
        await boundedWrite(octokit.rest.issues.createComment(context.issue({ body })), failed("reply"));
      };

      const author = payload.comment.user ?? payload.sender;
      const permission = await octokit.rest.repos
        .getCollaboratorPermissionLevel(context.repo({ username: author.login }))
        .then(
          ({ data }) => ({ permission: data.permission, role: data.role_name }),
          (error: { status?: number }) => {
            // Not a collaborator at all: the API answers 404.
            if (error.status === 404) return { permission: "none", role: undefined };
            throw error;
          },
        );
      if (!canRunCommands(permission.permission, permission.role)) {
        const refused = `refusal:${payload.installation.id}:${payload.repository.id}:${issueNumber}:${author.id}`;
        if (!(await store.setIfAbsent(refused, context.id, REFUSAL_INTERVAL_MS))) {
          log.info(
            { repository: payload.repository.full_name, issue: issueNumber, user: author.login, delivery: context.id },
            "command from a user without write access ignored: already told within the hour",
          );
          await answered();
          return;
        }
        await reply(
          `@${author.login} digest-pin commands need write access to this repository; yours is \`${permission.permission}\`.`,
        );
        return;
      }
      if (command.name === "unknown") {
        await reply(`Unknown command ${inlineCode(command.text.slice(0, 100))}.\n\n${HELP}`);
        return;
      }
      if (command.name === "recreate") {
        const bot = await botLogin();
        const pull = payload.issue.pull_request
          ? (await octokit.rest.pulls.get(context.repo({ pull_number: issueNumber }))).data
          : null;
        if (!pull || pull.user?.login !== bot || !pull.head.ref.startsWith(branchFor(""))) {
          await reply("`/digest-pin recreate` works only on digest-pin's own pull request. Use `/digest-pin rescan` here.");
          return;
        }
      }
      await boundedWrite(
        octokit.rest.reactions.createForIssueComment(
          context.repo({ comment_id: payload.comment.id, content: "eyes" as const }),
        ),
        failed("reaction"),
      );
      await enqueue(payload.installation.id, payload.repository.full_name, {
        defaultBranch: payload.repository.default_branch,
        recreate: command.name === "recreate",
        replyTo: [issueNumber],
        delivery: context.id,
      });
      await answered();
    });
  };
}

export const app = createApp();
export default app;
