// The command-line tool: digest-pin scan|resolve|pin|check.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Scanner } from "./dockerfile/scan.js";
import { findDockerfiles, WalkError } from "./local/walk.js";
import { writePlan } from "./local/write.js";
import { planFiles, scanFile } from "./engine.js";
import type { Plan, ScannedFile } from "./plan.js";
import { formatReference, imageName, parseReference } from "./reference.js";
import { RegistryClient, registryOptionsFromEnv } from "./registry/client.js";
import { RegistryError } from "./registry/types.js";
import { renderPlan, renderScan, scanJson, planJson } from "./cli-output.js";
import { safeJson, visible } from "./visible.js";
import { annotationRoot, renderAnnotations } from "./cli-annotations.js";

/** Files larger than this are not Dockerfiles anyone writes by hand; skipped with a warning. */
const MAX_FILE_BYTES = 1024 * 1024;

const USAGE = `Usage: digest-pin <command> [options]

Commands:
  scan [DIR]        list the image references of the Dockerfiles below DIR (default .)
  resolve REF       print the digest a tag points to now
  pin [DIR]         pin unpinned references and refresh drifted pins, in place
  check [DIR]       like pin, but write nothing; exit 1 when anything would change

Options:
  --json                          machine-readable output (same as --format json)
  --format text|json|github       github (pin, check): workflow commands that annotate the pull request
  --insecure-registry HOST[:PORT] allow plain HTTP and private addresses for this registry (repeatable)
  --mirror REGISTRY=HOST          resolve REGISTRY's images through a mirror (repeatable)
  --auth-file PATH                Docker config.json with registry credentials
  --no-pin-unpinned               only refresh existing pins
  -h, --help                      this text
  -v, --version                   the version

Exit codes: 0 ok; 1 (check) something is unpinned or drifted; 2 error.`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTty: boolean;
}

