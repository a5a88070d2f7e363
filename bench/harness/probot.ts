// What every in-process Probot of the tests and benchmarks shares: a throwaway app key, and an Octokit pointed at the
// fake GitHub with Probot's retry and throttling off (Probot 14 ignores `throttle: { enabled: false }` as an object).
import { generateKeyPairSync } from "node:crypto";
import { ProbotOctokit } from "probot";

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
