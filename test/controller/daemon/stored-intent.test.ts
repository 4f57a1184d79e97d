/**
 * The stored intent at scale on both stores (issue 11), with etcd at its default
 * --max-txn-ops (128): a change larger than one transaction is staged and becomes visible to
 * other replicas whole; an endpoint move on a 100,000-endpoint intent writes only that
 * endpoint's key (plus the head and its history record) in one transaction; a writer that dies
 * half-way leaves a change the next leader finishes or drops, never half of one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ChangeInProgressError, StoredIntent } from "../../../controller/daemon/stored-intent.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import { openEmbeddedStore } from "../../../controller/intent/store/embedded.js";
import { openEtcdStore } from "../../../controller/intent/store/etcd.js";
import type { KvStore, Txn, WatchBatch } from "../../../controller/intent/store/types.js";
import { type EtcdCluster, startEtcdCluster } from "../../../topologies/etcd.js";

const NO_IDS = { pools: {} };
const author = (trigger: string) => ({ trigger, actor: "test" });

/** One leaf and `count` endpoints (the store does not validate; names and sizes matter). */
function fabricWith(count: number, movedPort = 1): FabricDocument {
  const endpoints = Array.from({ length: count }, (_, i) => ({
    name: `ep-${String(i).padStart(6, "0")}`,
    vsid: 0x5001,
    mac: `02:00:${[i >> 16, (i >> 8) & 0xff, i & 0xff].map((b) => b.toString(16).padStart(2, "0")).join(":")}:01`,
    ips: [`10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`],
    location: { switch: "leaf1", port: i === 0 ? movedPort : 1 + (i % 48) },
  }));
  return {
    switches: [{ name: "leaf1", p4runtime: { address: "127.0.0.1:9559", deviceId: 1 } }],
    tenants: [{ name: "contoso" }],
    virtualSubnets: [{ vsid: 0x5001, name: "web", tenant: "contoso" }],
    endpoints,
  } as unknown as FabricDocument;
}

