// The help texts: one overview, and one page per command with its options and examples.

import type { CommandName, OptionName } from "./args.js";
import { COMMAND_OPTIONS } from "./args.js";

const OPTION_HELP: Record<OptionName, { flag: string; text: string; commands?: Partial<Record<CommandName, string>> }> = {
  json: { flag: "--json", text: "machine-readable output (the same as --format json)" },
  format: {
    flag: "--format text|json|github",
    text: "output format (default text)",
    commands: {
      pin: "text, json, or github: workflow commands that annotate the pull request's diff",
      check: "text, json, or github: workflow commands that annotate the pull request's diff",
    },
  },
  wide: { flag: "--wide", text: "show digests in full in the tables (they are cut to 12 hex digits)" },
  platform: { flag: "--platform OS/ARCH[/VARIANT]", text: "the digest of that platform's manifest, not the index's" },
  "insecure-registry": {
    flag: "--insecure-registry HOST[:PORT]",
    text: "allow plain HTTP and private addresses for this registry (repeatable)",
  },
  mirror: { flag: "--mirror REGISTRY=HOST", text: "resolve REGISTRY's images through a mirror (repeatable)" },
  "auth-file": { flag: "--auth-file PATH", text: "Docker config.json with credentials (default ~/.docker/config.json)" },
  "no-pin-unpinned": { flag: "--no-pin-unpinned", text: "only refresh existing pins (as pinUnpinned: false)" },
  config: { flag: "--config PATH", text: "read this config file instead of the repository's .github/digest-pin.yml" },
  "no-config": { flag: "--no-config", text: "read no config file: the defaults" },
  help: { flag: "-h, --help", text: "this text" },
  version: { flag: "-v, --version", text: "the version" },
};

const CONFIG_NOTE =
  "The repository's .github/digest-pin.yml applies as in the app (ignorePaths, ignoreImages, pinUnpinned,\n" +
  "minimumAge, enabled): the nearest one from DIR up to the root of its git checkout. A comment\n" +
  '"# digest-pin: ignore" on the line above a reference leaves it alone.';

const PAGES: Record<CommandName, { usage: string; about: string; examples: string[] }> = {
  scan: {
    usage: "digest-pin scan [DIR|FILE] [options]",
    about:
      "List the image references of every Dockerfile below DIR (default .), or of one FILE, with their status.\n" +
      "Asks no registry and writes nothing.",
    examples: ["digest-pin scan", "digest-pin scan services/api/Dockerfile", "digest-pin scan . --json | jq '.files[].path'"],
  },
  resolve: {
    usage: "digest-pin resolve REFERENCE [options]",
    about:
      "Print REFERENCE pinned to the digest its tag points to now (an untagged one follows latest). A digest\n" +
      "reference is checked to exist. With --platform, the digest of that platform's own manifest.",
    examples: [
      "digest-pin resolve python:3.12-slim",
      "digest-pin resolve python:3.12-slim --platform linux/arm64",
      "digest-pin resolve ghcr.io/acme/api@sha256:…",
      "digest-pin resolve localhost:5000/team/app:1 --insecure-registry localhost:5000 --json",
    ],
  },
  pin: {
    usage: "digest-pin pin [DIR|FILE] [options]",
    about:
      "Pin unpinned references and refresh drifted pins in place: only the bytes of each reference change.\n" +
      `${CONFIG_NOTE}`,
    examples: ["digest-pin pin", "digest-pin pin services/api/Dockerfile", "digest-pin pin . --no-pin-unpinned"],
  },
  check: {
    usage: "digest-pin check [DIR|FILE] [options]",
    about:
      "Report what pin would change and write nothing: a gate for CI. Exit 1 when anything is unpinned or has\n" +
      `drifted, 2 when a reference could not be resolved or a file could not be scanned.\n${CONFIG_NOTE}`,
    examples: [
      "digest-pin check",
      "digest-pin check services/api --wide",
      "digest-pin check . --format github      # in a GitHub Actions job",
      "digest-pin check . --json --no-config",
    ],
  },
};

function optionLines(command: CommandName): string {
  const rows = COMMAND_OPTIONS[command].map((name) => {
    const o = OPTION_HELP[name];
    return [o.flag, o.commands?.[command] ?? o.text] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join("\n");
}

/**
 * A command's help page: usage, what it does, its options, examples and exit codes.
 *
 * @example commandHelp("check").startsWith("Usage: digest-pin check") // true
 */
export function commandHelp(command: CommandName): string {
  const page = PAGES[command];
  const exit =
    command === "check"
      ? "Exit codes: 0 all pinned and current; 1 something to pin or refresh; 2 an error."
      : "Exit codes: 0 done; 2 an error.";
  return (
    `Usage: ${page.usage}\n\n${page.about}\n\nOptions:\n${optionLines(command)}\n\n` +
    `Examples:\n${page.examples.map((e) => `  ${e}`).join("\n")}\n\n${exit}\n`
  );
}

/** The overview: the commands, and where each one's options are. */
export const USAGE = `Usage: digest-pin <command> [options]

Pin container images in Dockerfiles to immutable digests, and keep the pins current.

Commands:
  scan [DIR|FILE]    list the image references of the Dockerfiles below DIR (default .)
  resolve REFERENCE  print REFERENCE pinned to the digest its tag points to now
  pin [DIR|FILE]     pin unpinned references and refresh drifted pins, in place
  check [DIR|FILE]   like pin, but write nothing; exit 1 when anything would change

Run "digest-pin <command> --help" for its options and examples.
  -h, --help      this text
  -v, --version   the version

Exit codes: 0 ok; 1 (check) something is unpinned or drifted; 2 error.
`;
