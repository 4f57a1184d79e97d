/**
 * The product end to end: a 2-spine × 3-leaf Mininet fabric of P4 switches running the NVGRE
 * program, programmed only by the controller (the nvgre daemon, driven by nvgre-ctl) from the
 * fabric file the topology writes, with tenant VMs as hosts. Blue and red share CAs and MACs; blue has two routed VSIDs; blue-web
 * VMs have IPv6 CAs; the last leaf has only an IPv6 PA. Which VM a frame reached is judged by
 * a tag in its payload, seen by a listener inside the destination VM.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readPortCounters } from "../../topologies/demo/counters.js";
import { ControllerDaemon } from "../../topologies/demo/daemon.js";
import { Fabric } from "../../topologies/demo/fabric.js";
import { migrate } from "../../topologies/demo/migration.js";
import { fabricTargets } from "../../topologies/demo/mininet.js";
import {
  hostAddress,
  ProbeListeners,
  ping,
  pingMatrix,
  sendProbe,
} from "../../topologies/demo/traffic.js";

/** Polls until `done()` or `ms` passed (arrival of frames), then lets stragglers arrive. */
async function settle(done: () => boolean, ms = 5000, quietMs = 500): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, quietMs));
}

for (const { target, skip } of fabricTargets()) {
  describe(`NVGRE fabric end to end on ${target}`, () => {
    let fabric: Fabric;
    let controller: ControllerDaemon;

    before(async () => {
      if (skip) return;
      fabric = await Fabric.start({ target });
      controller = await ControllerDaemon.start(fabric);
      await controller.apply(fabric.fabricFile);
    });
    after(async () => {
      await controller?.stop();
      await fabric?.stop();
    });

    test("R18 R14 R13 ping matrix: every pair that must reach does; no VM ever sees a request from another tenant, with identical CAs and MACs", {
      skip,
    }, async () => {
      const cells = await pingMatrix(fabric);
      // 7 VMs: 6 web VMs with IPv4 and IPv6 and blue-db1 with IPv4 only.
      assert.equal(cells.length, 7 * 6 + 6 * 5);
      const failures = cells
        .filter((c) => (c.expected ? !c.reached : c.delivered))
        .map(
          (c) =>
            `${c.from} → ${c.to} IPv${c.family}: expected ${c.expected ? "reach" : "isolation"}`,
        );
      assert.deepEqual(failures, []);
      assert.equal(cells.filter((c) => c.expected).length, 30);
      // Across tenants the pinged CA belongs to the sender's own tenant too: it is answered there.
      const redToBlue = cells.find(
        (c) => c.from === "red-web1" && c.to === "blue-web2" && c.family === 4,
      );
      assert.equal(redToBlue?.delivered, false);
      assert.ok((redToBlue?.replies ?? 0) > 0, "red-web2 (same CA as blue-web2) answers red-web1");
    });

    test("R14 routing between a tenant's VSIDs: the request arrives from the destination VSID's gateway MAC with its TTL decremented", {
      skip,
    }, async () => {
      const listeners = await ProbeListeners.start(fabric, ["blue-db1", "blue-web1"]);
      try {
        const db = fabric.vm("blue-db1");
        const summary = await ping(fabric, "blue-web1", hostAddress(db.ipv4), {
          count: 3,
          tag: "a001",
        });
        assert.equal(summary.received, 3);
        // The listener reports what it captured a moment after the VM answered: on a busy
        // host the last request's report can come after ping's last reply.
        const tagged = () => listeners.seen("blue-db1").filter((h) => h.tag === "a001");
        await settle(() => tagged().length >= 3, 5000, 0);
        const hits = tagged();
        assert.ok(hits.length >= 3, "blue-db1 got the tagged requests");
        const gatewayMac = fabric.description.subnets.find(
          (s) => s.name === "blue-db",
        )?.gateway_mac;
        for (const hit of hits) {
          assert.equal(hit.src_mac, gatewayMac);
          assert.equal(hit.dst_mac, db.mac);
          assert.equal(hit.ttl, 63);
        }
        // red has no route to blue's db subnet: red-web1 has no gateway and nothing arrives.
        const red = await ping(fabric, "red-web1", hostAddress(db.ipv4), { count: 2, tag: "a002" });
        assert.equal(red.received, 0);
        assert.equal(listeners.reached("blue-db1", "a002"), false);
      } finally {
        listeners.stop();
      }
    });

    test("R10 R18 flooding: a broadcast or unknown unicast reaches every VM of its VSID on every leaf and no other VM", {
      skip,
    }, async () => {
      const all = fabric.description.vms.map((v) => v.name);
      const listeners = await ProbeListeners.start(fabric, all);
      try {
        const cases = [
          { from: "blue-web1", tag: "f001", dst: "ff:ff:ff:ff:ff:ff" },
          // red-web1 has blue-web1's MAC: its flood must stay in red.
          { from: "red-web1", tag: "f002", dst: "ff:ff:ff:ff:ff:ff" },
          { from: "blue-web2", tag: "f003", dst: "02:00:00:00:99:99" },
        ];
        for (const c of cases) await sendProbe(fabric, c.from, c.tag, c.dst);
        const expected = (from: string) => {
          const vsid = fabric.vm(from).vsid;
          return all.filter((name) => name !== from && fabric.vm(name).vsid === vsid).sort();
        };
        await settle(() =>
          cases.every((c) => expected(c.from).every((vm) => listeners.reached(vm, c.tag))),
        );
        for (const c of cases) {
          const got = all.filter((vm) => listeners.reached(vm, c.tag)).sort();
          assert.deepEqual(got, expected(c.from), `${c.from} → ${c.dst}`);
        }
      } finally {
        listeners.stop();
      }
    });

    test("R9 a spine link down: once the controller updates the ECMP groups, traffic crosses the other spine", {
      skip,
    }, async () => {
      const leaf1 = fabric.switchInfo("leaf1");
      const targets = ["blue-web2", "blue-web3", "blue-db1"];
      await fabric.setLink("leaf1", "spine1", false);
      try {
        // The operator (or a link monitor) declares the link gone: the fabric file leaves it out.
        await controller.apply(fabric.fabricFile);
        const before = await readPortCounters(leaf1, "port_tx", [49, 50]);
        for (const vm of targets) {
          const summary = await ping(fabric, "blue-web1", hostAddress(fabric.vm(vm).ipv4), {
            count: 5,
          });
          assert.equal(summary.received, 5, `blue-web1 → ${vm} with leaf1-spine1 down`);
        }
        const after = await readPortCounters(leaf1, "port_tx", [49, 50]);
        const sent = (port: number) =>
          (after.get(port)?.packets ?? 0n) - (before.get(port)?.packets ?? 0n);
        assert.equal(sent(49), 0n, "nothing is sent toward the dead link");
        assert.ok(sent(50) >= 15n, "everything leaves toward spine2");
      } finally {
        await fabric.setLink("leaf1", "spine1", true);
        await controller.apply(fabric.fabricFile);
      }
      const back = await ping(fabric, "blue-web1", hostAddress(fabric.vm("blue-web2").ipv4), {
        count: 3,
      });
      assert.equal(back.received, 3);
    });

    test("live migration with nvgre-ctl endpoint move: the VM answers from its new leaf, losing only what was sent while it moved and the controller reprogrammed", {
      skip,
    }, async () => {
      const result = await migrate(fabric, "blue-web1", "leaf2", "blue-web3", (vm, to) =>
        controller.moveEndpoint(vm, to),
      );
      assert.equal(fabric.vm("blue-web1").leaf, "leaf2");
      assert.ok(result.convergenceMs !== undefined, "replies resume after the move");
      const bound = Math.ceil(result.outageWindowMs / result.intervalMs) + 5;
      assert.ok(result.lost <= bound, `lost ${result.lost} > ${bound} echoes sent during the move`);
      // Everything works from the new place, also across tenants' isolation.
      const cells = await pingMatrix(fabric, 2);
      const failures = cells.filter((c) => (c.expected ? !c.reached : c.delivered));
      assert.deepEqual(failures, []);
    });

    test("a leaf's switch process restarted blank: traffic comes back without operator action", {
      skip,
    }, async () => {
      const to = (vm: string) => hostAddress(fabric.vm(vm).ipv4);
      await fabric.restartSwitch("leaf3");
      const restarted = fabric.switchInfo("leaf3");
      // Only waiting here: the daemon notices the new switch, pushes the pipeline and the
      // leaf's whole state; nobody runs a command.
      let back = false;
      const until = Date.now() + 120_000;
      while (!back && Date.now() < until) {
        back =
          (await ping(fabric, "blue-web2", to("blue-web3"), { count: 1, waitS: 1 })).received === 1;
      }
      assert.ok(back, `blue-web3 behind the restarted ${restarted.name} never answered again`);
      const status = await controller.status();
      const leaf3 = status.switches.find((s) => s.name === "leaf3");
      assert.equal(leaf3?.pipelineCurrent, true);
      for (const [from, vm] of [
        ["blue-web2", "blue-db1"],
        ["red-web2", "red-web3"],
        ["blue-web3", "blue-web2"],
      ] as const) {
        const summary = await ping(fabric, from, to(vm), { count: 3 });
        assert.equal(summary.received, 3, `${from} → ${vm} after the restart`);
      }
    });
  });
}
