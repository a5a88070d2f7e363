import { describe, expect, it } from "vitest";
import { safeJson, visible } from "../src/visible.js";

describe("visible", () => {
  it.each([
    ["ESC and BEL (OSC 52)", "\u001b]52;c;aGk=\u0007", "\\x1b]52;c;aGk=\\x07"],
    ["NUL, DEL", "a\u0000b\u007f", "a\\x00b\\x7f"],
    ["C1 CSI", "\u009b2J", "\\x9b2J"],
    ["tab and line breaks", "a\tb\r\nc", "a\\tb\\r\\nc"],
    ["bidi override and isolate", "\u202eexe.txt\u202c \u2066x\u2069 \u200f\u061c", "\\u202eexe.txt\\u202c \\u2066x\\u2069 \\u200f\\u061c"],
    ["line separators", "a\u2028b\u2029", "a\\u2028b\\u2029"],
  ])("shows %s as escapes", (_name, text, shown) => {
    expect(visible(text)).toBe(shown);
  });

  it("keeps spaces and every other character", () => {
    const text = "FROM python:3.12 AS build # é ü 中 🐳 \u200b \\x1b";
    expect(visible(text)).toBe(text);
  });
});

describe("safeJson", () => {
  it("parses back to exactly the value, with no control character left raw", () => {
    const value = { text: "\u001b]52;c;x\u0007 \u007f\u009b \u202e \u2028", nested: [{ path: "a\nb" }] };
    for (const indent of [undefined, 2]) {
      const json = safeJson(value, indent);
      expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u202e]/);
      expect(JSON.parse(json)).toEqual(value);
    }
    expect(safeJson({ a: 1 }, 2)).toBe(JSON.stringify({ a: 1 }, null, 2));
  });
});
