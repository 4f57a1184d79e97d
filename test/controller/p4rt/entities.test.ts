/**
 * P4Info indexing and the by-name entity builder, on a small hand-written P4Info that has one
 * table of each interesting shape. Expected bytes are written out by hand from the P4Runtime
 * spec's encoding rules, not computed with the code under test.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { EntitySpecError } from "../../../controller/p4rt/errors.js";
import { P4InfoIndex, P4InfoLookupError } from "../../../controller/p4rt/p4info.js";
import { PacketIoCodec } from "../../../controller/p4rt/packet-io.js";
import { BytestringRangeError } from "../../../proto/bytestring.js";
import type { P4Info__Output } from "../../../proto/gen/p4/config/v1/P4Info.js";
import { p4runtimeProto } from "../../../proto/load.js";

const proto = p4runtimeProto();
const preamble = (id: number, name: string, alias: string) => ({ id, name, alias });
const field = (
  id: number,
  name: string,
  bitwidth: number,
  match_type: "EXACT" | "LPM" | "TERNARY" | "RANGE" | "OPTIONAL",
) => ({
  id,
  name,
  bitwidth,
  match_type,
});

// Serialized and parsed back, so the index sees exactly what a P4Info file would decode to.
const p4info: P4Info__Output = proto.p4.config.v1.P4Info.deserialize(
  proto.p4.config.v1.P4Info.serialize({
    tables: [
      {
        preamble: preamble(1, "Ingress.bridging.dmac", "dmac"),
        match_fields: [field(1, "vsid", 24, "EXACT"), field(2, "dst_mac", 48, "EXACT")],
        action_refs: [{ id: 10 }, { id: 11 }],
        size: 65536,
      },
      {
        preamble: preamble(2, "Ingress.underlay.routes_v4", "routes_v4"),
        match_fields: [field(1, "dst_addr", 32, "LPM")],
        action_refs: [{ id: 10 }],
        implementation_id: 30,
        size: 16384,
      },
      {
        preamble: preamble(3, "Ingress.acl.acl", "acl"),
        match_fields: [
          field(1, "ether_type", 16, "TERNARY"),
          field(2, "l4_port", 16, "RANGE"),
          field(3, "port", 9, "OPTIONAL"),
        ],
        action_refs: [{ id: 11 }],
        size: 256,
      },
    ],
    actions: [
      {
        preamble: preamble(10, "Ingress.to_port", "to_port"),
        params: [{ id: 1, name: "port", bitwidth: 9 }],
      },
      { preamble: preamble(11, "Ingress.drop", "drop"), params: [] },
    ],
    action_profiles: [
      {
        preamble: preamble(30, "Ingress.underlay.ecmp", "ecmp"),
        table_ids: [2],
        with_selector: true,
        size: 1024,
      },
    ],
    counters: [
      { preamble: preamble(40, "Ingress.port_rx", "port_rx"), spec: { unit: "BOTH" }, size: 512 },
    ],
    direct_counters: [
      {
        preamble: preamble(41, "Ingress.acl.hits", "hits"),
        spec: { unit: "BOTH" },
        direct_table_id: 3,
      },
    ],
    meters: [
      { preamble: preamble(50, "Ingress.policer", "policer"), spec: { unit: "BYTES" }, size: 64 },
    ],
    registers: [
      {
        preamble: preamble(60, "Ingress.seen", "seen"),
        type_spec: { bitstring: { bit: { bitwidth: 12 } } },
        size: 16,
      },
    ],
    controller_packet_metadata: [
      {
        preamble: preamble(70, "packet_in", "packet_in"),
        metadata: [
          { id: 1, name: "ingress_port", bitwidth: 9 },
          { id: 2, name: "punt_reason", bitwidth: 8 },
        ],
      },
      {
        preamble: preamble(71, "packet_out", "packet_out"),
        metadata: [
          { id: 1, name: "egress_port", bitwidth: 9 },
          { id: 2, name: "_pad", bitwidth: 7 },
        ],
      },
    ],
    digests: [
      { preamble: preamble(80, "learn_t", "learn_t"), type_spec: { struct: { name: "learn_t" } } },
    ],
    type_info: {
      structs: {
        learn_t: {
          members: [
            { name: "vsid", type_spec: { bitstring: { bit: { bitwidth: 24 } } } },
            { name: "mac", type_spec: { bitstring: { bit: { bitwidth: 48 } } } },
          ],
        },
      },
    },
  }),
);

const index = new P4InfoIndex(p4info);
const build = new EntityBuilder(index);

test("objects are found by fully qualified name and by alias; unknown names list what exists", () => {
  assert.equal(index.tables.id("dmac"), 1);
  assert.equal(index.tables.id("Ingress.bridging.dmac"), 1);
  assert.equal(index.actions.byIdOrThrow(10).preamble?.alias, "to_port");
  assert.throws(() => index.tables.get("dmak"), {
    name: "P4InfoLookupError",
    message: 'no table named "dmak" in the P4Info (known: dmac, routes_v4, acl)',
  });
  assert.throws(() => index.actions.byIdOrThrow(99), P4InfoLookupError);
});

test("exact entry: MAC string and number become canonical bytes; params by name", () => {
  const entity = build.tableEntry("dmac", {
    match: { vsid: 0x5001, dst_mac: "00:00:5e:00:53:01" },
    target: { action: "to_port", params: { port: 3 } },
  });
  assert.deepEqual(entity, {
    table_entry: {
      table_id: 1,
      match: [
        { field_id: 1, exact: { value: Buffer.from([0x50, 0x01]) } },
        { field_id: 2, exact: { value: Buffer.from([0x5e, 0x00, 0x53, 0x01]) } },
      ],
      action: { action: { action_id: 10, params: [{ param_id: 1, value: Buffer.from([3]) }] } },
    },
  });
});

test("values that do not fit name the table, field and width (vsid 0x1000000 in 24 bits)", () => {
  assert.throws(
    () =>
      build.tableEntry("dmac", {
        match: { vsid: 0x1000000, dst_mac: 1 },
        target: { action: "drop" },
      }),
    { name: "BytestringRangeError", message: "dmac.vsid: 0x1000000 does not fit in 24 bits" },
  );
  assert.throws(
    () =>
      build.tableEntry("dmac", {
        match: { vsid: 1, dst_mac: 1 },
        target: { action: "to_port", params: { port: 512 } },
      }),
    /to_port\.port: 0x200 does not fit in 9 bits/,
  );
  assert.throws(
    () => build.tableEntry("dmac", { match: { vlan: 1 }, target: { action: "drop" } }),
    /no match field of table "dmac" named "vlan" in the P4Info \(known: vsid, dst_mac\)/,
  );
  assert.throws(
    () => build.tableEntry("dmac", { match: { vsid: 1 }, target: { action: "to_port" } }),
    { name: "EntitySpecError", message: 'dmac action to_port: parameter "port" is missing' },
  );
  assert.throws(
    () => build.tableEntry("dmac", { match: { vsid: "fe80::zz" }, target: { action: "drop" } }),
    BytestringRangeError,
  );
});

test("LPM: CIDR strings, zero host bits enforced, /0 omitted; groups by id", () => {
  const entity = build.tableEntry("routes_v4", {
    match: { dst_addr: "10.1.0.0/16" },
    target: { group: 7 },
  });
  assert.deepEqual(entity.table_entry?.match, [
    { field_id: 1, lpm: { value: Buffer.from([10, 1, 0, 0]), prefix_len: 16 } },
  ]);
  assert.deepEqual(entity.table_entry?.action, { action_profile_group_id: 7 });
  assert.deepEqual(
    build.tableEntry("routes_v4", { match: { dst_addr: "0.0.0.0/0" }, target: { member: 1 } })
      .table_entry?.match,
    [],
  );
  assert.throws(
    () =>
      build.tableEntry("routes_v4", { match: { dst_addr: "10.1.2.3/16" }, target: { member: 1 } }),
    {
      name: "EntitySpecError",
      message: "routes_v4.dst_addr: bits beyond the /16 prefix must be zero",
    },
  );
});

test("ternary, range and optional: don't-care omitted, priority required, masks checked", () => {
  const entity = build.tableEntry("acl", {
    match: {
      ether_type: { value: 0x0800, mask: 0xffff },
      l4_port: { low: 1000, high: 2000 },
      port: undefined,
    },
    target: { action: "drop" },
    priority: 10,
  });
  assert.deepEqual(entity.table_entry?.match, [
    { field_id: 1, ternary: { value: Buffer.from([0x08, 0x00]), mask: Buffer.from([0xff, 0xff]) } },
    { field_id: 2, range: { low: Buffer.from([0x03, 0xe8]), high: Buffer.from([0x07, 0xd0]) } },
  ]);
  assert.equal(entity.table_entry?.priority, 10);
  assert.deepEqual(
    build.tableEntry("acl", {
      match: { ether_type: { value: 0, mask: 0 }, l4_port: { low: 0, high: 65535 } },
      target: { action: "drop" },
      priority: 1,
    }).table_entry?.match,
    [],
  );
  assert.throws(
    () => build.tableEntry("acl", { target: { action: "drop" } }),
    /need a priority > 0/,
  );
  assert.throws(
    () =>
      build.tableEntry("acl", {
        match: { ether_type: { value: 0x0801, mask: 0xfff0 } },
        target: { action: "drop" },
        priority: 1,
      }),
    EntitySpecError,
  );
});

test("entities serialize as valid P4Runtime messages (members, groups, PRE, one-shot)", () => {
  const write = proto.p4.v1.P4Runtime.service.Write;
  const updates = [
    build.actionProfileMember("ecmp", 1, { action: "to_port", params: { port: 1 } }),
    build.actionProfileGroup("ecmp", 7, [{ id: 1 }, { id: 2, weight: 3 }]),
    build.tableEntry("routes_v4", {
      match: { dst_addr: "10.0.0.0/8" },
      target: { oneShot: [{ action: "to_port", params: { port: 2 } }] },
    }),
    build.multicastGroup(0x5001, [
      { port: 1, instance: 0 },
      { port: 255, instance: 4 },
    ]),
    build.cloneSession(100, [{ port: 510, instance: 0 }], 128),
    build.defaultEntry("dmac", { action: "drop" }),
  ].map((entity) => ({ type: "INSERT" as const, entity }));
  const decoded = write.requestDeserialize(write.requestSerialize({ device_id: 1, updates }));
  assert.deepEqual(
    decoded.updates.map((u) => u.entity?.entity),
    [
      "action_profile_member",
      "action_profile_group",
      "table_entry",
      "packet_replication_engine_entry",
      "packet_replication_engine_entry",
      "table_entry",
    ],
  );
  const group = decoded.updates[1]?.entity?.action_profile_group;
  assert.deepEqual(
    group?.members.map((m) => [m.member_id, m.weight]),
    [
      [1, 1],
      [2, 3],
    ],
  );
  assert.equal(group?.max_size, 1024);
  const mc = decoded.updates[3]?.entity?.packet_replication_engine_entry?.multicast_group_entry;
  assert.deepEqual(
    mc?.replicas.map((r) => [r.port?.toString("hex"), r.instance]),
    [
      ["01", 1 - 1],
      ["ff", 4],
    ],
  );
});

test("counters, direct counters, meters and registers: reads by wildcard, writes with data", () => {
  assert.deepEqual(build.counterEntry("port_rx"), { counter_entry: { counter_id: 40 } });
  assert.deepEqual(build.counterEntry("port_rx", 3, { packets: 0, bytes: 0 }), {
    counter_entry: {
      counter_id: 40,
      index: { index: 3 },
      data: { packet_count: "0", byte_count: "0" },
    },
  });
  const entry = build.tableEntry("acl", {
    match: { port: 2 },
    target: { action: "drop" },
    priority: 5,
  });
  assert.deepEqual(build.directCounterEntry(entry, { packets: 1n, bytes: 64n }), {
    direct_counter_entry: {
      table_entry: entry.table_entry,
      data: { packet_count: "1", byte_count: "64" },
    },
  });
  assert.deepEqual(
    build.meterEntry("policer", 1, { cir: 1000, cburst: 100, pir: 2000, pburst: 200 }),
    {
      meter_entry: {
        meter_id: 50,
        index: { index: 1 },
        config: { cir: "1000", cburst: "100", pir: "2000", pburst: "200" },
      },
    },
  );
  assert.deepEqual(
    build.directMeterEntry(entry).direct_meter_entry?.table_entry,
    entry.table_entry,
  );
  assert.deepEqual(build.registerEntry("seen", 2, 0xabc), {
    register_entry: {
      register_id: 60,
      index: { index: 2 },
      data: { bitstring: Buffer.from([0x0a, 0xbc]) },
    },
  });
  assert.throws(() => build.registerEntry("seen", 2, 0x1000), {
    name: "BytestringRangeError",
    message: "seen[2]: 0x1000 does not fit in 12 bits",
  });
  assert.throws(
    () => build.directCounterEntry(build.counterEntry("port_rx")),
    /direct counter: needs a table entry/,
  );
});

test("packet-out metadata by name: padding defaults to 0, missing and unknown fields refused", () => {
  const codec = new PacketIoCodec(index);
  assert.deepEqual(codec.packetOutMetadata({ egress_port: 300 }), [
    { metadata_id: 1, value: Buffer.from([0x01, 0x2c]) },
    { metadata_id: 2, value: Buffer.from([0x00]) },
  ]);
  assert.throws(() => codec.packetOutMetadata({}), {
    name: "EntitySpecError",
    message: "packet_out.egress_port: value is missing",
  });
  assert.throws(
    () => codec.packetOutMetadata({ egress_port: 1, port: 2 }),
    /packet_out\.port: no such metadata field \(known: egress_port, _pad\)/,
  );
  assert.throws(
    () => codec.packetOutMetadata({ egress_port: 512 }),
    /egress_port: 0x200 does not fit in 9 bits/,
  );
});

test("packet-in metadata and digest samples decode to names and values", () => {
  const codec = new PacketIoCodec(index);
  const payload = Buffer.from("frame");
  assert.deepEqual(
    codec.decodePacketIn({
      payload,
      metadata: [
        { metadata_id: 1, value: Buffer.from([0x01, 0xfe]) },
        { metadata_id: 2, value: Buffer.from([0x01]) },
      ],
    }),
    { payload, metadata: { ingress_port: 510n, punt_reason: 1n } },
  );
  assert.throws(
    () =>
      codec.decodePacketIn({ payload, metadata: [{ metadata_id: 9, value: Buffer.from([1]) }] }),
    /packet_in: unknown metadata id 9/,
  );
  const member = (hex: string) => ({
    data: "bitstring" as const,
    bitstring: Buffer.from(hex, "hex"),
  });
  const decoded = codec.decodeDigestList({
    digest_id: 80,
    list_id: "7",
    timestamp: "0",
    data: [{ data: "struct", struct: { members: [member("5001"), member("00005e005301")] } }],
  } as never);
  assert.deepEqual(decoded, {
    digest: "learn_t",
    listId: "7",
    samples: [{ vsid: 0x5001n, mac: 0x5e005301n }],
  });
});