/** What `main` runs with besides its arguments; tests inject a scanner that fails. */
export interface Deps {
  scan?: Scanner;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io, deps: Deps = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        format: { type: "string" },
        "insecure-registry": { type: "string", multiple: true, default: [] },
        mirror: { type: "string", multiple: true, default: [] },
        "auth-file": { type: "string" },
        "no-pin-unpinned": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
      },
    });
  } catch (error) {
    io.stderr(`digest-pin: ${visible((error as Error).message)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`${await version()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    io.stdout(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }

  try {
    if (values.format !== undefined && !["text", "json", "github"].includes(values.format)) {
      throw new UsageError(`--format must be text, json or github, not "${values.format}"`);
    }
    if (values.format === "github" && command !== "pin" && command !== "check") {
      throw new UsageError("--format github applies to pin and check");
    }
    if (values.format === "json") values.json = true;
    switch (command) {
      case "scan":
        return await scanCommand(rest[0] ?? ".", values.json, io, deps);
      case "resolve": {
        if (rest[0] === undefined) throw new UsageError("resolve needs a reference, e.g. digest-pin resolve python:3.12");
        return await resolveCommand(rest[0], values, env, io);
      }
      case "pin":
      case "check":
        return await pinCommand(command, rest[0] ?? ".", values, env, io, deps);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    // Messages quote arguments, file names and registry text: control characters are shown, not sent.
    if (error instanceof UsageError) {
      io.stderr(`digest-pin: ${visible(error.message)}\n\n${USAGE}\n`);
    } else {
      io.stderr(`digest-pin: ${visible((error as Error).message)}\n`);
    }
    return 2;
  }
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

interface RegistryFlags {
  "insecure-registry": string[];
  mirror: string[];
  "auth-file"?: string;
}

function clientFromFlags(flags: RegistryFlags, env: NodeJS.ProcessEnv): RegistryClient {
  const merged: NodeJS.ProcessEnv = { ...env };
  const join2 = (a: string | undefined, b: string[]) => [a, ...b].filter((x) => x && x.length > 0).join(",");
  merged.DIGEST_PIN_INSECURE_REGISTRIES = join2(env.DIGEST_PIN_INSECURE_REGISTRIES, flags["insecure-registry"]);
  merged.DIGEST_PIN_REGISTRY_MIRRORS = join2(env.DIGEST_PIN_REGISTRY_MIRRORS, flags.mirror);
  if (flags["auth-file"]) merged.REGISTRY_AUTH_FILE = flags["auth-file"];
  const options = registryOptionsFromEnv(merged);
  // One run of the command: a credential helper's answer is good for all of it (ECR tokens last 12 h).
  return new RegistryClient({ ...options, credentialHelpers: { ...options.credentialHelpers, ttlMs: Infinity } });
}

/** Read and scan every Dockerfile below dir; a file the scanner fails on carries its error. */
export async function scanDirectory(dir: string, warn: (text: string) => void, scan?: Scanner): Promise<ScannedFile[]> {
  let paths: string[];
  try {
    paths = await findDockerfiles(dir);
  } catch (error) {
    if (error instanceof WalkError) throw new Error(error.message);
    throw error;
  }
  const files: ScannedFile[] = [];
  for (const path of paths) {
    const bytes = await readFile(join(dir, path));
    if (bytes.length > MAX_FILE_BYTES) {
      warn(`digest-pin: skipping ${visible(path)}: larger than 1 MiB\n`);
      continue;
    }
    files.push(scanFile(path, bytes, scan));
  }
  return files;
}

async function scanCommand(dir: string, json: boolean, io: Io, deps: Deps): Promise<number> {
  const files = await scanDirectory(dir, io.stderr, deps.scan);
  io.stdout(json ? `${safeJson(scanJson(files), 2)}\n` : renderScan(files));
  return files.some((f) => f.error !== undefined) ? 2 : 0;
}

async function resolveCommand(text: string, flags: RegistryFlags & { json: boolean }, env: NodeJS.ProcessEnv, io: Io) {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(`invalid reference "${text}": ${parsed.error}`);
  const ref = { ...parsed.value, tag: parsed.value.tag ?? "latest", digest: null };
  const client = clientFromFlags(flags, env);
  try {
    const resolution = await client.resolve(ref);
    if (flags.json) {
      const out = {
        reference: formatReference(ref),
        image: imageName(ref),
        tag: ref.tag,
        digest: resolution.digest,
        mediaType: resolution.mediaType,
      };
      io.stdout(`${safeJson(out)}\n`);
    } else {
      io.stdout(`${resolution.digest}\n`); // validated: sha256 and hex digits only
    }
    return 0;
  } catch (error) {
    if (error instanceof RegistryError) throw new Error(`${formatReference(ref)}: ${error.message}`);
    throw error;
  } finally {
    await client.close();
  }
}

async function pinCommand(
  command: "pin" | "check",
  dir: string,
  flags: RegistryFlags & { json: boolean; format?: string; "no-pin-unpinned": boolean },
  env: NodeJS.ProcessEnv,
  io: Io,
  deps: Deps,
): Promise<number> {
  const files = await scanDirectory(dir, io.stderr, deps.scan);
  const client = clientFromFlags(flags, env);
  let result: Plan;
  try {
    const onProgress = (done: number, total: number) =>
      io.stderr(`\rresolving ${done}/${total}${done === total ? "\n" : ""}`);
    result = await planFiles(files, client, { pinUnpinned: !flags["no-pin-unpinned"] }, io.isTty ? { onProgress } : {});
  } finally {
    await client.close();
  }
  if (command === "pin") result = await writePlan(dir, result);
  io.stdout(
    flags.format === "github"
      ? renderAnnotations(result, { root: annotationRoot(dir, process.cwd()) })
      : flags.json
        ? `${safeJson(planJson(result), 2)}\n`
        : renderPlan(result, command),
  );
  if (result.errors.length > 0) return 2;
  return command === "check" && result.changes.length > 0 ? 1 : 0;
}
