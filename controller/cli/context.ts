/**
 * What every nvgre-ctl command works with: where to print, the daemon's API and the
 * command-line value parsers. Tests give their own writers to run commands in-process.
 */
import { InvalidArgumentError } from "commander";
import { PORT_MAX } from "../intent/limits.js";
import type { ApiClient } from "./api-client.js";
import { colourWanted } from "./colour.js";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bars) and stdout is (screen refresh in --watch). */
  interactive: boolean;
  /** Whether output may be coloured (colour.ts; `--no-color` still turns it off). */
  colour: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stdout.isTTY && process.stderr.isTTY),
  colour: colourWanted(process.stdout, process.env),
};

export interface CliContext {
  io: CliIo;
  /**
   * The API client for the socket the global options name (read when a command runs); loaded
   * on first use, so `--help` and the offline commands start without it.
   */
  api(): Promise<ApiClient>;
}

// ----------------------------------------------------------------- argument parsers
// Each throws InvalidArgumentError, which commander reports as a usage error (exit 2)
// naming the option and the value.

export function parseInteger(what: string, min: number, max: number) {
  return (text: string): number => {
    const value = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : Number(text);
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(text) || !Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(`${what} must be an integer, got "${text}"`);
    }
    if (value < min || value > max) {
      throw new InvalidArgumentError(`${what} must be ${min}–${max}, got ${text}`);
    }
    return value;
  };
}

/** A VSID, decimal or 0x-hex; the tenant range (R6) is the intent validation's to check. */
export const parseVsid = parseInteger("a VSID", 0, 0xffffff);
export const parsePort = parseInteger("a port", 0, PORT_MAX);
export const parseVlan = parseInteger("a VLAN id", 1, 4094);

/** `a,b` → ["a", "b"], each one of `allowed`. */
export function parseList<T extends string>(what: string, allowed: readonly T[]) {
  return (text: string): T[] => {
    const values = text.split(",").map((v) => v.trim());
    for (const value of values) {
      if (!allowed.includes(value as T)) {
        throw new InvalidArgumentError(`"${value}" is not ${what} (one of ${allowed.join(", ")})`);
      }
    }
    return values as T[];
  };
}

/** `leaf3:4` → switch and port (the form `endpoint move --to` takes). */
export function parseSwitchPort(text: string): { switch: string; port: number } {
  const match = /^([^:\s]+):(\d+)$/.exec(text);
  if (!match) throw new InvalidArgumentError(`expected SWITCH:PORT (e.g. leaf3:4), got "${text}"`);
  return { switch: match[1] as string, port: parsePort(match[2] as string) };
}

/** Collects a repeatable option's values (`--ip A --ip B`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
