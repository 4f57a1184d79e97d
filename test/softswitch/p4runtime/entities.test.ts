/**
 * Writes and reads of every entity kind on test/fixtures/p4/p4runtime.p4, asserted identically
 * against the softswitch and simple_switch_grpc (skipped, naming it, where bmv2 is absent):
 * what is written reads back equal (canonical bytestrings), changes, and goes; bad updates fail
 * with PI's codes while the good updates of the same batch apply.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { WriteError } from "../../../controller/p4rt/errors.js";
import { forwardingPipelineConfig, type Pipeline } from "../../../controller/p4rt/pipeline.js";
import type { Entity } from "../../../proto/gen/p4/v1/Entity.js";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { client, fixturePipeline, type RunningTarget, targets } from "./targets.js";

/** An entity as a read returns it (defaults filled in), for deep comparison. */
function asRead(entity: Entity): unknown {
  const E = p4runtimeProto().p4.v1.Entity;
  return E.deserialize(E.serialize(entity));
}

/** Entities in a stable order, so reads compare as sets (P4Runtime does not order them). */
function sorted(entities: unknown[]): unknown[] {
  return entities
    .map((e) => [JSON.stringify(e), e] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, e]) => e);
}

const insert = (entity: Entity): Update => ({ type: "INSERT", entity });
const modify = (entity: Entity): Update => ({ type: "MODIFY", entity });
const remove = (entity: Entity): Update => ({ type: "DELETE", entity });

/** The canonical codes of the failures of a write, by update index. */
async function failures(c: P4RuntimeClient, updates: Update[]): Promise<[number, number][]> {
  try {
    await c.write(updates);
    return [];
  } catch (error) {
    assert.ok(error instanceof WriteError, String(error));
    return error.failures.map((f) => [f.index, f.code]);
  }
}

