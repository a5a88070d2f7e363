// The command-line tool: digest-pin scan|resolve|pin|check.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { scanDockerfile } from "./dockerfile/scan.js";
import { applyEdits } from "./dockerfile/rewrite.js";
import { findDockerfiles, WalkError } from "./local/walk.js";
import { planFiles } from "./engine.js";
import { editsFor, type Plan, type ScannedFile } from "./plan.js";
import { formatReference, imageName, parseReference } from "./reference.js";
import { RegistryClient, registryOptionsFromEnv } from "./registry/client.js";
import { MemoResolver } from "./registry/shared.js";
import { RegistryError } from "./registry/types.js";
import { renderPlan, renderScan, scanJson, planJson } from "./cli-output.js";

/** Files larger than this are not Dockerfiles anyone writes by hand; skipped with a warning. */
const MAX_FILE_BYTES = 1024 * 1024;

const USAGE = `Usage: digest-pin <command> [options]

Commands:
  scan [DIR]        list the image references of the Dockerfiles below DIR (default .)
  resolve REF       print the digest a tag points to now
  pin [DIR]         pin unpinned references and refresh drifted pins, in place
  check [DIR]       like pin, but write nothing; exit 1 when anything would change

Options:
  --json                          machine-readable output
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

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        "insecure-registry": { type: "string", multiple: true, default: [] },
        mirror: { type: "string", multiple: true, default: [] },
        "auth-file": { type: "string" },
        "no-pin-unpinned": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
      },
    });
  } catch (error) {
    io.stderr(`digest-pin: ${(error as Error).message}\n\n${USAGE}\n`);
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
    switch (command) {
      case "scan":
        return await scanCommand(rest[0] ?? ".", values.json, io);
      case "resolve": {
        if (rest[0] === undefined) throw new UsageError("resolve needs a reference, e.g. digest-pin resolve python:3.12");
        return await resolveCommand(rest[0], values, env, io);
      }
      case "pin":
      case "check":
        return await pinCommand(command, rest[0] ?? ".", values, env, io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`digest-pin: ${error.message}\n\n${USAGE}\n`);
    } else {
      io.stderr(`digest-pin: ${(error as Error).message}\n`);
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
  return new RegistryClient(registryOptionsFromEnv(merged));
}

/** Read and scan every Dockerfile below dir. */
export async function scanDirectory(dir: string, warn: (text: string) => void): Promise<ScannedFile[]> {
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
      warn(`digest-pin: skipping ${path}: larger than 1 MiB\n`);
      continue;
    }
    files.push({ path, references: scanDockerfile(bytes) });
  }
  return files;
}

async function scanCommand(dir: string, json: boolean, io: Io): Promise<number> {
  const files = await scanDirectory(dir, io.stderr);
  io.stdout(json ? `${JSON.stringify(scanJson(files), null, 2)}\n` : renderScan(files));
  return 0;
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
      io.stdout(`${JSON.stringify(out)}\n`);
    } else {
      io.stdout(`${resolution.digest}\n`);
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
  flags: RegistryFlags & { json: boolean; "no-pin-unpinned": boolean },
  env: NodeJS.ProcessEnv,
  io: Io,
): Promise<number> {
  const files = await scanDirectory(dir, io.stderr);
  const client = clientFromFlags(flags, env);
  let result: Plan;
  try {
    const progress = io.isTty
      ? (done: number, total: number) => io.stderr(`\rresolving ${done}/${total}${done === total ? "\n" : ""}`)
      : undefined;
    // One run: each distinct tag is read from its registry once, however many references and pins share it.
    result = await planFiles(files, new MemoResolver(client), { pinUnpinned: !flags["no-pin-unpinned"] }, progress);
  } finally {
    await client.close();
  }
  if (command === "pin") {
    for (const path of new Set(result.changes.map((c) => c.path))) {
      const full = join(dir, path);
      await writeFile(full, applyEdits(await readFile(full), editsFor(result.changes, path)));
    }
  }
  io.stdout(flags.json ? `${JSON.stringify(planJson(result), null, 2)}\n` : renderPlan(result, command));
  if (result.errors.length > 0) return 2;
  return command === "check" && result.changes.length > 0 ? 1 : 0;
}
