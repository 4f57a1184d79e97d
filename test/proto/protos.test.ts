import assert from "node:assert/strict";
import { test } from "node:test";
import { p4runtimeProto } from "../../proto/load.js";
import { runMake } from "../../topologies/repo.js";

test("the vendored P4Runtime v1.5.0 protos load with the P4Runtime service and its RPCs", () => {
  const proto = p4runtimeProto();
  const service = proto.p4.v1.P4Runtime.service;
  assert.deepEqual(Object.keys(service).sort(), [
    "Capabilities",
    "GetForwardingPipelineConfig",
    "Read",
    "SetForwardingPipelineConfig",
    "StreamChannel",
    "Write",
  ]);
  assert.equal(service.StreamChannel.requestStream, true);
  assert.equal(service.StreamChannel.responseStream, true);
  assert.equal(service.Read.responseStream, true);
});

test("messages decode with .proto field names, string longs, enum names and oneof markers", () => {
  const write = p4runtimeProto().p4.v1.P4Runtime.service.Write;
  const bytes = write.requestSerialize({
    device_id: 1,
    election_id: { high: 0, low: 5 },
    updates: [{ type: "INSERT", entity: { table_entry: { table_id: 7, priority: 10 } } }],
  });
  const decoded = write.requestDeserialize(bytes);
  assert.equal(decoded.device_id, "1");
  assert.deepEqual(decoded.election_id, { high: "0", low: "5" });
  const update = decoded.updates[0];
  assert.equal(update?.type, "INSERT");
  assert.equal(update?.entity?.entity, "table_entry");
  assert.equal(update?.entity?.table_entry?.table_id, 7);
  assert.equal(update?.entity?.table_entry?.priority, 10);
});

test("generated TypeScript types in proto/gen are fresh (make proto-types-check)", () => {
  const { status, output } = runMake("proto-types-check");
  assert.equal(status, 0, output);
  assert.match(output, /proto\/gen is fresh/);
});
