/**
 * The client against a scripted in-test P4Runtime server (grpc-js on loopback) that answers the
 * way PI does: arbitration status OK for the primary and ALREADY_EXISTS for a backup, and failed
 * writes as UNKNOWN with one p4.v1.Error per update in grpc-status-details-bin.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { NotPrimaryError, WriteError } from "../../../controller/p4rt/errors.js";
import type { StreamMessageRequest__Output } from "../../../proto/gen/p4/v1/StreamMessageRequest.js";
import type { StreamMessageResponse } from "../../../proto/gen/p4/v1/StreamMessageResponse.js";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import type { WriteRequest__Output } from "../../../proto/gen/p4/v1/WriteRequest.js";
import type { WriteResponse } from "../../../proto/gen/p4/v1/WriteResponse.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { fromUint128, toUint128 } from "../../../proto/uint128.js";

const proto = p4runtimeProto();
const REJECTED_TABLE = 99;
let server: grpc.Server;
let address: string;
type Stream = grpc.ServerDuplexStream<StreamMessageRequest__Output, StreamMessageResponse>;
const streams = new Map<Stream, bigint>();
const written: Update[] = [];

function announce(): void {
  const top = [...streams.values()].reduce((a, b) => (a > b ? a : b), 0n);
  for (const [stream, id] of streams) {
    stream.write({
      arbitration: {
        device_id: 1,
        election_id: toUint128(top),
        status: { code: id === top ? grpc.status.OK : grpc.status.ALREADY_EXISTS, message: "" },
      },
    });
  }
}

function p4Error(code: number, message: string) {
  return {
    type_url: "type.googleapis.com/p4.v1.Error",
    value: proto.p4.v1.Error.serialize({ canonical_code: code, message, space: "", code: 0 }),
  };
}

before(async () => {
  server = new grpc.Server();
  server.addService(proto.p4.v1.P4Runtime.service, {
    StreamChannel(stream: Stream) {
      stream.on("data", (message: StreamMessageRequest__Output) => {
        if (message.update === "arbitration") {
          streams.set(stream, fromUint128(message.arbitration?.election_id));
          announce();
        }
      });
      stream.on("end", () => {
        streams.delete(stream);
        stream.end();
        announce();
      });
      stream.on("error", () => streams.delete(stream));
    },
    Write(
      call: grpc.ServerUnaryCall<WriteRequest__Output, WriteResponse>,
      callback: grpc.sendUnaryData<WriteResponse>,
    ) {
      const codes = call.request.updates.map((u) =>
        u.entity?.table_entry?.table_id === REJECTED_TABLE ? grpc.status.NOT_FOUND : grpc.status.OK,
      );
      call.request.updates.forEach((u, i) => {
        if (codes[i] === grpc.status.OK) written.push(u as Update);
      });
      if (codes.every((code) => code === grpc.status.OK)) {
        callback(null, {});
        return;
      }
      const results = codes.map((code) =>
        p4Error(code, code === grpc.status.OK ? "" : "Invalid table id"),
      );
      const metadata = new grpc.Metadata();
      metadata.set(
        "grpc-status-details-bin",
        proto.google.rpc.Status.serialize({
          code: grpc.status.UNKNOWN,
          message: "write failed",
          details: results,
        }),
      );
      callback({ code: grpc.status.UNKNOWN, details: "write failed", metadata });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

const client = (electionId: bigint) =>
  new P4RuntimeClient({ address, deviceId: 1, electionId, reconnect: false });

const entry = (tableId: number): Update => ({
  type: "INSERT",
  entity: { table_entry: { table_id: tableId } },
});

test("the higher election id is primary, the backup is told so, and primary moves when it leaves", async () => {
  const low = client(5n);
  const high = client(10n);
  try {
    assert.deepEqual(await low.connect(), { primary: true, primaryElectionId: 5n });
    const lowLost = new Promise((resolve) => low.once("arbitration", resolve));
    assert.deepEqual(await high.connect(), { primary: true, primaryElectionId: 10n });
    assert.deepEqual(await lowLost, { primary: false, primaryElectionId: 10n });
    const lowRegained = new Promise((resolve) => low.once("arbitration", resolve));
    high.close();
    assert.deepEqual(await lowRegained, { primary: true, primaryElectionId: 5n });
  } finally {
    low.close();
    high.close();
  }
});

test("a backup never writes: write() fails fast with NotPrimaryError", async () => {
  const primary = client(20n);
  const backup = client(15n);
  try {
    await primary.connect();
    await backup.connect();
    const before = written.length;
    await assert.rejects(backup.write([entry(1)]), NotPrimaryError);
    assert.equal(written.length, before);
  } finally {
    backup.close();
    primary.close();
  }
});

test("per-update errors map back to the caller's updates and the good updates still apply", async () => {
  const c = client(30n);
  try {
    await c.connect();
    written.length = 0;
    const updates = [entry(1), entry(REJECTED_TABLE), entry(2), entry(3), entry(REJECTED_TABLE)];
    const error = await c.write(updates, { batchSize: 2 }).then(
      () => assert.fail("write should fail"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WriteError);
    assert.deepEqual(
      error.failures.map((f) => [f.index, f.code, f.message, f.update]),
      [
        [1, grpc.status.NOT_FOUND, "Invalid table id", updates[1]],
        [4, grpc.status.NOT_FOUND, "Invalid table id", updates[4]],
      ],
    );
    assert.equal(error.attempted, 5);
    assert.deepEqual(
      written.map((u) => u.entity?.table_entry?.table_id),
      [1, 2, 3],
    );
  } finally {
    c.close();
  }
});

test("connect() to a dead address fails with UNAVAILABLE naming the address", async () => {
  const c = new P4RuntimeClient({
    address: "127.0.0.1:1",
    deviceId: 1,
    electionId: 1n,
    connectTimeoutMs: 300,
  });
  try {
    await assert.rejects(c.connect(), /connect failed: UNAVAILABLE: 127\.0\.0\.1:1/);
  } finally {
    c.close();
  }
});

test("128-bit election ids round-trip through Uint128", () => {
  const id = (1n << 100n) + 12345n;
  assert.equal(fromUint128(toUint128(id)), id);
  assert.deepEqual(toUint128(1n), { high: "0", low: "1" });
});
