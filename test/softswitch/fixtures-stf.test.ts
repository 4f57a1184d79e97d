/**
 * Every fixture program's STF cases (test/fixtures/stf/*.stf) on the softswitch: the frames
 * that leave must be the ones written by hand in the file, and no control command may fail.
 * A case named with "[fault]" expects the switch to drop a packet on a fault (a failed assert);
 * any other case must run without one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixtureCases, runCaseOnSoftswitch } from "./fixture.js";

for (const { fixture, cases } of fixtureCases()) {
  describe(`${fixture}.p4 fixture (STF cases)`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const result = await runCaseOnSoftswitch(fixture, c);
        assert.deepEqual(result.commandErrors, [], "control commands the switch refused");
        assert.equal(result.mismatch, undefined);
        if (c.name.includes("[fault]")) assert.notEqual(result.faults.length, 0, "no fault");
        else assert.deepEqual(result.faults, []);
      });
    }
  });
}
