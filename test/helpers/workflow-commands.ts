// A workflow command line (`::level file=…,line=…::message`), decoded the way the GitHub Actions runner decodes it
// (ActionCommand.cs: %3A and %2C in properties, then %0D, %0A and %25 in both), for tests of `--format github`.

export interface WorkflowCommand {
  level: string;
  props: Record<string, string>;
  message: string;
}

const unescapeData = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const unescapeProperty = (s: string) => unescapeData(s.replace(/%3A/g, ":").replace(/%2C/g, ","));

/** The command on this line, or null for a plain line. */
export function parseWorkflowCommand(line: string): WorkflowCommand | null {
  const m = /^::(\w+) ([^:]*)::(.*)$/.exec(line);
  if (!m) return null;
  const props = Object.fromEntries(
    (m[2] as string).split(",").map((kv) => [kv.slice(0, kv.indexOf("=")), unescapeProperty(kv.slice(kv.indexOf("=") + 1))]),
  );
  return { level: m[1] as string, props, message: unescapeData(m[3] as string) };
}
