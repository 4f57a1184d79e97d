/**
 * The softswitch's WriteRequest decoder against protobufjs (the loader's deserializer) as the
 * reference: table entries of every shape, the updates it hands to protobufjs, unknown fields,
 * huge values and malformed bytes all decode to what protobufjs gives, or fail as it fails.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import type { WriteRequest as WriteRequestMessage } from "../../../proto/gen/p4/v1/WriteRequest.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { decodeWriteRequest } from "../../../softswitch/p4runtime/write-decoding.js";

const WriteRequest = p4runtimeProto().p4.v1.WriteRequest;
const b = (...bytes: number[]) => Buffer.from(bytes);

function assertDecodesAsProtobufjs(bytes: Buffer): void {
  assert.deepEqual(decodeWriteRequest(bytes), WriteRequest.deserialize(bytes));
}

function request(updates: Update[], extra: Partial<WriteRequestMessage> = {}): Buffer {
  return WriteRequest.serialize({
    device_id: "1",
    election_id: { high: "0", low: "10" },
    updates,
    ...extra,
  });
}

const entry = (fields: Update["entity"]): Update => ({ type: "INSERT", entity: fields });

test("table entries of every match kind and action kind decode as protobufjs decodes them", () => {
  assertDecodesAsProtobufjs(
    request([
      entry({
        table_entry: {
          table_id: 33_554_433,
          match: [
            { field_id: 1, exact: { value: b(0x50, 0x01) } },
            { field_id: 2, lpm: { value: b(10, 0, 0, 0), prefix_len: 8 } },
            { field_id: 3, ternary: { value: b(0x80), mask: b(0xf0) } },
            { field_id: 4, range: { low: b(1), high: b(0x10, 0) } },
            { field_id: 5, optional: { value: b(7) } },
            { field_id: 6, exact: {} },
          ],
          action: {
            action: {
              action_id: 16_777_217,
              params: [
                { param_id: 1, value: b(3) },
                { param_id: 2, value: b(0, 0, 0x5e, 0, 0x53, 1) },
                { param_id: 3 },
              ],
            },
          },
          priority: 10,
          controller_metadata: "77",
          idle_timeout_ns: "2000000000",
          metadata: b(0xca, 0xfe),
          is_const: true,
        },
      }),
      {
        type: "MODIFY",
        entity: { table_entry: { table_id: 7, action: { action_profile_member_id: 4 } } },
      },
      { type: "DELETE", entity: { table_entry: { table_id: 7, action: {} } } },
      {
        type: "MODIFY",
        entity: {
          table_entry: {
            table_id: 7,
            is_default_action: true,
            action: { action_profile_group_id: 9 },
          },
        },
      },
      { entity: { table_entry: {} } },
    ]),
  );
});

test("other entities and table entries with counter, meter or one-shot data go to protobufjs", () => {
  assertDecodesAsProtobufjs(
    request(
      [
        entry({
          table_entry: {
            table_id: 1,
            match: [{ field_id: 1, exact: { value: b(1) } }],
            counter_data: { packet_count: "5", byte_count: "500" },
            meter_config: { cir: 1, cburst: 2, pir: 3, pburst: 4 },
            time_since_last_hit: { elapsed_ns: 5 },
          },
        }),
        entry({
          table_entry: {
            table_id: 1,
            action: {
              action_profile_action_set: {
                action_profile_actions: [{ action: { action_id: 2 }, weight: 2 }],
              },
            },
          },
        }),
        entry({ table_entry: { table_id: 1, priority: -1 } }),
        entry({ counter_entry: { counter_id: 5, index: { index: 3 } } }),
        entry({
          packet_replication_engine_entry: {
            multicast_group_entry: {
              multicast_group_id: 1,
              replicas: [{ port: b(1), instance: 0 }],
            },
          },
        }),
        { type: "INSERT" },
        entry({ table_entry: { table_id: 2, controller_metadata: "18446744073709551615" } }),
      ],
      {
        role: "sdn",
        role_id: "3",
        atomicity: "ROLLBACK_ON_ERROR",
        election_id: { high: "18446744073709551615", low: "1" },
        device_id: "18446744073709551615",
      },
    ),
  );
});

test("unknown fields, unknown enum values and malformed bytes: as protobufjs", () => {
  const inner = request([entry({ table_entry: { table_id: 1 } })]);
  // Field 15 (varint 1) appended: unknown to WriteRequest.
  assertDecodesAsProtobufjs(Buffer.concat([inner, b(15 << 3, 1)]));
  // An Update of type 9 (no such Update.Type) and atomicity 7.
  assertDecodesAsProtobufjs(b(0x22, 2, 0x08, 9, 0x28, 7));
  // A FieldMatch with an unknown field 9 inside an otherwise ordinary entry.
  assertDecodesAsProtobufjs(b(0x22, 10, 0x12, 8, 0x12, 6, 0x12, 4, 0x08, 1, 0x48, 1));
  const truncated = inner.subarray(0, inner.length - 1);
  assert.throws(() => WriteRequest.deserialize(truncated));
  assert.throws(() => decodeWriteRequest(truncated));
});

test("metadata is copied out of the request; match values decode equal", () => {
  const bytes = request([entry({ table_entry: { table_id: 1, metadata: b(1, 2, 3) } })]);
  const decoded = decodeWriteRequest(bytes);
  const metadata = decoded.updates[0]?.entity?.table_entry?.metadata as Buffer;
  bytes.fill(0);
  assert.deepEqual(metadata, b(1, 2, 3));
});
