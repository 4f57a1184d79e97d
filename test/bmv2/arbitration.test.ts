/**
 * The P4Runtime client's arbitration against real bmv2 (simple_switch_grpc with PI): the higher
 * election id is primary, the other is told it is a backup, and primary moves back when the
 * higher one leaves. Skipped, with the reason, where bmv2 is not installed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ArbitrationState, P4RuntimeClient } from "../../controller/p4rt/client.js";
import { NotPrimaryError } from "../../controller/p4rt/errors.js";
import { type RunningSwitch, startBmv2 } from "../../topologies/bmv2.js";
import { skipUnless } from "../../topologies/toolchain.js";

// Skips are set per test so the runner counts them in its summary.
const skip = skipUnless("simple_switch_grpc");

describe("bmv2 arbitration", () => {
  let sw: RunningSwitch;
  const clients: P4RuntimeClient[] = [];
  const connect = (electionId: bigint) => {
    const client = new P4RuntimeClient({
      address: sw.address,
      deviceId: sw.deviceId,
      electionId,
      reconnect: false,
    });
    clients.push(client);
    return client;
  };
  const nextArbitration = (client: P4RuntimeClient) =>
    new Promise<ArbitrationState>((resolve) => client.once("arbitration", resolve));

  before(async () => {
    if (skip) return;
    sw = await startBmv2();
  });

  after(async () => {
    for (const client of clients) client.close();
    await sw?.stop();
  });

  test("primary follows the highest election id; the backup's writes are refused", {
    skip,
  }, async () => {
    const low = connect(5n);
    assert.deepEqual(await low.connect(), { primary: true, primaryElectionId: 5n });
    assert.match(await low.capabilities(), /^1\.\d+\.\d+$/);
    assert.equal(await low.pipelineCookie(), undefined, "a fresh switch has no pipeline");

    const high = connect(10n);
    const lowLost = nextArbitration(low);
    assert.deepEqual(await high.connect(), { primary: true, primaryElectionId: 10n });
    assert.deepEqual(await lowLost, { primary: false, primaryElectionId: 10n });
    await assert.rejects(low.write([]), NotPrimaryError);

    const lowRegained = nextArbitration(low);
    high.close();
    assert.deepEqual(await lowRegained, { primary: true, primaryElectionId: 5n });
  });
});
