import { describe, expect, it } from "vitest";
import { canRunCommands, HELP, isBot, parseCommand } from "../../src/app/commands.js";

describe("parseCommand", () => {
  it.each([
    ["/digest-pin rescan", { name: "rescan" }],
    ["/digest-pin recreate", { name: "recreate" }],
    ["  /digest-pin rescan  ", { name: "rescan" }],
    ["/digest-pin\trescan", { name: "rescan" }],
    ["/digest-pin   recreate\t", { name: "recreate" }],
  ])("reads %j", (body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });

  it("finds the command among surrounding lines", () => {
    expect(parseCommand("Thanks for this!\n\n/digest-pin rescan\n\nThe base image moved.")).toEqual({ name: "rescan" });
  });

  it("reads comments with CRLF line endings", () => {
    expect(parseCommand("Please\r\n/digest-pin recreate\r\nthanks")).toEqual({ name: "recreate" });
    expect(parseCommand("/digest-pin rescan\r\n")).toEqual({ name: "rescan" });
  });

  it("takes the first command line", () => {
    expect(parseCommand("/digest-pin recreate\n/digest-pin rescan")).toEqual({ name: "recreate" });
  });

  it.each([
    ["/digest-pin rescan now", "/digest-pin rescan now"],
    ["/digest-pin rescan please do", "/digest-pin rescan please do"],
    ["/digest-pin RESCAN", "/digest-pin RESCAN"],
    ["/digest-pin rescan.", "/digest-pin rescan."],
    ["/digest-pin help", "/digest-pin help"],
    ["/digest-pin", "/digest-pin"],
    ["  /digest-pin   ", "/digest-pin"],
  ])("calls %j unknown rather than guessing", (body, text) => {
    expect(parseCommand(body)).toEqual({ name: "unknown", text });
  });

  it("reports an unknown command on its line even with other lines around", () => {
    expect(parseCommand("hi\r\n/digest-pin rescan all\r\nbye")).toEqual({ name: "unknown", text: "/digest-pin rescan all" });
  });

  it.each([
    ["no body", null],
    ["an undefined body", undefined],
    ["an empty body", ""],
    ["a comment without a command", "Looks good to me."],
    ["another bot's command", "/dependabot rebase"],
    ["a longer word", "/digest-pinned"],
    ["a longer word with a command after it", "/digest-pinned rescan"],
    ["a hyphenated longer word", "/digest-pin-rescan"],
    ["a mention in the middle of a line", "you can run /digest-pin rescan to check again"],
    ["a quoted command", "> /digest-pin rescan"],
    ["an inline code mention", "`/digest-pin rescan`"],
  ])("gives null for %s", (_name, body) => {
    expect(parseCommand(body)).toBeNull();
  });

  it("skips a look-alike line and finds the real command after it", () => {
    expect(parseCommand("/digest-pinned\n/digest-pin rescan")).toEqual({ name: "rescan" });
  });
});

describe("HELP", () => {
  it("names both commands", () => {
    expect(HELP).toContain("/digest-pin rescan");
    expect(HELP).toContain("/digest-pin recreate");
  });
});

describe("canRunCommands", () => {
  it.each(["admin", "maintain", "write"])("lets %s run commands", (permission) => {
    expect(canRunCommands(permission)).toBe(true);
  });

  it.each(["triage", "read", "none", "", undefined])("does not let %j run commands", (permission) => {
    expect(canRunCommands(permission)).toBe(false);
  });

  it("reads the role name, where maintain reports as write in the legacy field", () => {
    expect(canRunCommands("write", "maintain")).toBe(true);
    expect(canRunCommands(undefined, "maintain")).toBe(true);
    expect(canRunCommands("read", "admin")).toBe(true);
  });

  it("does not let readers or triagers in through the role name", () => {
    expect(canRunCommands("read", "triage")).toBe(false);
    expect(canRunCommands("read", "read")).toBe(false);
    expect(canRunCommands("none", undefined)).toBe(false);
  });

  it("is case-sensitive: only GitHub's exact values count", () => {
    expect(canRunCommands("Admin")).toBe(false);
  });
});

describe("isBot", () => {
  it("recognizes bot accounts by type", () => {
    expect(isBot({ type: "Bot", login: "renovate" })).toBe(true);
  });

  it("recognizes app logins by their [bot] suffix", () => {
    expect(isBot({ type: "User", login: "digest-pin[bot]" })).toBe(true);
    expect(isBot({ login: "dependabot[bot]" })).toBe(true);
  });

  it("lets people through", () => {
    expect(isBot({ type: "User", login: "octocat" })).toBe(false);
    expect(isBot({ type: "User", login: "bot-lover" })).toBe(false);
    expect(isBot({ type: "Organization", login: "robot" })).toBe(false);
  });

  it("treats a missing sender as not a bot", () => {
    expect(isBot(undefined)).toBe(false);
    expect(isBot({})).toBe(false);
  });
});
