/**
 * Traffic for the veth bench, run inside the bench's network namespace: for a while, sends frames
 * (hex, one per line in a file) round-robin out of one host-side interface as fast as libpcap
 * takes them, counts what arrives on another, and prints one JSON line: frames sent and
 * received, and the time between the first and the last frame received (the switch's output
 * rate while it is saturated).
 *
 *   node dist/bench/veth-traffic.js --tx IFACE --rx IFACE --frames FILE --seconds S
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { Command, Option } from "commander";

interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  on(event: "packet", listener: (nbytes: number) => void): void;
  send(buffer: Buffer, length?: number): void;
  close(): void;
}
const { Cap } = createRequire(import.meta.url)("cap") as { Cap: new () => CapHandle };

const options = new Command("veth-traffic")
  .requiredOption("--tx <iface>", "interface the frames are sent from")
  .requiredOption("--rx <iface>", "interface whose received frames are counted")
  .requiredOption("--frames <file>", "frames, hex, one per line")
  .addOption(new Option("--seconds <s>", "how long to send").default(3).argParser(Number))
  .parse()
  .opts<{ tx: string; rx: string; frames: string; seconds: number }>();

const frames = readFileSync(options.frames, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => Buffer.from(line.trim(), "hex"));

const rx = new Cap();
const tx = new Cap();
const BUFFER = 64 * 1024 * 1024;
// `cap` keeps a raw pointer to each receive buffer: they must stay referenced while open.
const rxBuffer = Buffer.alloc(65535);
const txBuffer = Buffer.alloc(65535);
rx.open(options.rx, "", BUFFER, rxBuffer);
tx.open(options.tx, "", BUFFER, txBuffer);

let received = 0;
let firstRx = 0n;
let lastRx = 0n;
rx.on("packet", () => {
  const now = process.hrtime.bigint();
  if (received === 0) firstRx = now;
  lastRx = now;
  received++;
});

// Sends in bursts, giving the event loop a turn between them so arrivals are counted as they come.
let sent = 0;
let sendErrors = 0;
const t0 = process.hrtime.bigint();
const budget = BigInt(Math.round(options.seconds * 1e9));
while (process.hrtime.bigint() - t0 < budget) {
  const burst = 256;
  for (let i = 0; i < burst; i++) {
    const frame = frames[(sent + i) % frames.length] as Buffer;
    try {
      tx.send(frame, frame.length);
    } catch {
      sendErrors++; // the socket's buffer was full: the frame is lost, like on a real link
    }
  }
  sent += burst;
  await yieldToLoop();
}
const txSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
// Done when nothing more arrived for half a second.
let seen = -1;
while (seen !== received) {
  seen = received;
  await new Promise((resolve) => setTimeout(resolve, 500));
}
rx.close();
tx.close();
rxBuffer.fill(0);
txBuffer.fill(0);
process.stdout.write(
  `${JSON.stringify({ sent, sendErrors, received, txSeconds, rxSeconds: Number(lastRx - firstRx) / 1e9 })}\n`,
);
