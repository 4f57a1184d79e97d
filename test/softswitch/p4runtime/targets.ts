/**
 * The two P4Runtime targets the server tests run against: the softswitch (in-process, on a free
 * loopback port) and bmv2's simple_switch_grpc (when installed; skipped with the reason
 * otherwise). Shared assertions take a target, so one test body proves both answer alike.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { loadPipeline, type Pipeline } from "../../../controller/p4rt/pipeline.js";
import type { P4RuntimeClient as Stub } from "../../../proto/gen/p4/v1/P4Runtime.js";
import type { StreamMessageResponse__Output } from "../../../proto/gen/p4/v1/StreamMessageResponse.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { toUint128 } from "../../../proto/uint128.js";
import { SoftswitchDevice } from "../../../softswitch/device.js";
import {
  type P4RuntimeServerOptions,
  startP4RuntimeServer,
} from "../../../softswitch/p4runtime/server.js";
import { CPU_PORT, startBmv2 } from "../../../topologies/bmv2.js";
import { repoRoot } from "../../../topologies/repo.js";
import { skipUnless } from "../../../topologies/toolchain.js";

export { CPU_PORT };

export interface RunningTarget {
  address: string;
  deviceId: number;
  /** The softswitch device (in-process targets only). */
  device?: SoftswitchDevice;
  stop(): Promise<void>;
}

export interface Target {
  name: "softswitch" | "bmv2";
  /** false, or why this target's tests are skipped. */
  skip: false | string;
  start(): Promise<RunningTarget>;
}

/** An in-process softswitch on a free loopback port; `server` adds P4Runtime server options. */
export async function startSoftswitchTarget(
  server: Pick<P4RuntimeServerOptions, "readBatchSize"> = {},
): Promise<RunningTarget> {
  const device = new SoftswitchDevice({ deviceId: 1, cpuPort: CPU_PORT });
  const running = await startP4RuntimeServer({ ...server, device, address: "127.0.0.1:0" });
  return {
    address: running.address,
    deviceId: 1,
    device,
    async stop() {
      await running.close();
      await device.close();
    },
  };
}

export const softswitchTarget: Target = {
  name: "softswitch",
  skip: false,
  start: () => startSoftswitchTarget(),
};

export const bmv2Target: Target = {
  name: "bmv2",
  skip: skipUnless("simple_switch_grpc"),
  async start() {
    const sw = await startBmv2({ deviceId: 1 });
    const probe = stub({ address: sw.address, deviceId: 1, stop: async () => {} });
    await new Promise<void>((resolve, reject) =>
      probe.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
    ).finally(() => probe.close());
    return { address: sw.address, deviceId: 1, stop: () => sw.stop() };
  },
};

export const targets = [softswitchTarget, bmv2Target];

/** test/fixtures/p4/p4runtime.p4 as compiled by p4c (committed). */
export function fixturePipeline(): Pipeline {
  const base = join(repoRoot, "test/fixtures/build/p4runtime");
  return loadPipeline({ json: `${base}.json`, p4info: `${base}.p4info.bin` });
}

export function client(
  target: RunningTarget,
  electionId: bigint,
  options: { role?: string; deviceId?: number } = {},
): P4RuntimeClient {
  return new P4RuntimeClient({
    address: target.address,
    deviceId: options.deviceId ?? target.deviceId,
    electionId,
    reconnect: false,
    ...(options.role ? { role: options.role } : {}),
  });
}

/** A raw stub, for requests the client library would refuse to send or checks locally. */
export function stub(target: RunningTarget): Stub {
  const Stub = p4runtimeProto().p4.v1.P4Runtime;
  return new Stub(target.address, grpc.credentials.createInsecure());
}

export interface RpcResult<T> {
  response?: T;
  code: number;
  details: string;
}

/** A unary call's answer or status, never a rejection (tests compare codes). */
export function unary<Req, Res>(
  fn: (request: Req, callback: (error: grpc.ServiceError | null, response?: Res) => void) => void,
  request: Req,
): Promise<RpcResult<Res>> {
  return new Promise((resolve) =>
    fn(request, (error, response) =>
      resolve(
        error
          ? { code: error.code, details: error.details }
          : { code: grpc.status.OK, details: "", ...(response ? { response } : {}) },
      ),
    ),
  );
}

/** A raw StreamChannel that records what the switch sends and how it ends. */
export function rawStream(
  s: Stub,
  arbitration: { deviceId: number; electionId: bigint; role?: string },
) {
  const messages: StreamMessageResponse__Output[] = [];
  let ended: { code: number; details: string } | undefined;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const call = s.StreamChannel();
  call.on("data", (m: StreamMessageResponse__Output) => {
    messages.push(m);
    wake();
  });
  call.on("error", (e: grpc.ServiceError) => {
    ended = { code: e.code, details: e.details };
    wake();
  });
  call.on("end", () => {
    ended ??= { code: grpc.status.OK, details: "" };
    wake();
  });
  call.write({
    arbitration: {
      device_id: String(arbitration.deviceId),
      election_id: toUint128(arbitration.electionId),
      ...(arbitration.role ? { role: { name: arbitration.role } } : {}),
    },
  });
  return {
    call,
    messages,
    get ended() {
      return ended;
    },
    /** Waits until `predicate` holds (checked on every message and at the end). */
    async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error("timed out waiting on the stream");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}
