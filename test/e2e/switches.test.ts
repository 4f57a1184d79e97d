/**
 * The fabric's P4Runtime switch processes (topologies/nvgre/switches.py): each answers
 * P4Runtime on its own loopback address with its device id and no program; a restarted one
 * comes back blank on the same address; teardown leaves no process, interface or run
 * directory behind.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { Fabric } from "../../topologies/demo/fabric.js";
import { fabricTargets } from "../../topologies/demo/mininet.js";

async function blankAndPrimary(address: string, deviceId: number): Promise<void> {
  const client = new P4RuntimeClient({
    address,
    deviceId,
    electionId: 1n,
    reconnect: false,
    connectTimeoutMs: 30_000,
  });
  try {
    const state = await client.connect();
    assert.equal(state.primary, true, `${address}: not primary`);
    assert.equal(await client.pipelineCookie(), undefined, `${address}: has a pipeline`);
  } finally {
    client.close();
  }
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

for (const { target, skip } of fabricTargets()) {
  describe(`fabric switches on ${target}`, () => {
    let fabric: Fabric | undefined;

    before(async () => {
      if (skip) return;
      fabric = await Fabric.start({ target, spines: 1, leaves: 2 });
    });
    after(async () => {
      await fabric?.stop();
    });

    test("every switch answers P4Runtime on its address with its device id, no program", {
      skip,
    }, async () => {
      const switches = fabric?.description.switches ?? [];
      assert.equal(switches.length, 3);
      assert.equal(new Set(switches.map((s) => s.grpc_address)).size, 3);
      for (const s of switches) {
        assert.match(s.grpc_address, /^127\.0\.0\.1:\d+$/);
        assert.equal(s.cpu_port, 510);
        await blankAndPrimary(s.grpc_address, s.device_id);
      }
    });

    test("a restarted switch comes back blank on the same address", { skip }, async () => {
      assert.ok(fabric);
      const before = fabric.switchInfo("leaf1");
      await fabric.restartSwitch("leaf1");
      const after = fabric.switchInfo("leaf1");
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.grpc_address, before.grpc_address);
      assert.equal(alive(before.pid ?? 0), false, "the old process is gone");
      await blankAndPrimary(after.grpc_address, after.device_id);
    });

    test("teardown leaves no process, interface or run directory", { skip }, async () => {
      assert.ok(fabric);
      const pids = [
        ...fabric.description.switches.map((s) => s.pid ?? 0),
        ...fabric.description.vms.map((v) => v.pid),
      ];
      const interfaces = fabric.description.switches.flatMap((s) => Object.values(s.ports));
      const runDir = fabric.runDir;
      await fabric.stop();
      fabric = undefined;
      assert.deepEqual(pids.filter(alive), []);
      const left = new Set(readdirSync("/sys/class/net"));
      assert.deepEqual(
        interfaces.filter((name) => left.has(name)),
        [],
      );
      assert.equal(existsSync(runDir), false);
    });
  });
}
