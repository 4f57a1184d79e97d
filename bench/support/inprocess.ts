/**
 * Measuring the softswitch in process: a device programmed through its own P4Runtime server by
 * the project's client, a check that frames take the path a bench claims to measure, and a
 * timed loop of injections.
 */
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { forwardingPipelineConfig, type Pipeline } from "../../controller/p4rt/pipeline.js";
import { SoftswitchDevice } from "../../softswitch/device.js";
import { startP4RuntimeServer } from "../../softswitch/p4runtime/server.js";
import type { Traffic } from "./scenario.js";

/** A device behind its own P4Runtime server, programmed by a client that then disconnects. */
export async function programmedDevice(
  pipeline: Pipeline,
  program: (client: P4RuntimeClient) => Promise<unknown>,
): Promise<SoftswitchDevice> {
  const device = new SoftswitchDevice({ deviceId: 1, cpuPort: 510 });
  const server = await startP4RuntimeServer({ device, address: "127.0.0.1:0" });
  const client = new P4RuntimeClient({
    address: server.address,
    deviceId: 1,
    electionId: 1n,
    reconnect: false,
  });
  try {
    await client.connect();
    await client.setPipeline(forwardingPipelineConfig(pipeline));
    await program(client);
  } finally {
    client.close();
    await server.close();
  }
  return device;
}

/** Checks that every frame takes the path the bench claims to measure. */
export function checkPath(name: string, device: SoftswitchDevice, traffic: Traffic): void {
  for (const frame of traffic.frames) {
    const out = device.inject(traffic.inPort, frame);
    if (out.length !== 1 || out[0]?.port !== traffic.outPort) {
      throw new Error(
        `${name}: a frame on port ${traffic.inPort} gave ${JSON.stringify(out.map((o) => o.port))}, ` +
          `not one frame on port ${traffic.outPort}: the bench's entries or frames are wrong`,
      );
    }
  }
}

/**
 * Injects the frames round-robin for about `seconds`. Returns packets per second of wall time
 * and per second of this process's CPU time: on a shared machine the second is the steadier
 * measure of what one core does.
 */
export function measure(
  device: SoftswitchDevice,
  traffic: Traffic,
  seconds: number,
): { wall: number; cpu: number } {
  const { frames, inPort } = traffic;
  const n = frames.length;
  const budget = BigInt(Math.round(seconds * 1e9));
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let packets = 0;
  let elapsed = 0n;
  // Check the clock every 4096 packets so reading it costs nothing measurable.
  while (elapsed < budget) {
    for (let i = 0; i < 4096; i++) device.inject(inPort, frames[(packets + i) % n] as Buffer);
    packets += 4096;
    elapsed = process.hrtime.bigint() - start;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    wall: packets / (Number(elapsed) / 1e9),
    cpu: packets / ((cpu.user + cpu.system) / 1e6),
  };
}

export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
