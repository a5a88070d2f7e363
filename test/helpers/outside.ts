/** The bytes between the given ranges (in order): what pinning must leave exactly as it was. */
export function outside(bytes: Uint8Array, ranges: ReadonlyArray<{ start: number; end: number }>): Buffer[] {
  const parts: Buffer[] = [];
  let cursor = 0;
  for (const r of ranges) {
    parts.push(Buffer.from(bytes.subarray(cursor, r.start)));
    cursor = r.end;
  }
  parts.push(Buffer.from(bytes.subarray(cursor)));
  return parts;
}
