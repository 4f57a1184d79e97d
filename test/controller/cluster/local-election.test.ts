/**
 * The embedded store's election (always this process, the term counted up at each start) and
 * the P4Runtime election ids derived from terms and ordinals.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  backupElectionId,
  leaderElectionId,
  termOf,
} from "../../../controller/cluster/election-id.js";
import { LocalElection } from "../../../controller/cluster/local-election.js";
import { openEmbeddedStore } from "../../../controller/intent/store/embedded.js";

const dir = mkdtempSync(join(tmpdir(), `nvgre-local-election-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));

const member = { id: "solo", host: "h", pid: process.pid, startedAt: new Date(0).toISOString() };

describe("local election (embedded store)", () => {
  test("leads at once; every start's term is above the last one, also across reopening the store", async () => {
    const terms: number[] = [];
    for (let start = 0; start < 3; start++) {
      const store = await openEmbeddedStore(dir, { exclusive: true });
      const election = new LocalElection(store);
      await election.join(member);
      const changes: unknown[] = [];
      const watch = await election.observe((leader) => changes.push(leader));
      const leadership = await election.campaign();
      terms.push(leadership.term);
      assert.deepEqual(await election.leader(), { memberId: "solo", term: leadership.term });
      election.reportRevision(7);
      assert.deepEqual(await election.members(), [{ ...member, ordinal: 1, revision: 7 }]);
      await election.close();
      assert.equal(await leadership.lost, "this member closed its election");
      assert.deepEqual(changes, [
        undefined,
        { memberId: "solo", term: leadership.term },
        undefined,
      ]);
      await watch.close();
      await store.close();
    }
    assert.deepEqual(terms, [1, 2, 3]);
  });
});

describe("P4Runtime election ids", () => {
  test("a leader's id is {high: term, low: 0}, a backup's {high: 0, low: ordinal}: every leader outranks every backup and every earlier leader", () => {
    // The term in the upper 64 bits; a backup's id 2^32 + ordinal (clear of tools' small ids).
    assert.equal(leaderElectionId(5), 5n << 64n);
    assert.equal(termOf(leaderElectionId(5)), 5);
    assert.equal(backupElectionId(3), (1n << 32n) + 3n);
    assert.equal(termOf(backupElectionId(3)), 0);
    assert.ok(leaderElectionId(1) > backupElectionId(2 ** 31 - 1));
    assert.throws(() => backupElectionId(2 ** 31), RangeError);
    assert.ok(leaderElectionId(2) > leaderElectionId(1));
    assert.throws(() => leaderElectionId(0), RangeError);
    assert.throws(() => backupElectionId(0), RangeError);
  });
});
