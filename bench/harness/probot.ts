// What every in-process Probot of the tests and benchmarks shares: a throwaway app key, an Octokit pointed at the
// fake GitHub with Probot's retry and throttling off (Probot 14 ignores `throttle: { enabled: false }` as an object),
// and a plugin that notes which repository each request is for.
import { generateKeyPairSync } from "node:crypto";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";

let key: string | undefined;

/** An RSA key for the app's JWTs, made once per process. */
export function testPrivateKey(): string {
  key ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  return key;
}

/** ProbotOctokit without retries or throttling, at `baseUrl` when given. */
export function unthrottledOctokit(baseUrl?: string): typeof ProbotOctokit {
  return ProbotOctokit.defaults((o: Record<string, unknown>) => ({
    ...o,
    ...(baseUrl ? { baseUrl } : {}),
    retry: { enabled: false },
    throttle: { ...(o.throttle as object), enabled: false },
  }));
}

/** A Probot app (id 4242) with the test key and secret, using `Octokit` and logging to `log`. */
export function testProbot(Octokit: typeof ProbotOctokit, log: Logger): Probot {
  return new Probot({ appId: 4242, privateKey: testPrivateKey(), secret: "test-secret", Octokit, log });
}

export interface SentRequest {
  method: string;
  /** `METHOD url-template`, or `POST /graphql` for GraphQL (a full `…/api/graphql` URL on GitHub Enterprise). */
  route: string;
  /** `owner/name` (lower case) the request is for, GraphQL variables included; null for app-level requests. */
  repo: string | null;
}

type Hookable = { hook: { before: (name: "request", fn: (o: Record<string, unknown>) => void) => void } };

/** An Octokit plugin that appends every request to `sent`, so reads can be attributed per repository. */
export function requestRecorder(sent: SentRequest[]): (octokit: Hookable) => void {
  return (octokit) => {
    octokit.hook.before("request", (o) => {
      const variables = (o.variables ?? {}) as Record<string, unknown>;
      const owner = (o.owner ?? variables.owner) as string | undefined;
      const repo = (o.repo ?? variables.name) as string | undefined;
      const method = String(o.method ?? "GET").toUpperCase();
      const url = String(o.url ?? "");
      sent.push({
        method,
        route: /\/graphql$/.test(url) ? "POST /graphql" : `${method} ${url}`,
        repo: owner && repo ? `${owner}/${repo}`.toLowerCase() : null,
      });
    });
  };
}
