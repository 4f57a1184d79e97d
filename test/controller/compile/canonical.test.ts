/**
 * The canonical form: the entities it turns into (bytes written out by hand from the P4Runtime
 * encoding rules and the P4Info), the same canonical text whatever encoding or order a switch
 * reads back in, and range checks by P4 name.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { codecFor, compileFabric } from "../../../controller/compile/compile.js";
import { tableWriters } from "../../../controller/compile/writers.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { EntitySpecError } from "../../../controller/p4rt/errors.js";
import { P4InfoLookupError } from "../../../controller/p4rt/p4info.js";
import type { Entity, Entity__Output } from "../../../proto/gen/p4/v1/Entity.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { repoRoot } from "../../../topologies/repo.js";

const pipeline = loadNvgrePipeline();
const codec = codecFor(pipeline.index);
const ids = pipeline.index;
const E = p4runtimeProto().p4.v1.Entity;
/** Through the wire format, as a switch's read answer arrives. */
const overTheWire = (entity: Entity): Entity__Output => E.deserialize(E.serialize(entity));

describe("canonical form", () => {
  test("a mac entry becomes the P4Runtime entity with canonical bytes", () => {
    const key = codec
      .keyWriter("mac", ["vsid", "dst_mac"])
      .key({ vsid: 0x5001, dst_mac: "5e005301" });
    assert.equal(key, "5001 5e005301");
    const entity = codec.toEntity("table:mac", key, "bridge_to_port(3)");
    const table = ids.tables.get("mac");
    assert.deepEqual(entity.table_entry?.table_id, table.preamble?.id);
    assert.deepEqual(
      entity.table_entry?.match?.map((m) => [
        m.field_id,
        Buffer.from(m.exact?.value as Buffer).toString("hex"),
      ]),
      [
        [ids.matchField(table, "vsid").id, "5001"],
        [ids.matchField(table, "dst_mac").id, "5e005301"], // 00:00:5e:00:53:01, leading zero bytes dropped
      ],
    );
    const action = entity.table_entry?.action?.action;
    assert.equal(action?.action_id, ids.actions.id("bridge_to_port"));
    assert.deepEqual(
      action?.params?.map((p) => Buffer.from(p.value as Buffer).toString("hex")),
      ["03"],
    );
  });

  test("ternary, LPM and don't-care fields; priorities", () => {
    const srcPa = codec.keyWriter("src_pa", ["vsid", "nve_id"]);
    assert.equal(srcPa.key({ vsid: "*", nve_id: "*" }, 1), "* * #1");
    const entity = codec.toEntity("table:src_pa", "5002&ffffff * #10", "set_src_pa(a00000b,0)");
    assert.equal(entity.table_entry?.priority, 10);
    assert.deepEqual(
      entity.table_entry?.match?.map((m) => [
        Buffer.from(m.ternary?.value as Buffer).toString("hex"),
        Buffer.from(m.ternary?.mask as Buffer).toString("hex"),
      ]),
      [["5002", "ffffff"]],
      "the wildcarded nve_id is omitted, as P4Runtime requires",
    );
    const route = codec.toEntity(
      "table:route_v4",
      "a000000/8",
      "set_next_hop(31,20000000a01,20000000b01)",
    );
    assert.deepEqual(
      route.table_entry?.match?.map((m) => [
        Buffer.from(m.lpm?.value as Buffer).toString("hex"),
        m.lpm?.prefix_len,
      ]),
      [["0a000000", 8]],
    );
    assert.throws(
      () => codec.keyWriter("src_pa", ["vsid", "nve_id"]).key({ vsid: "*", nve_id: "*" }),
      /need a priority/,
    );
  });

  test("every compiled entity survives the wire and reads back as the same canonical text", () => {
    const text = readFileSync(`${repoRoot}test/fixtures/fabric/small.yaml`, "utf8");
    const compiled = compileFabric(loadFabricText(text).fabric, pipeline.index);
    let count = 0;
    for (const state of compiled.switches.values()) {
      for (const { collection, key, value } of state.sorted()) {
        const back = codec.fromEntity(overTheWire(codec.toEntity(collection, key, value)));
        assert.deepEqual(back, { collection, key, value });
        count++;
      }
    }
    assert.ok(count > 300, `${count} entities`);
  });

  test("non-canonical bytes from a switch (padded to the field width) read as canonical", () => {
    const table = ids.tables.get("mac");
    const entity = overTheWire({
      table_entry: {
        table_id: table.preamble?.id,
        match: [
          {
            field_id: ids.matchField(table, "vsid").id,
            exact: { value: Buffer.from("005001", "hex") },
          },
          {
            field_id: ids.matchField(table, "dst_mac").id,
            exact: { value: Buffer.from("00005e005301", "hex") },
          },
        ],
        action: {
          action: {
            action_id: ids.actions.id("bridge_to_port"),
            params: [{ param_id: 1, value: Buffer.from("0003", "hex") }],
          },
        },
      },
    });
    assert.deepEqual(codec.fromEntity(entity), {
      collection: "table:mac",
      key: "5001 5e005301",
      value: "bridge_to_port(3)",
    });
  });

  test("replicas and group members compare regardless of the order a switch returns them", () => {
    const a = overTheWire(codec.toEntity("mcast", "7", "1:0,31:5,32:3"));
    const replicas = a.packet_replication_engine_entry?.multicast_group_entry?.replicas ?? [];
    replicas.reverse();
    assert.deepEqual(codec.fromEntity(a)?.value, "1:0,31:5,32:3");
    const group = overTheWire(codec.toEntity("group:ecmp_selector", "4", "2*1,9*3"));
    group.action_profile_group?.members.reverse();
    assert.deepEqual(codec.fromEntity(group)?.value, "2*1,9*3");
  });

  test("const entries are not the controller's and are left out", () => {
    const entity = overTheWire(codec.toEntity("table:port_type", "1", "set_port_access()"));
    (entity.table_entry as { is_const: boolean }).is_const = true;
    assert.equal(codec.fromEntity(entity), undefined);
  });

  test("values are range-checked by P4 name; unknown names fail naming what exists", () => {
    const portType = codec.keyWriter("port_type", ["port"]);
    assert.throws(
      () => portType.key({ port: 512 }),
      (e: unknown) =>
        e instanceof EntitySpecError && e.message === "port_type.port: 512 does not fit in 9 bits",
    );
    assert.throws(
      () => codec.keyWriter("mac", ["vsid", "dmac"]),
      (e: unknown) => e instanceof P4InfoLookupError && /dst_mac/.test(e.message),
    );
    assert.throws(
      () => codec.actionWriter("mac", "bridge_to_port", ["egress"]),
      /parameters are \(port\), the compiler gives \(egress\)/,
    );
    assert.throws(
      () => codec.actionWriter("mac", "set_nve_v4", ["pa"]),
      /action "set_nve_v4" is not one of its actions/,
    );
    assert.throws(() => codec.keyWriter("no_such_table", []), P4InfoLookupError);
    assert.throws(
      () =>
        codec.keyWriter("mac", ["vsid", "dst_mac"]).key({ vsid: 0x5001, dst_mac: "1000000000000" }),
      /mac\.dst_mac: 0x1000000000000 does not fit in 48 bits/,
    );
  });

  test("writers take values by P4 name: a missing or misspelt name fails to type-check and to run", () => {
    const writers = tableWriters(codec);
    const mac = writers.mac.key;
    const vsid = writers.vsid.set;
    const flags = { vsid_index: 1, vrf_id: 2, gw_mac: "5e005301", source_guard: 0, pa_check: 1 };
    // Named, two flags cannot trade places unnoticed: each lands in its own parameter.
    assert.equal(
      vsid.value({ ...flags, learn_local: 1, learn_remote: 0 }),
      "set_vsid(1,2,5e005301,1,0,0,1)",
    );
    assert.equal(
      vsid.value({ ...flags, learn_remote: 0, learn_local: 1 }),
      "set_vsid(1,2,5e005301,1,0,0,1)",
      "the order the caller writes the names in does not matter",
    );
    assert.throws(
      // @ts-expect-error dmac is not a field of mac's key (dst_mac is)
      () => mac.key({ vsid: 0x5001, dmac: "5e005301" }),
      /mac\.dst_mac: no value given/,
    );
    assert.throws(
      // @ts-expect-error learn_remote is missing
      () => vsid.value({ ...flags, learn_local: 1 }),
      /set_vsid\.learn_remote: no value given/,
    );
  });

  test("describe() speaks the operator's language", () => {
    assert.equal(
      codec.describe("table:route_v4", "a000100/24", "set_next_hop(31,20000000a01,20000000b01)"),
      "route_v4 dst_pa=10.0.1.0/24 → set_next_hop(port=49, smac=02:00:00:00:0a:01, dmac=02:00:00:00:0b:01)",
    );
    assert.equal(
      codec.describe(
        "table:nd_responder",
        "5001 fd000001000100000000000000000010",
        "nd_advertise(5e005301,0)",
      ),
      "nd_responder vsid=0x5001 ip=fd00:1:1::10 → nd_advertise(mac=00:00:5e:00:53:01, router=0)",
    );
    assert.equal(
      codec.describe("mcast", "3", "2:0,32:4"),
      "multicast group 3 → port 2, port 50 rid 4",
    );
  });
});
