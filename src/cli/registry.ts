// The registry client of one CLI run: the environment's settings plus the flags, each malformed value reported under
// the name the user gave it (`--mirror`, or `DIGEST_PIN_REGISTRY_MIRRORS` when it came from there).

import { RegistryClient, registryOptionsFromEnv } from "../registry/client.js";
import { parseInsecureRegistries, parseMirrors } from "../registry/options.js";
import { INSECURE_HINT } from "../registry/policy.js";
import type { Values } from "./args.js";

/**
 * A client for this run: the environment's registry settings (DIGEST_PIN_INSECURE_REGISTRIES, …), to which the
 * flags add; `--auth-file` replaces REGISTRY_AUTH_FILE. Throws RegistryConfigError naming the flag or variable.
 *
 * @example const client = clientFromFlags({ "insecure-registry": ["localhost:5000"], mirror: [] }, process.env)
 */
export function clientFromFlags(
  flags: Pick<Values, "insecure-registry" | "mirror" | "auth-file">,
  env: NodeJS.ProcessEnv,
): RegistryClient {
  const options = registryOptionsFromEnv(env);
  const insecure = [...(options.insecureRegistries ?? [])];
  for (const value of flags["insecure-registry"]) insecure.push(...parseInsecureRegistries(value, "--insecure-registry"));
  const mirrors = new Map(options.mirrors);
  for (const value of flags.mirror) for (const [registry, mirror] of parseMirrors(value, "--mirror")) mirrors.set(registry, mirror);
  return new RegistryClient({
    ...options,
    insecureRegistries: insecure,
    mirrors,
    ...(flags["auth-file"] !== undefined ? { authFile: flags["auth-file"] } : {}),
    // One run of the command: a credential helper's answer is good for all of it (ECR tokens last 12 h).
    credentialHelpers: { ...options.credentialHelpers, ttlMs: Infinity },
  });
}

/**
 * A registry message as the CLI's user should read it: a refused host is allowed with the flag (the app's operator
 * is told about DIGEST_PIN_INSECURE_REGISTRIES instead).
 *
 * @example forCli("refused 10.0.0.1: … ; list it in DIGEST_PIN_INSECURE_REGISTRIES to allow it")
 *   // "refused 10.0.0.1: … ; allow it with --insecure-registry HOST[:PORT]"
 */
export function forCli(message: string): string {
  return message.split(INSECURE_HINT).join("allow it with --insecure-registry HOST[:PORT]");
}
