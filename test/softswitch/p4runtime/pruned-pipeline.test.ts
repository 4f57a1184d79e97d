/**
 * p4c prunes the JSON harder than the P4Info: a table that is never applied leaves the JSON
 * (with a NoAction nothing else uses) but stays in the P4Info, and a key of type `error` has no
 * width in the P4Info because P4Runtime cannot express its values. PI loads such pipelines and
 * refuses only the writes that name what the JSON lacks; the softswitch must do the same, or a
 * program bmv2 runs would not run on it (two of p4c's own samples are like this).
 * Fixture: test/fixtures/p4/pi_compat.p4.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { WriteError } from "../../../controller/p4rt/errors.js";
import { forwardingPipelineConfig, loadPipeline } from "../../../controller/p4rt/pipeline.js";
import type { Entity } from "../../../proto/gen/p4/v1/Entity.js";
import { repoRoot } from "../../../topologies/repo.js";
import { client, type RunningTarget, targets } from "./targets.js";

const base = join(repoRoot, "test/fixtures/build/pi_compat");
const pipeline = loadPipeline({ json: `${base}.json`, p4info: `${base}.p4info.bin` });
const b = new EntityBuilder(pipeline.index);

/** The switch's code and message for one INSERT, or undefined when it was applied. */
async function insertFailure(c: P4RuntimeClient, entity: Entity) {
  try {
    await c.write([{ type: "INSERT", entity }]);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WriteError, String(error));
    return error.failures[0];
  }
}

for (const target of targets) {
  describe(`P4Runtime, a pipeline p4c pruned (${target.name})`, () => {
    const skip = target.skip;
    let running: RunningTarget;
    let c: P4RuntimeClient;

    before(async () => {
      if (skip) return;
      running = await target.start();
      c = client(running, 1n);
      await c.connect();
    });
    after(async () => {
      c?.close();
      await running?.stop();
    });

    test("it loads; the default action of the error-keyed table can be set", { skip }, async () => {
      await c.setPipeline(forwardingPipelineConfig(pipeline));
      await c.write([
        {
          type: "MODIFY",
          entity: b.defaultEntry("by_error", { action: "mark", params: { etherType: 0x0800 } }),
        },
      ]);
    });

    test("the table the JSON lacks refuses its default entry (its only action is NoAction, default-only)", {
      skip,
    }, async () => {
      try {
        await c.write([
          { type: "MODIFY", entity: b.defaultEntry("unreachable", { action: "NoAction" }) },
        ]);
        assert.fail("written");
      } catch (error) {
        assert.ok(error instanceof WriteError, String(error));
        const failure = error.failures[0];
        if (target.name === "bmv2") {
          // PI passes the write to bmv2, which has no such table.
          assert.equal(failure?.code, grpc.status.UNKNOWN);
        } else {
          // Deliberately clearer than PI: the request, not the target, is at fault.
          assert.equal(failure?.code, grpc.status.INVALID_ARGUMENT);
          assert.match(
            failure?.message ?? "",
            /Table CompatIngress\.unreachable is in the P4Info but not in the device config/,
          );
        }
      }
    });

    test("an entry matching on the error-typed key is refused", { skip }, async () => {
      const failure = await insertFailure(c, {
        table_entry: {
          table_id: pipeline.index.tables.id("by_error"),
          match: [{ field_id: 1, exact: { value: Buffer.from([1]) } }],
          action: {
            action: {
              action_id: pipeline.index.actions.id("mark"),
              params: [{ param_id: 1, value: Buffer.from([1]) }],
            },
          },
        },
      });
      assert.equal(failure?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(failure?.message ?? "", /Bytestring provided does not fit within 0 bits/);
    });
  });
}
