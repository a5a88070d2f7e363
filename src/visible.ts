// Control characters from files and registries made visible, so that they cannot act on whoever reads the text: an
// ESC sequence in a Dockerfile must not reach a terminal (OSC 52 writes the clipboard, others retitle the window or
// hide lines), and a bidi override must not reorder what a reviewer sees (`evil.txt` shown as `txt.live`).

/**
 * C0 controls, DEL, C1 controls, the bidi embeddings, overrides, isolates and marks, and the line and paragraph
 * separators. Plain spaces are not among them.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same less C0: JSON.stringify escapes those itself, and its own line breaks between values must stay. */
const CONTROLS_BUT_C0 = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** The escape that shows one control character: `\t`, `\n`, `\r`, `\xHH` below U+0100, `\uHHHH` above. */
function escapeControl(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  return char.charCodeAt(0) < 0x100 ? `\\x${hex(char, 2)}` : `\\u${hex(char, 4)}`;
}

function hex(char: string, digits: number): string {
  return char.charCodeAt(0).toString(16).padStart(digits, "0");
}

/**
 * `text` with every control character replaced by a visible escape, for terminals and for people reading Markdown.
 *
 * @example
 * visible("FROM \x1b]52;c;aGk=\x07x") // "FROM \\x1b]52;c;aGk=\\x07x"
 * visible("a\u202Eb")                  // "a\\u202eb"
 */
export function visible(text: string): string {
  return text.replace(CONTROLS, escapeControl);
}

/**
 * JSON text that a terminal can show safely and that parses to exactly `value`: JSON.stringify escapes C0 controls
 * already, but not DEL, C1 controls (U+009B is CSI) or bidi controls; those are written as `\uHHHH` escapes, which
 * only strings can contain, so the structure is untouched.
 *
 * @example
 * safeJson({ text: "a\u009bb" }) // '{"text":"a\\u009bb"}'
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(CONTROLS_BUT_C0, (char) => `\\u${hex(char, 4)}`);
}
