// Docker credential helpers, run the way Docker runs them: `docker-credential-<name> get`, the server URL on stdin,
// `{"ServerURL","Username","Secret"}` on stdout; "credentials not found in native keychain" (exit 1) means none.
// Found on PATH only, no shell, bounded output and time, the environment passed through (helpers such as
// ecr-login and gcloud read their own credentials from it). What a helper prints on success is a secret: it goes
// into the returned credential and nowhere else, not even an error message.

import { spawn } from "node:child_process";
import { Inflight, TtlCache } from "./cache.js";
import type { Clock } from "./cache.js";
import type { Credential } from "./credentials.js";
import { cleanText, formatBytes } from "./response.js";
import { RegistryError } from "./types.js";

export interface HelperRunOptions {
  /** The helper's environment (PATH included, which is where it is looked for); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default 10 s; then the helper is killed. */
  timeoutMs?: number;
  /** Most stdout (and stderr) read; default 64 KiB, then the helper is killed. */
  maxOutputBytes?: number;
}

/** Docker's answer for "no credential for this server" (credentials.errCredentialsNotFoundMessage). */
const NOT_FOUND = "credentials not found in native keychain";
/** Docker's username for a Secret that is an identity token (an OAuth2 refresh token), not a password. */
const TOKEN_USERNAME = "<token>";
const HELPER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Whether `name` can follow `docker-credential-`: a plain file name, never a path. */
export function isHelperName(name: string): boolean {
  return HELPER_NAME_RE.test(name);
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Ask helper `docker-credential-<helper>` for `serverUrl`'s credential; undefined when it has none.
 *
 * @example await runCredentialHelper("ecr-login", "123456789012.dkr.ecr.us-east-1.amazonaws.com") // { username: "AWS", password: "…" }
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: HelperRunOptions = {},
): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  const where = `${program} (asked for ${serverUrl})`;
  if (!isHelperName(helper)) {
    throw new RegistryError("CREDENTIAL_HELPER_MISSING", `"${cleanText(helper, 100)}" is not a credential helper name`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxOutputBytes ?? 64 * 1024;
  const out = await run(program, serverUrl, options.env ?? process.env, timeoutMs, maxBytes, where);
  const stdout = out.stdout.toString("utf8");
  const stderr = out.stderr.toString("utf8");
  if (out.code !== 0) {
    if (stdout.trim() === NOT_FOUND || stderr.trim() === NOT_FOUND) return undefined;
    // Helpers built on Docker's library print their error on stdout; others on stderr. On failure it is a message.
    const detail = cleanText(stderr, 200) || (stdout.trimStart().startsWith("{") ? "" : cleanText(stdout, 200));
    const how = out.code === null ? `signal ${out.signal ?? "?"}` : `exit code ${out.code}`;
    throw new RegistryError("CREDENTIAL_HELPER_FAILED", `${where} failed (${how})${detail ? `: ${detail}` : ""}`);
  }
  return parseHelperAnswer(stdout, where);
}

/** The credential in a helper's stdout. Nothing of the text goes into an error: it may hold the secret. */
function parseHelperAnswer(stdout: string, where: string): Credential | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  const answer = json as { Username?: unknown; Secret?: unknown } | undefined;
  if (typeof answer !== "object" || answer === null || typeof answer.Secret !== "string") {
    throw new RegistryError(
      "CREDENTIAL_HELPER_FAILED",
      `${where} printed no credential (expected JSON with "Username" and "Secret")`,
    );
  }
  const username = typeof answer.Username === "string" ? answer.Username : "";
  if (answer.Secret === "") return undefined;
  if (username === TOKEN_USERNAME) return { username: "", password: "", identityToken: answer.Secret };
  return { username, password: answer.Secret };
}

/** Run the program with `input` on stdin; settles on exit, or rejects (killing it) on time-out or too much output. */
function run(
  program: string,
  input: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  maxBytes: number,
  where: string,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // No shell: a bare name is looked up on env.PATH only (a name with a slash never gets here).
    const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "pipe"], shell: false, windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = { stdout: 0, stderr: 0 };
    let settled = false;
    const finish = (error: RegistryError | null, outcome?: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        child.kill("SIGKILL");
        // A grandchild may still hold the pipes open: stop reading rather than wait for it.
        child.stdout.destroy();
        child.stderr.destroy();
        reject(error);
      } else if (outcome) {
        resolve(outcome);
      }
    };
    const timer = setTimeout(
      () => finish(new RegistryError("CREDENTIAL_HELPER_TIMEOUT", `${where} gave no answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const collect = (name: "stdout" | "stderr", into: Buffer[]) => (chunk: Buffer) => {
      sizes[name] += chunk.length;
      if (sizes[name] > maxBytes) {
        finish(new RegistryError("CREDENTIAL_HELPER_FAILED", `${where} printed more than ${formatBytes(maxBytes)}`));
        return;
      }
      into.push(chunk);
    };
    child.stdout.on("data", collect("stdout", stdout));
    child.stderr.on("data", collect("stderr", stderr));
    child.on("error", (error: NodeJS.ErrnoException) => {
      const missing = error.code === "ENOENT";
      const message = missing
        ? `${program} is not on PATH: install it, or change the credsStore / credHelpers entry that names it ` +
          `(wanted for ${input})`
        : `cannot run ${where}: ${error.code ?? cleanText(error.message, 100)}`;
      const failure = new RegistryError(missing ? "CREDENTIAL_HELPER_MISSING" : "CREDENTIAL_HELPER_FAILED", message, undefined, {
        cause: error,
      });
      finish(failure);
    });
    child.on("close", (code, signal) => {
      finish(null, { code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
    // A helper that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

export interface CredentialHelperOptions extends HelperRunOptions {
  /** How long an answer (a credential, or "none") is reused; default 5 minutes. Infinity: the process's life. */
  ttlMs?: number;
  now?: Clock;
}

type Answer = { credential: Credential | undefined } | { error: unknown };

/** A failure is remembered this long at most, so a broken helper is not run again for every reference. */
const FAILURE_TTL_MS = 30_000;

/**
 * Credential helper answers, asked lazily and at most once per helper and server URL while the answer lasts;
 * concurrent asks share one run. Keys are helper names and server URLs, never anything a helper printed.
 *
 * @example await new CredentialHelpers({ ttlMs: Infinity }).get("gcloud", "us-docker.pkg.dev")
 */
export class CredentialHelpers {
  private readonly answers: TtlCache<string, Answer>;
  private readonly running = new Inflight<string, Answer>();
  private readonly ttlMs: number;
  /** How many times a helper was actually run. */
  runs = 0;

  constructor(private readonly options: CredentialHelperOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.answers = new TtlCache<string, Answer>(this.ttlMs, 1_000, options.now);
  }

  async get(helper: string, serverUrl: string): Promise<Credential | undefined> {
    const key = `${helper}\n${serverUrl}`;
    const answer =
      this.answers.get(key) ??
      (await this.running.run(key, async () => {
        this.runs++;
        let fresh: Answer;
        try {
          fresh = { credential: await runCredentialHelper(helper, serverUrl, this.options) };
          this.answers.set(key, fresh);
        } catch (error) {
          fresh = { error };
          this.answers.set(key, fresh, Math.min(this.ttlMs, FAILURE_TTL_MS));
        }
        return fresh;
      }));
    if ("error" in answer) throw answer.error;
    return answer.credential;
  }
}
