/**
 * bmv2 with pcap-file ports, as p4c's own STF runner (backends/bmv2/bmv2stf.py) drives it:
 * simple_switch_grpc --use-files reads port N's frames from `pN_in.pcap` and writes what leaves
 * port N to `pN_out.pcap` (flushed per frame). Unlike veth, this carries frames of any length
 * (many STF samples send a few bytes). Tables are written through P4Runtime on a loopback port.
 *
 * bmv2 merges its input files by timestamp, so it takes a frame only once every input file has
 * one or has ended: ports that receive nothing get a file that ends at once, ports that do get
 * a FIFO fed as the STF file goes. With one receiving port (nearly every sample) frames are
 * processed as they are written, in step with the control commands around them; with several,
 * they wait until the others' next frame or the end.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { forwardingPipelineConfig, type Pipeline } from "../../controller/p4rt/pipeline.js";
import { thriftPortArgs } from "../../topologies/bmv2.js";
import { startSwitchProcess } from "../../topologies/switch-process.js";
import { findTool } from "../../topologies/toolchain.js";
import type { Output } from "../support/targets.js";
import type { StfPacketIo } from "./stf-p4runtime.js";

/** How long bmv2 is given to process what was written before the next control command. */
const SETTLE_MS = 100;
/** At the end, output files must stay unchanged this long (bmv2stf waits 2 s)... */
const QUIET_MS = 300;
/** ...within this long. */
const FINISH_LIMIT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pcap file header (little endian, microseconds, Ethernet, snaplen 65535). */
function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  return h;
}

/** A record; timestamps increase so bmv2 merges ports in the order frames were written. */
function pcapRecord(frame: Uint8Array, micros: number): Buffer {
  const r = Buffer.alloc(16);
  r.writeUInt32LE(Math.floor(micros / 1e6), 0);
  r.writeUInt32LE(micros % 1e6, 4);
  r.writeUInt32LE(frame.length, 8);
  r.writeUInt32LE(frame.length, 12);
  return Buffer.concat([r, frame]);
}

/** The frames of a pcap file, either byte order. */
export function readPcap(bytes: Buffer): Buffer[] {
  if (bytes.length < 24) return [];
  const little = bytes.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const frames: Buffer[] = [];
  for (let at = 24; at + 16 <= bytes.length; ) {
    const length = u32(at + 8);
    frames.push(bytes.subarray(at + 16, at + 16 + length));
    at += 16 + length;
  }
  return frames;
}

export interface Bmv2PcapSwitch {
  client: P4RuntimeClient;
  io: StfPacketIo;
  close(): Promise<void>;
}

/**
 * Starts simple_switch_grpc on pcap-file ports (frames are sent into `inputs`, a subset of
 * `ports`), with `pipeline` installed through P4Runtime.
 */
export async function startBmv2Pcap(
  ports: readonly number[],
  inputs: readonly number[],
  pipeline: Pipeline,
): Promise<Bmv2PcapSwitch> {
  const tool = findTool("simple_switch_grpc");
  if (!tool.found) throw new Error(tool.reason);
  const dir = mkdtempSync(join(tmpdir(), "stf-bmv2-"));
  const sorted = [...ports].sort((a, b) => a - b);
  const prefix = (port: number) => join(dir, `p${port}`);
  const fed = new Set(inputs);
  for (const port of sorted) {
    const file = `${prefix(port)}_in.pcap`;
    if (fed.has(port)) execFileSync("mkfifo", [file]);
    else writeFileSync(file, pcapHeader());
  }
  const thrift = await thriftPortArgs(tool.path);
  const running = await startSwitchProcess(
    "bmv2-pcap",
    tool.path,
    (address) => [
      "--device-id",
      "1",
      "--use-files",
      "0",
      ...sorted.flatMap((port) => ["-i", `${port}@${prefix(port)}`]),
      "--log-console",
      "--log-level",
      "warn",
      ...thrift,
      "--no-p4",
      "--",
      "--grpc-server-addr",
      address,
    ],
    1,
  );
  const fifos = new Map<number, FileHandle>();
  let client: P4RuntimeClient | undefined;
  let pending = false;
  let clock = 0;
  const closeInputs = async () => {
    for (const handle of fifos.values()) await handle.close();
    fifos.clear();
  };
  try {
    // bmv2 opens the FIFOs one after the other in port order; opening them in another order
    // would leave both sides waiting.
    for (const port of sorted.filter((p) => fed.has(p))) {
      const handle = await open(`${prefix(port)}_in.pcap`, "w");
      await handle.write(pcapHeader());
      fifos.set(port, handle);
    }
    client = new P4RuntimeClient({
      address: running.address,
      deviceId: 1,
      electionId: 1n,
      reconnect: false,
    });
    await client.connect();
    await client.setPipeline(forwardingPipelineConfig(pipeline));
  } catch (error) {
    client?.close();
    await closeInputs();
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const connected = client;
  const io: StfPacketIo = {
    async send(port, frame) {
      const input = fifos.get(port);
      if (!input) throw new Error(`port ${port} is not one of the switch's inputs`);
      await input.write(pcapRecord(frame, ++clock));
      pending = true;
      return [];
    },
    async settle() {
      if (pending) await sleep(SETTLE_MS);
      pending = false;
    },
    async drain() {
      await closeInputs();
      await quiet(sorted.map((port) => `${prefix(port)}_out.pcap`));
      connected.close();
      await running.stop();
      const out: Output[] = [];
      for (const port of sorted) {
        const file = `${prefix(port)}_out.pcap`;
        if (!existsSync(file)) continue;
        for (const frame of readPcap(readFileSync(file))) out.push({ port, frame });
      }
      return out;
    },
  };
  return {
    client: connected,
    io,
    async close() {
      connected.close();
      await closeInputs();
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until none of `files` has grown for QUIET_MS (or FINISH_LIMIT_MS has passed). */
async function quiet(files: readonly string[]): Promise<void> {
  const sizes = () => files.map((f) => (existsSync(f) ? statSync(f).size : -1)).join(",");
  const deadline = Date.now() + FINISH_LIMIT_MS;
  let last = sizes();
  let since = Date.now();
  while (Date.now() - since < QUIET_MS && Date.now() < deadline) {
    await sleep(20);
    const now = sizes();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}
