/**
 * Captures a fabric link with tcpdump (the interface in the root namespace, both directions)
 * and reads the capture back with tshark, the way an engineer checks what is on the wire:
 * NVGRE is GRE with the key bit, protocol 0x6558 (Transparent Ethernet Bridging), key =
 * VSID << 8 | FlowID, then the tenant's Ethernet frame.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { Fabric } from "./fabric.js";

export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaptureError";
  }
}

export interface LinkCapture {
  path: string;
  interfaceName: string;
  stop(): Promise<void>;
}

/** Starts tcpdump on a root-namespace interface; resolves once it is listening. */
export async function captureInterface(
  fabric: Fabric,
  interfaceName: string,
  path: string,
): Promise<LinkCapture> {
  // captures/ is not in a fresh clone (it is git-ignored): tcpdump would refuse to write.
  mkdirSync(dirname(path), { recursive: true });
  const child = fabric.spawnOnHost([
    "tcpdump",
    "-i",
    interfaceName,
    "-s",
    "0",
    "-U",
    "-n",
    "-w",
    path,
  ]);
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      stderr += `${line}\n`;
      if (/listening on/.test(line)) resolve();
    });
    child.once("exit", (code) =>
      reject(new CaptureError(`tcpdump on ${interfaceName} exited (${code}): ${stderr.trim()}`)),
    );
  });
  return {
    path,
    interfaceName,
    async stop() {
      child.kill("SIGINT");
      await closed;
    },
  };
}

export interface KeyCount {
  key: number;
  vsid: number;
  flowId: number;
  frames: number;
}

export interface CaptureSummary {
  frames: number;
  /** Frames tshark decodes as GRE with the key present and protocol 0x6558 (TEB). */
  nvgreFrames: number;
  /** Frames whose protocol stack shows an inner Ethernet frame after GRE. */
  innerEthernetFrames: number;
  keys: KeyCount[];
  /** tshark's protocol stack of the first NVGRE frame, e.g. eth:ethertype:ip:gre:eth:… */
  firstStack: string | undefined;
  /** tshark's detailed GRE section of the first NVGRE frame. */
  firstGreDetail: string[];
}

function tshark(args: string[]): string {
  const result = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new CaptureError(
      `tshark ${args.join(" ")}: ${result.stderr?.trim() || result.error?.message}`,
    );
  }
  return result.stdout;
}

/** Decodes a capture with tshark and summarises its NVGRE frames. */
export function decodeCapture(path: string): CaptureSummary {
  const rows = tshark([
    "-r",
    path,
    "-T",
    "fields",
    "-E",
    "separator=|",
    "-e",
    "frame.protocols",
    "-e",
    "gre.flags.key",
    "-e",
    "gre.proto",
    "-e",
    "gre.key",
  ])
    .split("\n")
    .filter((line) => line !== "");
  const keys = new Map<number, number>();
  let nvgreFrames = 0;
  let innerEthernetFrames = 0;
  let firstStack: string | undefined;
  let firstIndex = -1;
  rows.forEach((row, i) => {
    const [stack = "", keyBit = "", proto = "", key = ""] = row.split("|");
    // Outer GRE only (a stack may hold more than one GRE layer in theory: take the first).
    const keyPresent = keyBit.split(",")[0] === "1" || keyBit.split(",")[0] === "True";
    if (!keyPresent || Number(proto.split(",")[0]) !== 0x6558) return;
    nvgreFrames++;
    if (/:gre:eth:/.test(stack)) innerEthernetFrames++;
    const value = Number(key.split(",")[0]);
    keys.set(value, (keys.get(value) ?? 0) + 1);
    if (firstStack === undefined) {
      firstStack = stack;
      firstIndex = i + 1;
    }
  });
  let firstGreDetail: string[] = [];
  if (firstIndex > 0) {
    const detail = tshark(["-r", path, "-V", "-O", "gre", "-Y", `frame.number == ${firstIndex}`]);
    const lines = detail.split("\n");
    const start = lines.findIndex((line) => line.startsWith("Generic Routing Encapsulation"));
    if (start >= 0) {
      const end = lines.findIndex((line, i) => i > start && /^\S/.test(line));
      firstGreDetail = lines.slice(start, end < 0 ? undefined : end);
    }
  }
  return {
    frames: rows.length,
    nvgreFrames,
    innerEthernetFrames,
    keys: [...keys.entries()]
      .map(([key, frames]) => ({ key, vsid: key >>> 8, flowId: key & 0xff, frames }))
      .sort((a, b) => b.frames - a.frames),
    firstStack,
    firstGreDetail,
  };
}
