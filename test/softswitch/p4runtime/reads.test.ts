/**
 * Large reads: the softswitch builds and sends a Read's entities batch by batch (so a read of a
 * large table does not hold the switch while it is built), in the order a whole read gives,
 * after checking the whole request; a reader that goes away mid-read stops it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import type { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { forwardingPipelineConfig } from "../../../controller/p4rt/pipeline.js";
import type { ReadResponse__Output } from "../../../proto/gen/p4/v1/ReadResponse.js";
import { client, type RunningTarget, startSoftswitchTarget, stub } from "./targets.js";

const ENTRIES = 5000;
const BATCH = 100;

describe("large reads", () => {
  let target: RunningTarget;
  let writer: P4RuntimeClient;
  const pipeline = loadNvgrePipeline();
  const builder = new EntityBuilder(pipeline.index);
  const macTableId = pipeline.index.tables.id("mac");

  before(async () => {
    target = await startSoftswitchTarget({ readBatchSize: BATCH });
    writer = client(target, 1n);
    await writer.connect();
    await writer.setPipeline(forwardingPipelineConfig(pipeline));
    await writer.write(
      Array.from({ length: ENTRIES }, (_, i) => ({
        type: "INSERT" as const,
        entity: builder.tableEntry("mac", {
          match: { vsid: 7, dst_mac: 0x02_00_00_00_00_00 + i },
          target: { action: "bridge_to_port", params: { port: 1 + (i % 8) } },
        }),
      })),
    );
  });
  after(async () => {
    writer.close();
    await target.stop();
  });

  /** Every ReadResponse of one Read, or the status it failed with. */
  function readResponses(
    entities: object[],
  ): Promise<{ responses: ReadResponse__Output[]; error?: grpc.ServiceError }> {
    return new Promise((resolve) => {
      const responses: ReadResponse__Output[] = [];
      const call = stub(target).Read({ device_id: "1", entities });
      call.on("data", (response: ReadResponse__Output) => responses.push(response));
      call.on("error", (error: grpc.ServiceError) => resolve({ responses, error }));
      call.on("end", () => resolve({ responses }));
    });
  }

  it("a read of 5,000 entries comes in full batches of the server's size, every entry once", async () => {
    const { responses, error } = await readResponses([{ table_entry: { table_id: macTableId } }]);
    assert.equal(error, undefined);
    assert.equal(responses.length, ENTRIES / BATCH);
    assert.ok(responses.every((r) => r.entities.length === BATCH));
    const macs = responses.flatMap((r) =>
      r.entities.map((e) =>
        Buffer.from(e.table_entry?.match[1]?.exact?.value ?? []).toString("hex"),
      ),
    );
    assert.equal(new Set(macs).size, ENTRIES);
  });

  it("an empty read still answers once, with no entity", async () => {
    const { responses, error } = await readResponses([
      { table_entry: { table_id: pipeline.index.tables.id("nve") } },
    ]);
    assert.equal(error, undefined);
    assert.deepEqual(
      responses.map((r) => r.entities.length),
      [0],
    );
  });

  it("a request with an invalid part fails whole: no entity of its valid parts is sent", async () => {
    const { responses, error } = await readResponses([
      { table_entry: { table_id: macTableId } },
      { table_entry: { table_id: 0x7fff_ffff } },
    ]);
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, error?.details);
    assert.equal(error?.details, "Invalid P4 id");
    assert.deepEqual(responses, []);
  });

  it("a reader that cancels mid-read stops it; the switch goes on serving reads and writes", async () => {
    const call = stub(target).Read({
      device_id: "1",
      entities: [{ table_entry: { table_id: macTableId } }],
    });
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    call.cancel();
    await new Promise<void>((resolve) => call.on("error", () => resolve()));
    await writer.write([
      {
        type: "DELETE",
        entity: builder.tableEntry("mac", {
          match: { vsid: 7, dst_mac: 0x02_00_00_00_00_00 },
          target: { action: "bridge_to_port", params: { port: 1 } },
        }),
      },
    ]);
    const entries = await writer.readAll([{ table_entry: { table_id: macTableId } }]);
    assert.equal(entries.length, ENTRIES - 1);
  });
});