/** A store whose commits fail from the first one `dies` picks, as if its writer had died there. */
function dyingAt(store: KvStore, dies: (txn: Txn, commit: number) => boolean): KvStore {
  let commits = 0;
  let dead = false;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === "commit") {
        return (txn: Txn) => {
          dead ||= dies(txn, ++commits);
          return dead ? Promise.reject(new Error("the writer died here")) : target.commit(txn);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A store whose commits answer `ms` after they are done (as a slow network answer would). */
function answersLate(store: KvStore, ms: number): KvStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === "commit") {
        return async (txn: Txn) => {
          const revision = await target.commit(txn);
          await new Promise((resolve) => setTimeout(resolve, ms));
          return revision;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

let cluster: EtcdCluster | undefined;
const dirs: string[] = [];
const stores: KvStore[] = [];
let prefixes = 0;

const implementations = [
  {
    name: "embedded",
    /** SQLite takes a 100,000-endpoint change in one transaction: nothing is staged. */
    stages: false,
    async fresh(): Promise<KvStore> {
      const dir = mkdtempSync(join(tmpdir(), "nvgre-stored-intent-"));
      dirs.push(dir);
      const store = await openEmbeddedStore(dir);
      stores.push(store);
      return store;
    },
  },
  {
    name: "etcd (default --max-txn-ops 128)",
    stages: true,
    async fresh(): Promise<KvStore> {
      const store = await openEtcdStore({
        endpoints: (cluster as EtcdCluster).endpoints,
        prefix: `/nvgre/stored-intent-${++prefixes}/`,
      });
      stores.push(store);
      return store;
    },
  },
];

before(async () => {
  cluster = await startEtcdCluster({ members: 1, maxTxnOps: 128 });
});

after(async () => {
  for (const store of stores) await store.close().catch(() => undefined);
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

for (const implementation of implementations) {
  describe(`stored intent on ${implementation.name}`, () => {
    test("100,000 endpoints: staged in transactions, loaded whole by another copy; a move writes only that endpoint's key in one transaction", async () => {
      const store = await implementation.fresh();
      const writer = await StoredIntent.load(store, "writer");
      const big = fabricWith(100_000);
      const first = await writer.commit(writer.prepare(big), NO_IDS, author("apply big.yaml"));
      assert.equal(first.resourcesChanged, 100_000 + 3);

      const reader = await StoredIntent.load(store, "reader");
      assert.deepEqual(reader.document, writer.document, "the other copy holds all of it");
      assert.equal(reader.changeRevision, first.revision);
      assert.equal(reader.document.endpoints?.length, 100_000);

      // The move: what the store's revision holds is the endpoint, the head and the history record.
      const batches: WatchBatch[] = [];
      const watch = await store.watch(
        "intent/",
        first.revision,
        (b) => batches.push(b),
        assert.fail,
      );
      const moved = fabricWith(100_000, 7);
      const change = reader.prepare(moved);
      assert.equal(change.resources.length, 1, "one resource changed");
      const result = await reader.commit(change, NO_IDS, author("endpoint move ep-000000"));
      const deadline = Date.now() + 10_000;
      while (!batches.some((b) => b.revision === result.revision) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await watch.close();
      // (A staged change's journal is removed after its final head: those revisions aside.)
      const writes = batches.filter((b) =>
        b.events.some((e) => !e.key.startsWith("intent/staging/")),
      );
      assert.deepEqual(
        writes.map((b) => b.revision),
        [result.revision],
        "one transaction, one revision",
      );
      const keys = (writes[0]?.events ?? []).map((e) => e.key).sort();
      assert.equal(keys.length, 3);
      assert.equal(keys[0], "intent/history/000000000002");
      assert.equal(keys[1], "intent/meta/head");
      assert.equal(keys[2], "intent/resources/endpoint/ep-000000");
      const history = await reader.history();
      assert.deepEqual(history.at(-1)?.put, ["resources/endpoint/ep-000000"]);
      assert.equal(history.at(0)?.putTotal, 100_003, "the big change's record keeps the total");
      assert.equal(history.at(0)?.put.length, 1000);
    });

    test(`a follower sees a ${implementation.stages ? "staged " : ""}change of 5,000 endpoints whole, once`, async () => {
      const store = await implementation.fresh();
      const writer = await StoredIntent.load(store, "writer");
      const follower = await StoredIntent.load(store, "follower");
      const seen: number[] = [];
      const watch = await follower.follow(
        (change) => seen.push(change.resources.length),
        assert.fail,
      );
      const result = await writer.commit(
        writer.prepare(fabricWith(5_000)),
        NO_IDS,
        author("apply"),
      );
      assert.ok(result.keysWritten > 128, "more than one etcd transaction's worth");
      if (!implementation.stages) {
        assert.equal(result.revision, await store.revision(), "one transaction");
      }
      const deadline = Date.now() + 10_000;
      while (follower.revision < result.revision && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await watch.close();
      assert.deepEqual(seen, [5_003], "one change with every resource, never a part");
      assert.deepEqual(follower.document, writer.document);
      assert.equal(follower.changeRevision, result.revision);
    });

    test("a copy's own commits, watched before the commit answers, are applied once: it keeps the document it prepared (a move stays a change of one endpoint)", async () => {
      // etcd can deliver a commit's watch event before the commit's own answer: each answer here
      // is held back until the watch has had time to deliver it first.
      const store = answersLate(await implementation.fresh(), 100);
      const copy = await StoredIntent.load(store, "writer");
      await copy.commit(copy.prepare(fabricWith(50)), NO_IDS, author("apply"));
      const seen: number[] = [];
      const watch = await copy.follow((change) => seen.push(change.revision), assert.fail);
      try {
        for (let port = 2; port < 6; port++) {
          const change = copy.prepare(fabricWith(50, port));
          assert.equal(change.resources.length, 1);
          const result = await copy.commit(change, NO_IDS, author(`move ${port}`));
          assert.equal(copy.revision, result.revision);
          assert.equal(copy.document, change.document, "the very document the change prepared");
        }
        // Another copy's change after them is still followed.
        const other = await StoredIntent.load(store, "other");
        const theirs = await other.commit(
          other.prepare(fabricWith(50, 9)),
          NO_IDS,
          author("theirs"),
        );
        const deadline = Date.now() + 10_000;
        while (copy.revision < theirs.revision && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.deepEqual(seen, [theirs.revision], "only the other copy's change is reported");
        assert.deepEqual(copy.document, other.document);
      } finally {
        await watch.close();
      }
    });

    if (!implementation.stages) return;

    test("a writer that died with its journal whole: others see the whole change, wait, and the next leader finishes it", async () => {
      const store = await implementation.fresh();
      const before = await StoredIntent.load(store, "a");
      await before.commit(before.prepare(fabricWith(10)), NO_IDS, author("small"));
      // The claim and every journal part are written; it dies at the first apply.
      const applying = (txn: Txn) =>
        (txn.puts ?? []).some((put) => put.key.startsWith("intent/resources/"));
      const dying = await StoredIntent.load(dyingAt(store, applying), "a");
      await assert.rejects(
        dying.commit(dying.prepare(fabricWith(5_000)), NO_IDS, author("apply 5000")),
        /the writer died here/,
      );
      const other = await StoredIntent.load(store, "b");
      assert.equal(other.document.endpoints?.length, 5_000, "a load overlays the whole journal");
      await assert.rejects(
        other.commit(other.prepare(fabricWith(3)), NO_IDS, author("edit")),
        ChangeInProgressError,
      );
      assert.equal(await other.recoverStalled(async () => false), undefined, "its writer lives");
      const done = await other.recoverStalled(async (member) => member === "a");
      assert.match(done ?? "", /finished change 2 \(apply 5000\) that a left half-way/);
      const after = await StoredIntent.load(store, "c");
      assert.equal(after.document.endpoints?.length, 5_000);
      const record = (await after.history()).at(-1);
      assert.equal(record?.trigger, "apply 5000", "its history record written by the recovery");
      assert.equal(record?.putTotal, 4_990);
      await after.commit(after.prepare(fabricWith(3)), NO_IDS, author("edit"));
      assert.equal(after.document.endpoints?.length, 3, "changes go on");
      const journal = await store.range("intent/staging/");
      assert.equal(journal.items.length, 0, "the journal is gone");
    });

    test("a writer that died before its journal was whole: nothing of it is seen; the leader drops it", async () => {
      const store = await implementation.fresh();
      const first = await StoredIntent.load(store, "a");
      await first.commit(first.prepare(fabricWith(10)), NO_IDS, author("small"));
      // The claim and the first journal part are written; it dies writing the second.
      const dying = await StoredIntent.load(
        dyingAt(store, (_, commit) => commit === 3),
        "a",
      );
      await assert.rejects(
        dying.commit(dying.prepare(fabricWith(5_000)), NO_IDS, author("apply 5000")),
        /the writer died here/,
      );
      const other = await StoredIntent.load(store, "b");
      assert.equal(other.document.endpoints?.length, 10, "the previous intent, untouched");
      const done = await other.recoverStalled(async () => true);
      assert.match(done ?? "", /dropped change 2 \(apply 5000\)/);
      const after = await StoredIntent.load(store, "c");
      assert.equal(after.document.endpoints?.length, 10);
      assert.equal((await after.history()).length, 1, "no record of the dropped change");
      await after.commit(after.prepare(fabricWith(3)), NO_IDS, author("edit"));
      assert.equal((await store.range("intent/staging/")).items.length, 0);
    });
  });
}
