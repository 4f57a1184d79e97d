/**
 * The switches a benchmark can measure, each started fresh as its own process on loopback:
 * our softswitch (always, once built) and bmv2's simple_switch_grpc (when installed).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type { EntityBuilder } from "../../controller/p4rt/entities.js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import { p4runtimeProto } from "../../proto/load.js";
import { type RunningSwitch, startBmv2 } from "../../topologies/bmv2.js";
import { softswitchCli, startSoftswitch } from "../../topologies/softswitch.js";
import { findTool } from "../../topologies/toolchain.js";

export type BenchSwitch = RunningSwitch;

export interface BenchTarget {
  name: string;
  available: boolean;
  /** Why the target cannot run here, when it cannot. */
  reason: string;
  start(options?: { deviceId?: number }): Promise<BenchSwitch>;
}

/** The benchmark fixture with one 128K-entry exact table (test/fixtures/p4/write_scale.p4). */
export const writeScaleBuild = {
  json: fileURLToPath(new URL("../../../test/fixtures/build/write_scale.json", import.meta.url)),
  p4info: fileURLToPath(
    new URL("../../../test/fixtures/build/write_scale.p4info.bin", import.meta.url),
  ),
};

/** N distinct host MACs → port entries, built by name as the controller builds them. */
export function* hostUpdates(builder: EntityBuilder, count: number): Generator<Update> {
  for (let i = 0; i < count; i++) {
    yield {
      type: "INSERT",
      entity: builder.tableEntry("hosts", {
        match: { "hdr.ethernet.dst": 0x02_00_00_00_00_00 + i },
        target: { action: "forward", params: { port: (i % 64) + 1 } },
      }),
    };
  }
}

/**
 * hostUpdates as WriteRequests of `batch` updates, encoded by protobufjs before any clock starts:
 * what a bare loop sends (the floor of client overhead, and the switch's own write rate).
 */
export function preEncodedWrites(
  builder: EntityBuilder,
  count: number,
  batch: number,
  deviceId: number,
  electionId: bigint,
): Buffer[] {
  const WriteRequest = p4runtimeProto().p4.v1.WriteRequest;
  const updates = [...hostUpdates(builder, count)];
  const requests: Buffer[] = [];
  for (let start = 0; start < count; start += batch) {
    requests.push(
      WriteRequest.serialize({
        device_id: String(deviceId),
        election_id: { high: "0", low: electionId.toString() },
        updates: updates.slice(start, start + batch),
        atomicity: "CONTINUE_ON_ERROR",
      }),
    );
  }
  return requests;
}

/** A bare grpc-js channel that sends pre-encoded Write requests one after the other. */
export function bareWriter(address: string): {
  send(requests: Buffer[]): Promise<void>;
  close(): void;
} {
  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer) => b;
  const sendOne = (request: Buffer) =>
    new Promise<void>((resolve, reject) =>
      raw.makeUnaryRequest("/p4.v1.P4Runtime/Write", identity, identity, request, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  return {
    async send(requests) {
      for (const request of requests) await sendOne(request);
    },
    close: () => raw.close(),
  };
}

export function benchTargets(names: string[]): BenchTarget[] {
  return names.map((name) => {
    switch (name) {
      case "softswitch":
        return {
          name,
          available: existsSync(softswitchCli),
          reason: `${softswitchCli} is not built`,
          start: (options) => startSoftswitch(options),
        };
      case "bmv2": {
        const tool = findTool("simple_switch_grpc");
        return {
          name,
          available: tool.found,
          reason: tool.found ? "" : tool.reason,
          start: (options) => startBmv2(options),
        };
      }
      default:
        throw new Error(`unknown benchmark target "${name}" (known: softswitch, bmv2)`);
    }
  });
}
