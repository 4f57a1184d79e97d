/**
 * The client's WriteRequest encoder against protobufjs (the loader's own serializer) as the
 * reference: for table entries of every shape the fast path covers, for those it hands to
 * protobufjs, and for other entities, the request decodes to exactly what protobufjs's encoding
 * of the same request decodes to.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WriteRequestEncoder } from "../../../controller/p4rt/write-encoding.js";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import { p4runtimeProto } from "../../../proto/load.js";

const WriteRequest = p4runtimeProto().p4.v1.WriteRequest;
const b = (...bytes: number[]) => Buffer.from(bytes);

function assertSameAsProtobufjs(
  updates: Update[],
  header = { deviceId: 1n, electionId: 1n } as {
    deviceId: bigint;
    electionId: bigint;
    role?: string;
  },
): void {
  const reference = WriteRequest.serialize({
    device_id: header.deviceId.toString(),
    election_id: {
      high: (header.electionId >> 64n).toString(),
      low: (header.electionId & 0xffff_ffff_ffff_ffffn).toString(),
    },
    ...(header.role ? { role: header.role } : {}),
    updates,
    atomicity: "CONTINUE_ON_ERROR",
  });
  const encoded = new WriteRequestEncoder(header).encode(updates);
  assert.deepEqual(WriteRequest.deserialize(encoded), WriteRequest.deserialize(reference));
}

test("table entries of every match kind, action, member and group encode as protobufjs does", () => {
  assertSameAsProtobufjs([
    {
      type: "INSERT",
      entity: {
        table_entry: {
          table_id: 33_554_433,
          match: [
            { field_id: 1, exact: { value: b(0x50, 0x01) } },
            { field_id: 2, lpm: { value: b(10, 0, 0, 0), prefix_len: 8 } },
            { field_id: 3, ternary: { value: b(0x80), mask: b(0xf0) } },
            { field_id: 4, range: { low: b(1), high: b(0x10, 0) } },
            { field_id: 5, optional: { value: b(7) } },
          ],
          action: {
            action: {
              action_id: 16_777_217,
              params: [
                { param_id: 1, value: b(3) },
                { param_id: 2, value: b(0, 0, 0x5e, 0, 0x53, 1) },
              ],
            },
          },
          priority: 10,
          idle_timeout_ns: "2000000000",
          metadata: b(0xca, 0xfe),
        },
      },
    },
    {
      type: "MODIFY",
      entity: { table_entry: { table_id: 7, match: [], action: { action_profile_member_id: 4 } } },
    },
    {
      type: "DELETE",
      entity: { table_entry: { table_id: 7, action: { action_profile_group_id: 9 } } },
    },
    {
      type: "MODIFY",
      entity: {
        table_entry: {
          table_id: 7,
          is_default_action: true,
          action: { action: { action_id: 3, params: [] } },
        },
      },
    },
  ]);
});

test("entries longer than 127 bytes, big election ids and roles keep their lengths right", () => {
  const wide = Buffer.alloc(300, 0xab);
  assertSameAsProtobufjs(
    [
      {
        type: "INSERT",
        entity: {
          table_entry: {
            table_id: 1,
            match: [{ field_id: 1, exact: { value: wide } }],
            action: { action: { action_id: 2, params: [{ param_id: 1, value: wide }] } },
          },
        },
      },
    ],
    { deviceId: 2n ** 63n + 5n, electionId: (1n << 100n) + 3n, role: "sdn" },
  );
});

test("what the fast path does not cover goes through protobufjs, in order", () => {
  assertSameAsProtobufjs([
    {
      type: "INSERT",
      entity: {
        table_entry: {
          table_id: 1,
          match: [{ field_id: 1, exact: { value: b(1) } }],
          action: { action: { action_id: 2, params: [] } },
          counter_data: { packet_count: "5", byte_count: "500" },
          meter_config: { cir: 1, cburst: 2, pir: 3, pburst: 4 },
        },
      },
    },
    {
      type: "INSERT",
      entity: {
        table_entry: {
          table_id: 1,
          action: {
            action_profile_action_set: {
              action_profile_actions: [{ action: { action_id: 2, params: [] }, weight: 2 }],
            },
          },
        },
      },
    },
    // Bytes given as base64 text, a form protobufjs accepts.
    {
      type: "INSERT",
      entity: { table_entry: { table_id: 1, match: [{ field_id: 1, exact: { value: "AQI=" } }] } },
    },
    {
      type: "INSERT",
      entity: { multicast_group_entry: undefined, counter_entry: { counter_id: 5 } },
    },
    {
      type: "INSERT",
      entity: {
        packet_replication_engine_entry: {
          multicast_group_entry: {
            multicast_group_id: 1,
            replicas: [{ port: b(1), instance: 0 }],
          },
        },
      },
    },
    {
      type: "INSERT",
      entity: { table_entry: { table_id: 1, priority: -1 } },
    },
  ] as Update[]);
});

test("updates as a read returns them (every default filled in) encode to the same request", () => {
  const Update = p4runtimeProto().p4.v1.Update;
  const decoded = Update.deserialize(
    Update.serialize({
      type: "DELETE",
      entity: {
        table_entry: {
          table_id: 3,
          match: [{ field_id: 1, lpm: { value: b(192, 168, 0, 0), prefix_len: 16 } }],
          action: { action: { action_id: 4, params: [{ param_id: 1, value: b(1) }] } },
        },
      },
    }),
  );
  assert.equal(decoded.entity?.table_entry?.controller_metadata, "0");
  assertSameAsProtobufjs([decoded as Update]);
});
