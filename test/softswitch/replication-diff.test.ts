/**
 * Multicast groups change by difference (issue 15): a 1-replica change to a group of 100,000
 * replicas touches one node of the replication engine, and packets keep flowing through the
 * switch before and after, the change visible in the copies.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Replica__Output } from "../../proto/gen/p4/v1/Replica.js";
import { ReplicationEntries } from "../../softswitch/p4runtime/replication.js";
import { fixtureSwitch } from "./fixture.js";

/** externs.p4's ctl header: op 5 sends the packet to multicast group `arg`; op 0 to port 1. */
const frame = (op: number, arg: number) =>
  Buffer.from(
    `000000000002000000000001 88b8 ${[op, arg].map((b) => b.toString(16).padStart(2, "0")).join("")} 00000000 0000 0000 0000 0000 00000000 dead`.replace(
      / /g,
      "",
    ),
    "hex",
  );

/** 200 instances × 500 ports. */
function replicas(): Replica__Output[] {
  const out: Replica__Output[] = [];
  for (let rid = 1; rid <= 200; rid++) {
    for (let port = 1; port <= 500; port++) {
      out.push({ instance: rid, port_kind: "egress_port", egress_port: port } as Replica__Output);
    }
  }
  return out;
}

describe("multicast group updates by difference", () => {
  it("a 1-replica change to a 100,000-replica group touches one node; packets keep flowing", () => {
    // Each copy is one egress pass: allow the whole group.
    const sw = fixtureSwitch("externs", { maxPasses: 250_000 });
    const entries = new ReplicationEntries(sw.pre);
    const list = replicas();
    entries.write("INSERT", {
      multicast_group_entry: { multicast_group_id: 3, replicas: list },
    } as never);
    assert.equal(sw.process(2, frame(5, 3)).length, 100_000);
    const before = sw.pre.nodes(3);

    // Instance 7 moves one copy from port 500 to port 501.
    const changed = list.map((r) =>
      r.instance === 7 && r.egress_port === 500
        ? ({ ...r, egress_port: 501 } as Replica__Output)
        : r,
    );
    entries.write("MODIFY", {
      multicast_group_entry: { multicast_group_id: 3, replicas: changed },
    } as never);
    const after = sw.pre.nodes(3);
    assert.equal(after.length, 200);
    const touched = after.filter((node, i) => node !== before[i]);
    assert.deepEqual(
      touched.map((n) => n.rid),
      [7],
    );
    assert.deepEqual(touched[0]?.ports.slice(-2), [499, 501]);

    // Unicast and multicast packets still flow, and the copies follow the change.
    assert.deepEqual(
      sw.process(2, frame(0, 0)).map((o) => o.port),
      [1],
    );
    const copies = sw.process(2, frame(5, 3));
    assert.equal(copies.length, 100_000);
    assert.equal(copies.filter((o) => o.port === 501).length, 1);
    assert.equal(copies.filter((o) => o.port === 500).length, 199);
  });
});
