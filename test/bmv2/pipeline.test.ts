/**
 * The project's compiled program and P4Runtime client against real bmv2 (simple_switch_grpc with
 * PI): the vendored protos, the committed p4/build outputs and the client's error mapping agree
 * with p4lang's own implementation. Skipped, with the reason, where bmv2 is not installed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { loadNvgrePipeline } from "../../controller/nvgre-build.js";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { WriteError } from "../../controller/p4rt/errors.js";
import { ensurePipeline, type Pipeline } from "../../controller/p4rt/pipeline.js";
import { encodeUnsigned } from "../../proto/bytestring.js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import { type RunningSwitch, startBmv2 } from "../../topologies/bmv2.js";
import { skipUnless } from "../../topologies/toolchain.js";

// Skips are set per test so the runner counts them in its summary.
const skip = skipUnless("simple_switch_grpc");

describe("bmv2 simple_switch_grpc", () => {
  let sw: RunningSwitch;
  let client: P4RuntimeClient;
  let pipeline: Pipeline;

  before(async () => {
    if (skip) return;
    pipeline = loadNvgrePipeline();
    sw = await startBmv2();
    client = new P4RuntimeClient({
      address: sw.address,
      deviceId: sw.deviceId,
      electionId: 1n,
      reconnect: false,
    });
    assert.equal((await client.connect()).primary, true);
  });

  after(async () => {
    client?.close();
    await sw?.stop();
  });

  test("accepts the committed nvgre pipeline once, then recognises it by cookie", {
    skip,
  }, async () => {
    assert.match(await client.capabilities(), /^1\.\d+\.\d+/);
    assert.equal(await client.pipelineCookie(), undefined);
    assert.equal(await ensurePipeline(client, pipeline), true, sw.log());
    assert.equal(await client.pipelineCookie(), pipeline.cookie);
    assert.equal(await ensurePipeline(client, pipeline), false);
  });

  test("a table entry reads back equal; a duplicate insert fails alone with ALREADY_EXISTS", {
    skip,
  }, async () => {
    // Any non-const table keyed only by exact fields, with an action allowed in entries.
    const table = pipeline.index.p4info.tables.find(
      (t) =>
        !t.is_const_table &&
        t.implementation_id === 0 &&
        t.match_fields.length > 0 &&
        t.match_fields.every((f) => f.match_type === "EXACT") &&
        t.action_refs.some((a) => a.scope !== "DEFAULT_ONLY"),
    );
    assert.ok(table?.preamble, "the program has an exact-match table");
    const actionRef = table.action_refs.find((a) => a.scope !== "DEFAULT_ONLY");
    const action = pipeline.index.actions.byIdOrThrow(actionRef?.id ?? 0);
    const entryFor = (key: number) => ({
      table_id: table.preamble?.id,
      match: table.match_fields.map((f) => ({
        field_id: f.id,
        exact: { value: encodeUnsigned(key % 2 ** Math.min(f.bitwidth, 30), f.bitwidth, f.name) },
      })),
      action: {
        action: {
          action_id: action.preamble?.id,
          params: action.params.map((p) => ({
            param_id: p.id,
            value: encodeUnsigned(0, p.bitwidth, p.name),
          })),
        },
      },
    });
    const insert = (key: number): Update => ({
      type: "INSERT",
      entity: { table_entry: entryFor(key) },
    });

    await client.write([insert(1)]);
    const [readBack] = await client.readAll([{ table_entry: { table_id: table.preamble?.id } }]);
    assert.deepEqual(
      readBack?.table_entry?.match.map((m) => m.exact?.value),
      entryFor(1).match.map((m) => m.exact.value),
    );

    const error = await client.write([insert(2), insert(1), insert(3)]).then(
      () => assert.fail("the duplicate insert must fail"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WriteError, String(error));
    assert.deepEqual(
      error.failures.map((f) => [f.index, f.code]),
      [[1, grpc.status.ALREADY_EXISTS]],
    );
    const all = await client.readAll([{ table_entry: { table_id: table.preamble?.id } }]);
    assert.equal(all.length, 3);
  });
});
