/**
 * The tests' reference for packets: Scapy under Debian's /usr/bin/python3 (the python3 first
 * on PATH may lack it), running topologies/scapy_reference.py. Expected frames are Scapy
 * expressions, so their bytes never come from the code under test. One helper process per
 * test file; batch the expressions of a test into one call.
 */
import { join } from "node:path";
import { JsonLinesProcess } from "./json-lines.js";
import { repoRoot } from "./repo.js";

export const debianPython = "/usr/bin/python3";

/** What an expression may evaluate to, with packets and bytes as Buffers. */
export type ScapyValue =
  | Buffer
  | number
  | string
  | boolean
  | null
  | ScapyValue[]
  | { [key: string]: ScapyValue };

function decode(value: unknown): ScapyValue {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.$bytes === "string") return Buffer.from(record.$bytes, "hex");
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, decode(v)]));
  }
  return value as ScapyValue;
}

/** A Python literal for a value interpolated into an expression. */
export function py(value: string | number | bigint | boolean | null | Uint8Array): string {
  if (value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number" || typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `bytes.fromhex(${JSON.stringify(hex(value))})`;
  return JSON.stringify(value);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

export class Scapy {
  private readonly process = new JsonLinesProcess("scapy reference", debianPython, [
    join(repoRoot, "topologies/scapy_reference.py"),
  ]);

  /** Evaluates the expressions in one round trip. */
  async eval(expressions: string[]): Promise<ScapyValue[]> {
    const answer = await this.process.request<{ results: unknown[] }>({ eval: expressions });
    return answer.results.map(decode);
  }

  /** Frames (or any bytes) the expressions build, in order. */
  async frames(expressions: string[]): Promise<Buffer[]> {
    const values = await this.eval(expressions);
    return values.map((value, i) => {
      if (!Buffer.isBuffer(value)) {
        throw new TypeError(`scapy: ${expressions[i]} did not evaluate to bytes`);
      }
      return value;
    });
  }

  async frame(expression: string): Promise<Buffer> {
    return (await this.frames([expression]))[0] as Buffer;
  }

  /** A list of frames from one expression (e.g. `fuzzed(...)`). */
  async frameList(expression: string): Promise<Buffer[]> {
    const [value] = await this.eval([expression]);
    if (!Array.isArray(value) || !value.every(Buffer.isBuffer)) {
      throw new TypeError(`scapy: ${expression} did not evaluate to a list of bytes`);
    }
    return value as Buffer[];
  }

  async number(expression: string): Promise<number> {
    const [value] = await this.eval([expression]);
    if (typeof value !== "number") throw new TypeError(`scapy: ${expression} is not a number`);
    return value;
  }

  close(): Promise<void> {
    return this.process.close();
  }
}
