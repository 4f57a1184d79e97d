import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ActionProfile } from "../../softswitch/core/action-profile.js";
import { type DigestMessage, LearnList } from "../../softswitch/core/learning.js";
import { MeterArray } from "../../softswitch/core/meters.js";
import { ReplicationEngine } from "../../softswitch/core/pre.js";

describe("action selector member choice", () => {
  it("orders members by handle and picks hash mod size; handles are lowest-free", () => {
    const ap = new ActionProfile<string>("sel", 16, true);
    const a = ap.addMember("a");
    const b = ap.addMember("b");
    const c = ap.addMember("c");
    assert.deepEqual([a, b, c], [0, 1, 2]);
    const g = ap.createGroup();
    ap.addMemberToGroup(g, c);
    ap.addMemberToGroup(g, a);
    assert.equal(ap.choose(g, 0n), "a");
    assert.equal(ap.choose(g, 1n), "c");
    // The hash is truncated to 32 bits before the modulo (bmv2 hash_t is unsigned int).
    assert.equal(ap.choose(g, (1n << 32n) + 1n), "c");
    ap.deleteMember(b);
    assert.equal(ap.addMember("d"), 1);
  });
});

describe("meters (bmv2 token buckets)", () => {
  it("goes green, yellow, red as the buckets empty", () => {
    let now = 0;
    const m = new MeterArray("m", 1, "packets", 2, () => now);
    assert.equal(m.execute(0, 100), 0, "unconfigured meters are green");
    m.meter(0).setRates([
      { infoRate: 0.000001, burstSize: 1 },
      { infoRate: 0.000002, burstSize: 2 },
    ]);
    assert.deepEqual([m.execute(0, 1), m.execute(0, 1), m.execute(0, 1)], [0, 1, 2]);
    now += 1_000_000; // one token per second refills the committed bucket
    assert.equal(m.execute(0, 1), 0);
  });
});

describe("learning (bmv2 LearnEngine)", () => {
  it("filters duplicates until the buffer is acked", () => {
    const sent: DigestMessage[] = [];
    const list = new LearnList(
      1,
      "mac_learn",
      (m) => sent.push(m),
      () => 0,
    );
    list.configure({ maxSamples: 1, timeoutMs: 0 });
    list.add(Uint8Array.from([1]));
    list.add(Uint8Array.from([1]));
    assert.equal(sent.length, 1);
    list.ack(0);
    list.add(Uint8Array.from([1]));
    assert.equal(sent.length, 2);
    assert.equal(sent[1]?.bufferId, 1);
  });

  it("sends a partial buffer after its timeout", () => {
    let now = 0;
    const sent: DigestMessage[] = [];
    const list = new LearnList(
      1,
      "l",
      (m) => sent.push(m),
      () => now,
    );
    list.configure({ maxSamples: 10, timeoutMs: 5 });
    list.add(Uint8Array.from([1]));
    list.add(Uint8Array.from([2]));
    list.poll();
    assert.equal(sent.length, 0);
    now = 5;
    list.poll();
    assert.equal(sent[0]?.samples.length, 2);
  });
});

describe("replication engine", () => {
  it("orders P4Runtime replicas as PI makes bmv2 do: nodes in PI's map order, ports ascending", () => {
    const pre = new ReplicationEngine();
    pre.setGroup(1, [
      { rid: 5, port: 3 },
      { rid: 2, port: 9 },
      { rid: 5, port: 1 },
    ]);
    // PI's unordered_map puts the later rid 2 first (see pi-node-order.test.ts).
    assert.deepEqual(pre.replicate(1), [
      { rid: 2, port: 9 },
      { rid: 5, port: 1 },
      { rid: 5, port: 3 },
    ]);
    assert.deepEqual(pre.replicate(2), []);
    assert.throws(() => pre.setGroup(0, []));
  });

  it("keeps the nodes' order as given by the CLI's node association", () => {
    const pre = new ReplicationEngine();
    pre.setGroupNodes(1, [
      { rid: 5, ports: [3, 1] },
      { rid: 2, ports: [9] },
    ]);
    assert.deepEqual(pre.replicate(1), [
      { rid: 5, port: 1 },
      { rid: 5, port: 3 },
      { rid: 2, port: 9 },
    ]);
  });
});
