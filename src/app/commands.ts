// Comment commands: `/digest-pin rescan` anywhere, `/digest-pin recreate` on the bot's PR.

export type Command = { name: "rescan" } | { name: "recreate" } | { name: "unknown"; text: string };

const COMMAND_LINE = /^\/digest-pin(?=\s|$)(?:\s+(\S+))?\s*(.*)$/;

/**
 * The command in a comment: a line that starts with `/digest-pin`. A known command must stand alone on its line;
 * anything else after `/digest-pin` is an unknown command (answered with help), never guessed at.
 */
export function parseCommand(body: string | null | undefined): Command | null {
  if (!body) return null;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line.startsWith("/digest-pin")) continue;
    const match = COMMAND_LINE.exec(line);
    if (!match) continue; // `/digest-pinned` and the like are not ours
    const [, name = "", rest = ""] = match;
    if ((name === "rescan" || name === "recreate") && rest === "") return { name };
    return { name: "unknown", text: line };
  }
  return null;
}

export const HELP =
  "digest-pin commands:\n- `/digest-pin rescan`: check the registries now and update the pull request\n" +
  "- `/digest-pin recreate` (on digest-pin's pull request): rebuild its branch from the base branch";

/** Permissions that may run commands. `maintain` reports as `write` in the legacy field, kept for clarity. */
const WRITERS = new Set(["admin", "maintain", "write"]);

export function canRunCommands(permission: string | undefined, roleName?: string): boolean {
  return WRITERS.has(permission ?? "") || WRITERS.has(roleName ?? "");
}

/** Bots, including this app, never trigger commands: no loops, no amplification. */
export function isBot(sender: { type?: string; login?: string } | undefined): boolean {
  return sender?.type === "Bot" || (sender?.login ?? "").endsWith("[bot]");
}
