// A Docker credential helper of the tests' own: a small node script written to a temp dir as
// `docker-credential-<name>`, speaking the real protocol (`get`, the server URL on stdin, JSON on stdout, "credentials
// not found in native keychain" with exit 1). What it answers for each server URL is read from `answers.json` beside
// it on every run, and every run is recorded in `calls.log`, so a test can change answers and see exactly what the
// helper was asked.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** What the helper does when asked for one server URL; a server URL without an answer is "not found". */
export type HelperAnswer =
  | { username: string; secret: string }
  | { hang: true }
  | { huge: number } // MiB of output
  | { fail: string; code?: number }
  | { raw: string }; // printed as is, exit 0

export interface HelperCall {
  args: string[];
  /** Exactly what arrived on stdin. */
  input: string;
  pid: number;
  /** The value of TESTHELPER_MARK in the helper's environment (proves the environment is passed through). */
  mark: string | null;
}

const SCRIPT = `
const fs = require("node:fs");
const path = require("node:path");
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const input = Buffer.concat(chunks).toString("utf8");
  const call = { args: process.argv.slice(2), input, pid: process.pid, mark: process.env.TESTHELPER_MARK ?? null };
  fs.appendFileSync(path.join(__dirname, "calls.log"), JSON.stringify(call) + "\\n");
  if (process.argv[2] !== "get") {
    process.stdout.write("only get is supported\\n");
    process.exit(1);
  }
  const answers = JSON.parse(fs.readFileSync(path.join(__dirname, "answers.json"), "utf8"));
  const a = answers[input];
  if (!a) {
    process.stdout.write("credentials not found in native keychain\\n");
    process.exit(1);
  }
  if (a.hang) {
    setInterval(() => {}, 1000);
    return;
  }
  if (a.huge) {
    const block = "x".repeat(1 << 16);
    let left = a.huge * 16;
    const pump = () => {
      while (left-- > 0) if (!process.stdout.write(block)) return process.stdout.once("drain", pump);
    };
    process.stdout.on("error", () => process.exit(0));
    return pump();
  }
  if (a.raw !== undefined) {
    process.stdout.write(a.raw);
    return;
  }
  if (a.fail) {
    process.stderr.write(a.fail);
    process.exit(a.code ?? 3);
  }
  process.stdout.write(JSON.stringify({ ServerURL: input, Username: a.username, Secret: a.secret }) + "\\n");
});
`;

export interface TestHelper {
  /** The helper's suffix: the config names it as `credHelpers: { host: name }` or `credsStore: name`. */
  name: string;
  dir: string;
  /** PATH with the helper's directory first. */
  path: string;
  answer(answers: Record<string, HelperAnswer>): Promise<void>;
  calls(): Promise<HelperCall[]>;
  remove(): Promise<void>;
}

/** Write `docker-credential-<name>` (executable) to a fresh temp dir. */
export async function installCredentialHelper(name = "testhelper"): Promise<TestHelper> {
  const dir = await mkdtemp(join(tmpdir(), "digest-pin-helper-"));
  const file = join(dir, `docker-credential-${name}`);
  await writeFile(file, `#!${process.execPath}\n${SCRIPT}`);
  await chmod(file, 0o755);
  await writeFile(join(dir, "answers.json"), "{}");
  return {
    name,
    dir,
    path: [dir, process.env.PATH ?? ""].join(delimiter),
    answer: (answers) => writeFile(join(dir, "answers.json"), JSON.stringify(answers)),
    calls: async () => {
      const text = await readFile(join(dir, "calls.log"), "utf8").catch(() => "");
      return text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as HelperCall);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
