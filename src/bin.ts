#!/usr/bin/env node
// Entry point of the `digest-pin` command.
import { main } from "./cli/main.js";

main(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTty: Boolean(process.stderr.isTTY),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`digest-pin: ${(error as Error).message}\n`);
    process.exitCode = 2;
  },
);
