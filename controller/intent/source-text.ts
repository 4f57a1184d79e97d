/**
 * A fabric file's bytes to text: UTF-8 only. A byte that is not part of valid UTF-8 is refused
 * with its offset and line, rather than replaced by U+FFFD and stored as if it were the
 * operator's text.
 */
import { IntentError } from "./errors.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeFabricBytes(bytes: Uint8Array, source = "fabric"): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, "0");
    throw new IntentError(
      [
        {
          path: [],
          message: `not UTF-8: byte 0x${byte} at offset ${offset} is not valid UTF-8 (save the file as UTF-8)`,
          line,
        },
      ],
      source,
    );
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead <= 0xdf
          ? 2
          : lead >= 0xe0 && lead <= 0xef
            ? 3
            : lead >= 0xf0 && lead <= 0xf4
              ? 4
              : 0;
    if (length === 0) return i;
    if (length === 1) {
      i++;
      continue;
    }
    // Strict decoding (TextDecoder's fatal mode) is the judge: one sequence at a time.
    try {
      strictUtf8.decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return bytes.length;
}
