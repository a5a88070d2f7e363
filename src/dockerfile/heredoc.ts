// Which heredocs BuildKit opens on an instruction line (RUN, COPY, ADD, and those under ONBUILD), so the scanner can
// check that dockerfile-ast skipped the same bodies.

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const HEREDOC = /^(\d*)<<(-?)([^<]*)$/;

export interface HeredocWord {
  name: string;
  chomp: boolean;
  /** The word in the logical line, [start, end). */
  start: number;
  end: number;
}

/** Words as BuildKit's heredocsFromLine splits them: at unquoted, unescaped white space, quotes and escapes kept. */
function rawWords(text: string): Array<[number, number]> | null {
  const out: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(text.charCodeAt(i))) {
      const c = text[i];
      if (c === "'") {
        i = text.indexOf("'", i + 1);
        if (i === -1) return null;
      } else if (c === '"') {
        for (i++; i < n && text[i] !== '"'; i++) if (text[i] === "\\") i++;
        if (i >= n) return null;
      } else if (c === "\\") {
        i++;
      } else if (c === "$" && text[i + 1] === "{") {
        i = text.indexOf("}", i);
        if (i === -1) return null;
      }
      i++;
    }
    out.push([start, Math.min(i, n)]);
  }
  return out;
}

/** A heredoc word's name: the rest after `<<`/`<<-` must lex to exactly one word (quotes removed). */
function heredocName(rest: string): string | null {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] as string;
    if (isSpace(c.charCodeAt(0))) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = rest.indexOf("'", i + 1);
      if (end === -1) return null;
      word += rest.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === "\\" && ['"', "$", "\\"].includes(rest[j + 1] ?? "")) j++;
        word += rest[j];
      }
      if (j >= rest.length) return null;
      i = j;
    } else if (c === "\\") {
      if (i + 1 < rest.length) word += rest[++i];
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words.length === 1 ? (words[0] as string) : null;
}

/** The heredocs BuildKit reads after this logical line (the caller checks the instruction may have them). */
export function buildkitHeredocs(text: string): HeredocWord[] {
  if (!text.includes("<<")) return [];
  const words = rawWords(text);
  if (words === null) return [];
  const out: HeredocWord[] = [];
  for (const [start, end] of words) {
    const m = HEREDOC.exec(text.slice(start, end));
    if (!m || !m[3]) continue;
    const name = heredocName(m[3]);
    if (name !== null) out.push({ name, chomp: m[2] === "-", start, end });
  }
  return out;
}

/** dockerfile-ast's reading of a heredoc argument (its Util.parseHeredocName), for comparison. */
export function astHeredocName(value: string): string | null {
  let v = value.slice(value.startsWith("<<-") ? 3 : 2);
  for (const q of ['"', "'"]) {
    if (v.startsWith(q)) {
      if (!v.endsWith(q)) return null;
      v = v.slice(1, -1);
    }
  }
  return v.startsWith("<") ? null : v;
}

/** Whether the arguments are in JSON (exec) form, which never has heredocs. */
export function isJsonForm(args: string): boolean {
  const trimmed = args.trimStart();
  if (!trimmed.startsWith("[")) return false;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === "string");
  } catch {
    return false;
  }
}
