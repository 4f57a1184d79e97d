/**
 * bench/protobuf-codecs.ts compares the hand-written WriteRequest codecs with @bufbuild/protobuf
 * and protobufjs (issue 13); its figures mean something only if the three say the same thing,
 * on code generated from the vendored protos as they are.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CodecDisagreementError,
  checkAgreement,
  codecs,
  codecWorkload,
  compiledTableUpdates,
} from "../../bench/support/protobuf-codecs.js";
import { runMake } from "../../topologies/repo.js";

test("the hand-written codecs, @bufbuild/protobuf and protobufjs agree on compiled table entries", () => {
  const updates = compiledTableUpdates(300, 3000);
  assert.equal(updates.length, 3000);
  const workload = codecWorkload(updates, 1000);
  assert.equal(workload.batches.length, 3);
  checkAgreement(workload);
  for (const codec of codecs) assert.equal(codec.decode(workload), 3000, codec.name);
  const bytes = workload.encoded.reduce((sum, b) => sum + b.length, 0);
  const [handWritten, bufbuild, protobufjs] = codecs.map((codec) => codec.encode(workload));
  assert.equal(handWritten, bytes);
  assert.equal(bufbuild, bytes);
  // protobufjs also writes fields it was given at their default (zero) value.
  assert.ok((protobufjs as number) >= bytes);
});

test("a request the codecs read differently is reported with its index", () => {
  const workload = codecWorkload(compiledTableUpdates(300, 2000), 1000);
  // The second request's last byte (inside its last entry) changed: it no longer says its message.
  const tampered = Buffer.from(workload.encoded[1] as Buffer);
  tampered[tampered.length - 1] = (tampered.at(-1) as number) ^ 1;
  workload.encoded[1] = tampered;
  assert.throws(
    () => checkAgreement(workload),
    (error: unknown) => error instanceof CodecDisagreementError && error.request === 1,
  );
});

test("the @bufbuild/protobuf code in bench/protobuf-es is fresh (make protobuf-es-check)", () => {
  const { status, output } = runMake("protobuf-es-check");
  assert.equal(status, 0, output);
  assert.match(output, /bench\/protobuf-es is fresh/);
});
