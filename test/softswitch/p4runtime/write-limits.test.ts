/**
 * Every Write is answered (issue 15): large batches with many failures, a batch that overflows a
 * table, and a switch that never answers (the client's deadline, a typed timeout).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { P4RuntimeClient, P4RuntimeTimeoutError } from "../../../controller/p4rt/client.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { P4RuntimeRpcError, WriteError } from "../../../controller/p4rt/errors.js";
import { forwardingPipelineConfig } from "../../../controller/p4rt/pipeline.js";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import { MAX_UPDATES_PER_WRITE } from "../../../softswitch/p4runtime/write-status.js";
import { client, type RunningTarget, softswitchTarget } from "./targets.js";

function macInserts(builder: EntityBuilder, from: number, count: number): Update[] {
  return Array.from({ length: count }, (_, i) => ({
    type: "INSERT" as const,
    entity: builder.tableEntry("mac", {
      match: { vsid: 7, dst_mac: 0x02_00_00_00_00_00 + from + i },
      target: { action: "bridge_to_port", params: { port: 1 } },
    }),
  }));
}

describe("every Write is answered", () => {
  let target: RunningTarget;
  let writer: P4RuntimeClient;
  const pipeline = loadNvgrePipeline();
  const builder = new EntityBuilder(pipeline.index);

  const macTableId = pipeline.index.tables.id("mac");
  const macEntries = async () =>
    (await writer.readAll([{ table_entry: { table_id: macTableId } }])).length;

  before(async () => {
    target = await softswitchTarget.start();
    writer = client(target, 1n);
    await writer.connect();
    await writer.setPipeline(forwardingPipelineConfig(pipeline));
  });
  after(async () => {
    writer.close();
    await target.stop();
  });

  it("1,000 updates with 400 failing: each failure reported", async () => {
    await writer.write(macInserts(builder, 0, 400));
    // 400 duplicates and 600 new entries in one request.
    const error = await writer.write(macInserts(builder, 0, 1000), { batchSize: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof WriteError, String(error));
    assert.equal(error.failures.length, 400);
    assert.equal(error.failures[0]?.code, 6); // ALREADY_EXISTS
    assert.equal(await macEntries(), 1000);
  });

  it("a batch at the limit with every update failing: each failure reported, with its code", async () => {
    // Duplicates of entries 0..999 and beyond: all fail, and their messages do not all fit.
    await writer.write(macInserts(builder, 1000, MAX_UPDATES_PER_WRITE - 1000));
    const error = await writer
      .write(macInserts(builder, 0, MAX_UPDATES_PER_WRITE), { batchSize: MAX_UPDATES_PER_WRITE })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof WriteError, String(error));
    assert.equal(error.failures.length, MAX_UPDATES_PER_WRITE);
    assert.ok(error.failures.every((f) => f.code === 6)); // ALREADY_EXISTS
  });

  it("66,000 inserts into the 65,536-entry mac table in one request: refused before applying anything", async () => {
    const before = await macEntries();
    const updates = macInserts(builder, 1_000_000, 66_000);
    const error = await writer.write(updates, { batchSize: updates.length }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof P4RuntimeRpcError, String(error));
    assert.equal(error.code, 8); // RESOURCE_EXHAUSTED
    assert.match(error.message, /66000 updates refused, nothing applied: at most \d+ updates/);
    assert.equal(await macEntries(), before);
    // Split at the client's default batch, the same updates are applied and the overflow reported.
    const split = await writer.write(updates).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(split instanceof WriteError, String(split));
    assert.equal(split.failures.length, 66_000 - (65_536 - before));
    assert.ok(split.failures.every((f) => f.code === 8));
  });
});

describe("a switch that never answers", () => {
  let silent: Server;
  let address: string;
  const accepted: import("node:net").Socket[] = [];

  before(async () => {
    // Accepts TCP connections and never speaks HTTP/2: no call on it can complete.
    silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    address = `127.0.0.1:${port}`;
  });
  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it("a unary call fails with P4RuntimeTimeoutError naming the call and the deadline", async () => {
    const c = new P4RuntimeClient({
      address,
      deviceId: 1,
      electionId: 1n,
      reconnect: false,
      callTimeoutMs: 300,
    });
    try {
      const error = await c.capabilities().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof P4RuntimeTimeoutError, String(error));
      assert.equal(error.rpc, "Capabilities");
      assert.equal(error.timeoutMs, 300);
      assert.match(error.message, /Capabilities.*300 ms/);
    } finally {
      c.close();
    }
  });
});
