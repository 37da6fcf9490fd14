/**
 * Splits a byte stream into lines, calling `onLine` with each complete one (without
 * its '\n'; empty lines skipped). It works on bytes, not text: '\n' never occurs
 * inside a multi-byte UTF-8 character, so a character split across chunks stays
 * whole, and each line is decoded once, complete (decodeUtf8). Each chunk is
 * searched once and kept as it came until its line is complete: linear in the bytes read.
 *
 * A line longer than `maxBytes` calls `onTooLong` once, and everything after it is ignored.
 */
export function lineReader(
  onLine: (line: Buffer) => void,
  limit: { maxBytes: number; onTooLong: () => void } = { maxBytes: Infinity, onTooLong: () => undefined },
): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  const overflows = (more: number): boolean => {
    if (size + more <= limit.maxBytes) return false;
    tooLong = true;
    parts = [];
    limit.onTooLong();
    return true;
  };
  return (chunk) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0 && !tooLong; newline = chunk.indexOf(10, start)) {
      const tail = chunk.subarray(start, newline);
      if (overflows(tail.length)) return;
      const line = parts.length === 0 ? tail : Buffer.concat([...parts, tail], size + tail.length);
      parts = [];
      size = 0;
      start = newline + 1;
      if (line.length > 0) onLine(line);
    }
    if (tooLong || start === chunk.length || overflows(chunk.length - start)) return;
    parts.push(chunk.subarray(start));
    size += chunk.length - start;
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A complete line's text, or undefined if it is not valid UTF-8 (never silently replaced with U+FFFD). */
export function decodeUtf8(line: Buffer): string | undefined {
  try {
    return strictUtf8.decode(line);
  } catch {
    return undefined;
  }
}
