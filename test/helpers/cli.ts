// Run the built command (`dist/src/bin.js`, what `npx digest-pin` runs) and make throwaway checkouts for it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, type Deps } from "../../src/cli/main.js";

const BIN = new URL("../../dist/src/bin.js", import.meta.url).pathname;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, HOME: tmpdir(), ...env }, maxBuffer: 16 << 20, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The same command in this process (main, what bin.js runs): faster, and its dependencies can be injected. */
export async function inProcess(args: string[], env: NodeJS.ProcessEnv = { HOME: tmpdir() }, deps: Deps = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), isTty: false };
  const code = await main(args, env, io, deps);
  return { code, stdout, stderr };
}

/** A temporary directory holding `files` (paths may have folders). */
export async function checkout(files: Record<string, string | Buffer>, prefix = "digest-pin-cli-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}
