/**
 * Reading a fabric file (or stdin) for `apply -f` and `validate -f`, in bounded memory: at most
 * the configured limit is read (`apply -f /dev/zero` stops there), then the bytes must be UTF-8.
 */
import { createReadStream } from "node:fs";
import { IntentError } from "../intent/errors.js";
import { maxIntentBytesEnvVar } from "../intent/limits.js";
import { decodeFabricBytes } from "../intent/source-text.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { invalidIntentError } from "./intent-errors.js";

function mebibytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

export async function readFabricInput(
  file: string,
  maxBytes: number,
): Promise<{ text: string; source: string }> {
  const source = file === "-" ? "stdin" : file;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    const stream = createReadStream(file === "-" ? "" : file, {
      ...(file === "-" ? { fd: 0, autoClose: false } : {}),
      highWaterMark: 1024 * 1024,
    });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        stream.destroy();
        throw new CliError(
          `${source} is larger than the limit of ${mebibytes(maxBytes)} (--max-bytes or ${maxIntentBytesEnvVar}); refused, nothing was changed`,
          ExitCode.invalidIntent,
        );
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.failed);
  }
  try {
    return { text: decodeFabricBytes(Buffer.concat(chunks, total), source), source };
  } catch (error) {
    if (error instanceof IntentError) throw invalidIntentError(error);
    throw error;
  }
}
