import assert from "node:assert/strict";
import { test } from "node:test";
import { runMake } from "../../topologies/repo.js";
import { skipUnless } from "../../topologies/toolchain.js";

test("committed p4/build and test/fixtures/build match what p4c makes of the sources (make p4-check)", {
  skip: skipUnless("p4c-bm2-ss"),
}, () => {
  const { status, output } = runMake("p4-check");
  assert.equal(status, 0, output);
  assert.match(output, /committed P4 outputs are fresh/);
});
