/**
 * PI's answers verbatim (issue 15): codes and messages compared as strings, as a client that
 * compares them would, on both targets (bmv2 skipped when absent). The softswitch's extra detail
 * (which table, which index) goes to its log, never into the answer.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { P4RuntimeRpcError, WriteError } from "../../../controller/p4rt/errors.js";
import { forwardingPipelineConfig } from "../../../controller/p4rt/pipeline.js";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { client, fixturePipeline, type RunningTarget, targets } from "./targets.js";

/** Each failed update as [index, code, message]. */
async function failures(
  c: P4RuntimeClient,
  updates: Update[],
): Promise<[number, number, string][]> {
  try {
    await c.write(updates);
    return [];
  } catch (error) {
    assert.ok(error instanceof WriteError, String(error));
    return error.failures.map((f) => [f.index, f.code, f.message]);
  }
}

for (const target of targets) {
  describe(`PI's messages verbatim (${target.name})`, () => {
    const skip = target.skip;
    let running: RunningTarget;
    let c: P4RuntimeClient;
    const pipeline = fixturePipeline();
    const b = new EntityBuilder(pipeline.index);

    before(async () => {
      if (skip) return;
      running = await target.start();
      c = client(running, 1n);
      await c.connect();
      await c.setPipeline(forwardingPipelineConfig(pipeline));
    });
    after(async () => {
      c?.close();
      await running?.stop();
    });

    test("writes past a counter's or meter's end, a bytestring too wide, a bad id", {
      skip,
    }, async () => {
      const modify = (entity: Update["entity"]): Update => ({ type: "MODIFY", entity });
      const badAction = b.tableEntry("l2", {
        match: { "hdr.ethernet.dst": "02:00:00:00:00:01" },
        target: { action: "forward", params: { port: 1 } },
      });
      const action = badAction.table_entry?.action?.action;
      if (action) action.action_id = 1;
      const tooWide = b.tableEntry("l2", {
        match: { "hdr.ethernet.dst": "02:00:00:00:00:02" },
        target: { action: "forward", params: { port: 1 } },
      });
      const param = tooWide.table_entry?.action?.action?.params?.[0];
      if (param) param.value = Buffer.from([0xff, 0xff, 0xff]);
      assert.deepEqual(
        await failures(c, [
          modify(b.counterEntry("port_both", 512, { packets: 1, bytes: 1 })),
          modify(b.meterEntry("port_meter", 1, { cir: 3000, cburst: 1, pir: 1000, pburst: 1 })),
          { type: "INSERT", entity: badAction },
          { type: "INSERT", entity: tooWide },
        ]),
        [
          [0, grpc.status.UNKNOWN, "Error when writing to counter"],
          [1, grpc.status.UNKNOWN, "Error when writing meter spec"],
          [2, grpc.status.INVALID_ARGUMENT, "Invalid P4 id"],
          [3, grpc.status.INVALID_ARGUMENT, "Bytestring provided does not fit within 9 bits"],
        ],
      );
    });

    test("a counter read past the end: UNKNOWN, PI's message", { skip }, async () => {
      const error = await c.readAll([b.counterEntry("port_both", 512)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof P4RuntimeRpcError, String(error));
      assert.equal(error.code, grpc.status.UNKNOWN);
      assert.equal(error.details, "Error when reading counter from target");
    });

    test("a failed batch's top-level message is empty, as PI leaves it", { skip }, async () => {
      const Stub = p4runtimeProto().p4.v1.P4Runtime;
      const stub = new Stub(running.address, grpc.credentials.createInsecure());
      try {
        const status = await new Promise<grpc.ServiceError>((resolve) =>
          stub.Write(
            {
              device_id: String(running.deviceId),
              election_id: { high: "0", low: "1" },
              updates: [
                {
                  type: "MODIFY",
                  entity: b.counterEntry("port_both", 512, { packets: 1, bytes: 1 }),
                },
              ],
            },
            (error) => resolve(error as grpc.ServiceError),
          ),
        );
        assert.equal(status.code, grpc.status.UNKNOWN);
        assert.equal(status.details, "");
      } finally {
        stub.close();
      }
    });
  });
}
