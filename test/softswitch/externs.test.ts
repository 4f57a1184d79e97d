/**
 * What externs.p4's STF cases cannot show (test/fixtures/stf/externs.stf): the digest a packet
 * raises (bmv2's learn sample: each field byte-padded, in order), log_msg's text, and a failed
 * assert reported as a fault. Expected values by hand from the program.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AssertionFailure } from "../../softswitch/compile/actions.js";
import type { DigestMessage } from "../../softswitch/core/learning.js";
import { fixtureSwitch } from "./fixture.js";

/** Ethernet from 00:00:00:00:00:01, ctl with `op` and `arg`, payload dead. */
const frame = (op: number, arg: number) =>
  Buffer.from(
    `000000000002000000000001 88b8 ${[op, arg].map((b) => b.toString(16).padStart(2, "0")).join("")} 00000000 0000 0000 0000 0000 00000000 dead`.replace(
      / /g,
      "",
    ),
    "hex",
  );

describe("externs.p4: digests, log messages and assert faults", () => {
  it("sends learn_t = { eth.src, ingress_port } as one sample, fields byte-padded", () => {
    const sw = fixtureSwitch("externs");
    const digests: DigestMessage[] = [];
    sw.onDigest((m) => digests.push(m));
    sw.process(2, frame(6, 0));
    assert.deepEqual(
      digests.map((d) => [d.listName, d.samples.map((s) => Buffer.from(s).toString("hex"))]),
      [["learn_t", ["000000000001" + "0002"]]],
    );
  });

  it("formats log_msg with its arguments", () => {
    const log: string[] = [];
    fixtureSwitch("externs", { log: (m) => log.push(m) }).process(2, frame(13, 7));
    assert.deepEqual(log, ["externs op 13 arg 7"]);
  });

  it("reports a failed assert as a fault naming its source line, and drops the packet", () => {
    const faults: unknown[] = [];
    const sw = fixtureSwitch("externs", { onFault: (e) => faults.push(e) });
    assert.deepEqual(sw.process(2, frame(12, 0)), []);
    assert.equal(faults.length, 1);
    assert.ok(faults[0] instanceof AssertionFailure);
    assert.match((faults[0] as Error).message, /assert failed at externs\.p4:\d+/);
  });
});
