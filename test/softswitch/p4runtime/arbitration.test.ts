/**
 * StreamChannel arbitration and the access rules that follow from it, asserted identically
 * against the softswitch and simple_switch_grpc (skipped, naming it, where bmv2 is absent).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { ArbitrationState, P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { toUint128 } from "../../../proto/uint128.js";
import {
  client,
  type RunningTarget,
  rawStream,
  softswitchTarget,
  stub,
  targets,
  unary,
} from "./targets.js";

const nextArbitration = (c: P4RuntimeClient) =>
  new Promise<ArbitrationState>((resolve) => c.once("arbitration", resolve));

for (const target of targets) {
  describe(`P4Runtime arbitration (${target.name})`, () => {
    const skip = target.skip;
    let running: RunningTarget;
    const clients: P4RuntimeClient[] = [];
    const open = (electionId: bigint) => {
      const c = client(running, electionId);
      clients.push(c);
      return c;
    };

    before(async () => {
      if (skip) return;
      running = await target.start();
    });
    after(async () => {
      for (const c of clients) c.close();
      await running?.stop();
    });

    test("the highest election id is primary, every client hears each change, backups are refused", {
      skip,
    }, async () => {
      const low = open(5n);
      assert.deepEqual(await low.connect(), { primary: true, primaryElectionId: 5n });
      assert.match(await low.capabilities(), /^1\.\d+\.\d+$/);

      const high = open(10n);
      const lowLost = nextArbitration(low);
      assert.deepEqual(await high.connect(), { primary: true, primaryElectionId: 10n });
      assert.deepEqual(await lowLost, { primary: false, primaryElectionId: 10n });

      // A backup's write is refused before anything else is checked (PI: "Not primary").
      const s = stub(running);
      const fromBackup = await unary(s.Write.bind(s), {
        device_id: String(running.deviceId),
        election_id: toUint128(5n),
        updates: [],
      });
      assert.deepEqual(fromBackup, { code: grpc.status.PERMISSION_DENIED, details: "Not primary" });
      const withoutId = await unary(s.Write.bind(s), {
        device_id: String(running.deviceId),
        updates: [],
      });
      assert.equal(withoutId.code, grpc.status.PERMISSION_DENIED);
      // The primary gets past arbitration and learns that no pipeline is set yet.
      const fromPrimary = await unary(s.Write.bind(s), {
        device_id: String(running.deviceId),
        election_id: toUint128(10n),
        updates: [],
      });
      assert.deepEqual(fromPrimary, {
        code: grpc.status.FAILED_PRECONDITION,
        details: "No forwarding pipeline config set for this device",
      });

      const lowRegained = nextArbitration(low);
      high.close();
      assert.deepEqual(await lowRegained, { primary: true, primaryElectionId: 5n });
      s.close();
    });

    test("backups are told ALREADY_EXISTS with the primary's id; a duplicate id ends the stream", {
      skip,
    }, async () => {
      const s = stub(running);
      const deviceId = running.deviceId;
      const primary = rawStream(s, { deviceId, electionId: 20n });
      await primary.until(() => primary.messages.length === 1);
      const backup = rawStream(s, { deviceId, electionId: 15n });
      await backup.until(() => backup.messages.length === 1);
      const status = backup.messages[0]?.arbitration?.status;
      assert.equal(status?.code, grpc.status.ALREADY_EXISTS);
      assert.equal(status?.message, "Is backup");
      assert.deepEqual(backup.messages[0]?.arbitration?.election_id, { high: "0", low: "20" });
      assert.equal(primary.messages[0]?.arbitration?.status?.message, "Is primary");
      assert.equal(primary.messages.length, 1, "a new backup is announced to itself only");

      const duplicate = rawStream(s, { deviceId, electionId: 15n });
      await duplicate.until(() => duplicate.ended !== undefined);
      assert.deepEqual(duplicate.ended, {
        code: grpc.status.INVALID_ARGUMENT,
        details: "Election id already exists",
      });

      // Changing device id on a live stream is refused.
      backup.call.write({
        arbitration: { device_id: String(deviceId + 1), election_id: toUint128(15n) },
      });
      await backup.until(() => backup.ended !== undefined);
      assert.deepEqual(backup.ended, {
        code: grpc.status.FAILED_PRECONDITION,
        details: "Invalid device id",
      });
      primary.call.end();
      s.close();
    });
  });
}

describe("P4Runtime arbitration, softswitch only", () => {
  let running: RunningTarget;
  before(async () => {
    running = await softswitchTarget.start();
  });
  after(() => running.stop());

  test("an unknown device id is NOT_FOUND (PI would arbitrate a device that does not exist)", async () => {
    const s = stub(running);
    const stream = rawStream(s, { deviceId: 7, electionId: 1n });
    await stream.until(() => stream.ended !== undefined);
    assert.equal(stream.ended?.code, grpc.status.NOT_FOUND);
    assert.match(stream.ended?.details ?? "", /device id 7.*device 1/);
    const read = await unary(s.GetForwardingPipelineConfig.bind(s), { device_id: "7" });
    assert.equal(read.code, grpc.status.NOT_FOUND);
    s.close();
  });

  test("roles elect their primaries apart and answer with their role", async () => {
    const s = stub(running);
    const a = rawStream(s, { deviceId: 1, electionId: 9n, role: "ops" });
    const b = rawStream(s, { deviceId: 1, electionId: 3n });
    await a.until(() => a.messages.length === 1);
    await b.until(() => b.messages.length === 1);
    assert.equal(a.messages[0]?.arbitration?.status?.code, grpc.status.OK);
    assert.equal(a.messages[0]?.arbitration?.role?.name, "ops");
    assert.equal(b.messages[0]?.arbitration?.status?.code, grpc.status.OK);
    // The default role's primary may write; the ops primary may not write as the default role.
    const asOps = await unary(s.Write.bind(s), {
      device_id: "1",
      election_id: toUint128(9n),
      updates: [],
    });
    assert.equal(asOps.code, grpc.status.PERMISSION_DENIED);
    const asOpsRole = await unary(s.Write.bind(s), {
      device_id: "1",
      role: "ops",
      election_id: toUint128(9n),
      updates: [],
    });
    assert.equal(asOpsRole.code, grpc.status.FAILED_PRECONDITION);
    a.call.end();
    b.call.end();
    s.close();
  });
});