for (const target of targets) {
  describe(`P4Runtime writes and reads (${target.name})`, () => {
    const skip = target.skip;
    let running: RunningTarget;
    let c: P4RuntimeClient;
    let pipeline: Pipeline;
    let b: EntityBuilder;
    const read = (entities: Entity[]) => c.readAll(entities);

    before(async () => {
      if (skip) return;
      running = await target.start();
      c = client(running, 1n);
      await c.connect();
      pipeline = fixturePipeline();
      b = new EntityBuilder(pipeline.index);
      await c.setPipeline(forwardingPipelineConfig(pipeline));
    });
    after(async () => {
      c?.close();
      await running?.stop();
    });

    test("table entries of every match kind read back as written, then change and go", {
      skip,
    }, async () => {
      const l2 = (mac: string, port: number) =>
        b.tableEntry("l2", {
          match: { "hdr.ethernet.dst": mac },
          target: { action: "forward", params: { port } },
        });
      const route = b.tableEntry("routes", {
        match: { "hdr.ipv4.dstAddr": "10.1.0.0/16" },
        target: { action: "forward", params: { port: 4 } },
      });
      const acl = b.tableEntry("acl", {
        match: {
          "hdr.ethernet.src": { value: "00:00:00:00:00:0a", mask: "ff:ff:ff:ff:ff:ff" },
          "hdr.ipv4.protocol": { low: 6, high: 17 },
          "hdr.ethernet.etherType": 0x0800,
        },
        target: { action: "acl_permit" },
        priority: 100,
      });
      const aclWildcard = b.tableEntry("acl", { target: { action: "acl_deny" }, priority: 1 });
      const written = [
        l2("00:00:00:00:00:01", 1),
        l2("00:00:00:00:00:02", 2),
        route,
        acl,
        aclWildcard,
      ];
      await c.write(written.map(insert));

      const tables = ["l2", "routes", "acl"].map((t) => pipeline.index.tables.id(t));
      const readBack = await read(tables.map((table_id) => ({ table_entry: { table_id } })));
      assert.deepEqual(sorted(readBack), sorted(written.map(asRead)));

      // A lookup by key finds exactly that entry; padding the key does not change it.
      const [one] = await read([
        {
          table_entry: {
            table_id: tables[0],
            match: [{ field_id: 1, exact: { value: Buffer.from("000000000000000001", "hex") } }],
          },
        },
      ]);
      assert.deepEqual(one, asRead(written[0] as Entity));

      const moved = l2("00:00:00:00:00:01", 9);
      await c.write([modify(moved), remove(l2("00:00:00:00:00:02", 2)), remove(aclWildcard)]);
      const after = await read(tables.map((table_id) => ({ table_entry: { table_id } })));
      assert.deepEqual(sorted(after), sorted([moved, route, acl].map(asRead)));
      await c.write([moved, route, acl].map(remove));
      assert.deepEqual(await read([{ table_entry: { table_id: tables[0] } }]), []);
    });

    test("default entries: set, read back, reset to the program's default; const ones refused", {
      skip,
    }, async () => {
      const table_id = pipeline.index.tables.id("l2");
      const initial = await read([{ table_entry: { table_id, is_default_action: true } }]);
      const set = b.defaultEntry("l2", { action: "to_cpu", params: { reason: 9 } });
      await c.write([modify(set)]);
      assert.deepEqual(await read([{ table_entry: { table_id, is_default_action: true } }]), [
        asRead(set),
      ]);
      await c.write([modify({ table_entry: { table_id, is_default_action: true } })]);
      assert.deepEqual(
        await read([{ table_entry: { table_id, is_default_action: true } }]),
        initial,
      );
      assert.deepEqual(
        await failures(c, [
          modify(b.defaultEntry("mirror_by_port", { action: "NoAction" })),
          modify(b.defaultEntry("l2", { action: "forward_tagged", params: { port: 1, tag: 2 } })),
          insert(b.defaultEntry("l2", { action: "drop" })),
        ]),
        [
          [0, grpc.status.PERMISSION_DENIED],
          [1, grpc.status.PERMISSION_DENIED],
          [2, grpc.status.INVALID_ARGUMENT],
        ],
      );
    });

    test("action profile members, weighted groups and indirect entries; then one-shot sets", {
      skip,
    }, async () => {
      const member = (id: number, d: number) =>
        b.actionProfileMember("ecmp_selector", id, {
          action: "set_dst",
          params: { dst: d, port: d },
        });
      const group = b.actionProfileGroup("ecmp_selector", 10, [
        { id: 1, weight: 1 },
        { id: 2, weight: 3 },
      ]);
      const ecmp = (dst: string, t: { member: number } | { group: number }) =>
        b.tableEntry("ecmp", { match: { "hdr.ipv4.dstAddr": dst }, target: t });
      const entries = [ecmp("10.0.0.1", { member: 1 }), ecmp("10.0.0.2", { group: 10 })];
      await c.write([
        insert(member(1, 1)),
        insert(member(2, 2)),
        insert(group),
        ...entries.map(insert),
      ]);
      const profile = pipeline.index.actionProfiles.id("ecmp_selector");
      // PI lists a member once per copy that its weight needed; the softswitch once.
      const members = await read([{ action_profile_member: { action_profile_id: profile } }]);
      assert.deepEqual(
        sorted([...new Map(members.map((m) => [JSON.stringify(m), m])).values()]),
        sorted([member(1, 1), member(2, 2)].map(asRead)),
      );
      assert.deepEqual(await read([{ action_profile_group: { action_profile_id: profile } }]), [
        asRead(group),
      ]);
      const table_id = pipeline.index.tables.id("ecmp");
      assert.deepEqual(
        sorted(await read([{ table_entry: { table_id } }])),
        sorted(entries.map(asRead)),
      );
      // In use: the member and the group stay (PI: the target refuses, UNKNOWN).
      assert.deepEqual(
        await failures(c, [
          remove(member(1, 1)),
          remove(group),
          insert(ecmp("10.0.0.3", { member: 7 })),
          insert(group),
        ]),
        [
          [0, grpc.status.UNKNOWN],
          [1, grpc.status.UNKNOWN],
          [2, grpc.status.INVALID_ARGUMENT],
          [3, grpc.status.ALREADY_EXISTS],
        ],
      );
      // A group naming a member that does not exist is NOT_FOUND. PI creates the group before
      // it checks the members and leaves it behind; the softswitch changes nothing.
      const orphan = b.actionProfileGroup("ecmp_selector", 11, [{ id: 9 }]);
      assert.deepEqual(await failures(c, [insert(orphan)]), [[0, grpc.status.NOT_FOUND]]);
      if (target.name === "softswitch") {
        const groups = await read([{ action_profile_group: { action_profile_id: profile } }]);
        assert.deepEqual(groups, [asRead(group)]);
      } else {
        await c.write([remove(orphan)]);
      }
      await c.write([
        ...entries.map(remove),
        remove(group),
        remove(member(1, 1)),
        remove(member(2, 2)),
      ]);

      const oneShot = b.tableEntry("ecmp", {
        match: { "hdr.ipv4.dstAddr": "10.0.0.4" },
        target: {
          oneShot: [
            { action: "set_dst", params: { dst: 4, port: 4 }, weight: 1 },
            { action: "set_dst", params: { dst: 5, port: 5 }, weight: 2 },
          ],
        },
      });
      await c.write([insert(oneShot)]);
      assert.deepEqual(await read([{ table_entry: { table_id } }]), [asRead(oneShot)]);
      assert.deepEqual(await failures(c, [insert(member(1, 1))]), [
        [0, grpc.status.INVALID_ARGUMENT],
      ]);
      await c.write([remove(oneShot)]);
      assert.deepEqual(await read([{ table_entry: { table_id } }]), []);
    });

    test("counters, direct counters, meters and direct meters: set, read, reset", {
      skip,
    }, async () => {
      await c.write([
        modify(b.counterEntry("port_both", 3, { packets: 7, bytes: 700 })),
        modify(b.counterEntry("port_packets", 3, { packets: 7, bytes: 700 })),
        modify(b.meterEntry("port_meter", 2, { cir: 1000, cburst: 10, pir: 3000, pburst: 30 })),
      ]);
      const counters = await read([
        b.counterEntry("port_both", 3),
        b.counterEntry("port_packets", 3),
      ]);
      assert.deepEqual(
        counters.map((e) => e.counter_entry?.data),
        [
          { packet_count: "7", byte_count: "700" },
          // A packets-only counter keeps no bytes.
          { packet_count: "7", byte_count: "0" },
        ],
      );
      assert.deepEqual((await read([b.meterEntry("port_meter", 2)]))[0]?.meter_entry?.config, {
        cir: "1000",
        cburst: "10",
        pir: "3000",
        pburst: "30",
        eburst: "0",
      });
      assert.equal((await read([b.meterEntry("port_meter", 5)]))[0]?.meter_entry?.config, null);
      await c.write([
        remove(b.counterEntry("port_both", 3)),
        modify(b.meterEntry("port_meter", 2)),
      ]);
      assert.deepEqual((await read([b.counterEntry("port_both", 3)]))[0]?.counter_entry?.data, {
        packet_count: "0",
        byte_count: "0",
      });
      assert.equal((await read([b.meterEntry("port_meter", 2)]))[0]?.meter_entry?.config, null);
      assert.equal((await read([b.counterEntry("port_both")])).length, 512);

      const acl = b.tableEntry("acl", {
        match: { "hdr.ethernet.src": { value: 2, mask: 0xff } },
        target: { action: "acl_permit" },
        priority: 8,
      });
      await c.write([insert(acl)]);
      await c.write([
        modify(b.directCounterEntry(acl, { packets: 3, bytes: 33 })),
        modify(b.directMeterEntry(acl, { cir: 100, cburst: 10, pir: 200, pburst: 20 })),
      ]);
      const [counter] = await read([b.directCounterEntry(acl)]);
      assert.deepEqual(counter?.direct_counter_entry?.data, {
        packet_count: "3",
        byte_count: "33",
      });
      const [meter] = await read([b.directMeterEntry(acl)]);
      assert.deepEqual(meter?.direct_meter_entry?.config, {
        cir: "100",
        cburst: "10",
        pir: "200",
        pburst: "20",
        eburst: "0",
      });
      assert.deepEqual(
        await failures(c, [
          insert(b.directCounterEntry(acl)),
          modify(b.counterEntry("port_both", 512, { packets: 1, bytes: 1 })),
          modify(b.meterEntry("port_meter", 1, { cir: 3000, cburst: 1, pir: 1000, pburst: 1 })),
        ]),
        // The target refuses an index past the end and a committed rate above the peak: PI
        // says UNKNOWN for both, and so does the softswitch.
        [
          [0, grpc.status.INVALID_ARGUMENT],
          [1, grpc.status.UNKNOWN],
          [2, grpc.status.UNKNOWN],
        ],
      );
      await c.write([remove(acl)]);
    });

    test("multicast groups and clone sessions", { skip }, async () => {
      const group = b.multicastGroup(1, [
        { port: 1, instance: 1 },
        { port: 2, instance: 1 },
        { port: 3, instance: 2 },
      ]);
      const session = b.cloneSession(5, [{ port: 510, instance: 0 }]);
      await c.write([insert(group), insert(session)]);
      const normalize = (entities: unknown[]) =>
        (entities as Entity[]).map((e) => {
          const pre = e.packet_replication_engine_entry;
          const replicas = (pre?.multicast_group_entry ?? pre?.clone_session_entry)?.replicas;
          replicas?.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
          return e;
        });
      const readGroups = () =>
        read([{ packet_replication_engine_entry: { multicast_group_entry: {} } }]);
      assert.deepEqual(normalize(await readGroups()), normalize([asRead(group)]));
      assert.deepEqual(
        normalize(await read([{ packet_replication_engine_entry: { clone_session_entry: {} } }])),
        normalize([asRead(session)]),
      );
      const changed = b.multicastGroup(1, [{ port: 4, instance: 4 }]);
      await c.write([modify(changed)]);
      assert.deepEqual(normalize(await readGroups()), normalize([asRead(changed)]));
      assert.deepEqual(
        await failures(c, [
          insert(group),
          insert(b.multicastGroup(0, [])),
          modify(b.multicastGroup(3, [])),
          insert(b.cloneSession(5, [])),
          remove(b.cloneSession(6, [])),
        ]),
        [
          [0, grpc.status.ALREADY_EXISTS],
          [1, grpc.status.INVALID_ARGUMENT],
          [2, grpc.status.NOT_FOUND],
          [3, grpc.status.ALREADY_EXISTS],
          [4, grpc.status.NOT_FOUND],
        ],
      );
      await c.write([remove(changed), remove(session)]);
      assert.deepEqual(await readGroups(), []);
    });

    test("digest entries: configured once, read back, modified, deleted", { skip }, async () => {
      const config = { maxTimeoutNs: 0, maxListSize: 1, ackTimeoutNs: 1_000_000_000 };
      const entry = b.digestEntry("learn_t", config);
      await c.write([insert(entry)]);
      const digest_id = pipeline.index.digests.id("learn_t");
      assert.deepEqual(await read([{ digest_entry: { digest_id } }]), [asRead(entry)]);
      const changed = b.digestEntry("learn_t", { ...config, maxListSize: 10 });
      await c.write([modify(changed)]);
      assert.deepEqual(await read([{ digest_entry: { digest_id } }]), [asRead(changed)]);
      assert.deepEqual(await failures(c, [insert(entry)]), [[0, grpc.status.ALREADY_EXISTS]]);
      await c.write([remove(entry)]);
      assert.deepEqual(await failures(c, [remove(entry)]), [[0, grpc.status.NOT_FOUND]]);
    });

    test("registers: UNIMPLEMENTED in PI, served by the softswitch", { skip }, async () => {
      const write = failures(c, [modify(b.registerEntry("last_length", 3, 1500))]);
      if (target.name === "bmv2") {
        assert.deepEqual(await write, [[0, grpc.status.UNIMPLEMENTED]]);
        return;
      }
      assert.deepEqual(await write, []);
      const [cell] = await read([b.registerEntry("last_length", 3)]);
      assert.deepEqual(cell, asRead(b.registerEntry("last_length", 3, 1500)));
      assert.equal((await read([b.registerEntry("last_length")])).length, 512);
    });

    test("a batch with bad updates: each fails with PI's code, the good ones apply", {
      skip,
    }, async () => {
      const l2 = (mac: string) =>
        b.tableEntry("l2", { match: { "hdr.ethernet.dst": mac }, target: { action: "drop" } });
      const good = [l2("00:00:00:00:00:21"), l2("00:00:00:00:00:22")];
      const tooWide = l2("00:00:00:00:00:23");
      (tooWide.table_entry?.match?.[0]?.exact as { value: Buffer }).value = Buffer.from(
        "01000000000023",
        "hex",
      );
      const unknownTable: Entity = {
        table_entry: { ...l2("00:00:00:00:00:24").table_entry, table_id: 1 },
      };
      const withPriority: Entity = {
        table_entry: { ...l2("00:00:00:00:00:25").table_entry, priority: 5 },
      };
      const updates = [
        insert(good[0] as Entity),
        insert(good[0] as Entity),
        insert(tooWide),
        insert(unknownTable),
        insert(withPriority),
        modify(l2("00:00:00:00:00:26")),
        remove(l2("00:00:00:00:00:27")),
        insert(good[1] as Entity),
      ];
      assert.deepEqual(await failures(c, updates), [
        [1, grpc.status.ALREADY_EXISTS],
        [2, grpc.status.INVALID_ARGUMENT],
        [3, grpc.status.INVALID_ARGUMENT],
        [4, grpc.status.INVALID_ARGUMENT],
        [5, grpc.status.NOT_FOUND],
        [6, grpc.status.NOT_FOUND],
      ]);
      const table_id = pipeline.index.tables.id("l2");
      assert.deepEqual(
        sorted(await read([{ table_entry: { table_id } }])),
        sorted(good.map(asRead)),
      );
      await c.write(good.map(remove));
    });
  });
}
