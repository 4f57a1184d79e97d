/**
 * The intent's history on both stores (the embedded SQLite store and a real etcd started
 * here): every commit leaves a record with its author, the resources it changed and the values
 * they replaced; `documentAt` rebuilds any recorded revision from the current intent by undoing
 * the later records, so it needs no old store revision — which the embedded store never serves
 * and etcd loses to compaction.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { NotFoundError } from "../../../controller/daemon/errors.js";
import { recordedChanges, StoredIntent } from "../../../controller/daemon/stored-intent.js";
import { ResourceSet } from "../../../controller/intent/resources.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import { openEmbeddedStore } from "../../../controller/intent/store/embedded.js";
import { StoreCompactedError } from "../../../controller/intent/store/errors.js";
import { type EtcdKvStore, openEtcdStore } from "../../../controller/intent/store/etcd.js";
import type { KvStore } from "../../../controller/intent/store/types.js";
import { type EtcdCluster, startEtcdCluster } from "../../../topologies/etcd.js";

const dir = mkdtempSync(join(tmpdir(), "nvgre-stored-history-"));
const opened: KvStore[] = [];
let cluster: EtcdCluster | undefined;

before(async () => {
  cluster = await startEtcdCluster({ members: 1 });
});

after(async () => {
  for (const store of opened) await store.close().catch(() => undefined);
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const stores: { name: string; open(): Promise<KvStore> }[] = [
  { name: "embedded", open: () => openEmbeddedStore(join(dir, "embedded")) },
  {
    name: "etcd",
    open: () => {
      if (!cluster) throw new Error("etcd is not started");
      return openEtcdStore({ endpoints: cluster.endpoints, prefix: "/nvgre/history-test/" });
    },
  },
];

/** Three versions of a small fabric: each changes, adds and deletes something (the VSID twice). */
const versions = [
  {
    version: 1,
    name: "history",
    switches: [{ name: "leaf1", role: "leaf" }],
    tenants: [{ name: "contoso" }],
    virtualSubnets: [{ vsid: 0x5001, name: "web", tenant: "contoso" }],
    endpoints: [{ name: "web-1", vsid: 0x5001, mac: "02:00:00:00:01:01" }],
  },
  {
    version: 1,
    name: "history",
    switches: [{ name: "leaf1", role: "leaf" }],
    tenants: [{ name: "contoso" }],
    virtualSubnets: [{ vsid: 0x5001, name: "web", tenant: "contoso", mtu: 1400 }],
    endpoints: [
      { name: "web-1", vsid: 0x5001, mac: "02:00:00:00:01:01" },
      { name: "web-2", vsid: 0x5001, mac: "02:00:00:00:01:02" },
    ],
  },
  {
    version: 1,
    name: "history",
    switches: [{ name: "leaf1", role: "leaf" }],
    tenants: [{ name: "contoso" }],
    virtualSubnets: [{ vsid: 0x5001, name: "web", tenant: "contoso", mtu: 1500 }],
    endpoints: [{ name: "web-2", vsid: 0x5001, mac: "02:00:00:00:01:02" }],
  },
] as unknown as FabricDocument[];

const canonical = (document: FabricDocument) => ResourceSet.of(document).document;

for (const { name, open } of stores) {
  describe(`intent history on the ${name} store`, () => {
    let store: KvStore;
    const revisions: number[] = [];

    before(async () => {
      store = await open();
      opened.push(store);
      const intent = await StoredIntent.load(store);
      for (const [i, document] of versions.entries()) {
        const { revision } = await intent.commit(intent.prepare(document), intent.allocations, {
          trigger: `change ${i + 1}`,
          actor: i === 1 ? "CN=alice,OU=operator" : "uid:0",
        });
        revisions.push(revision);
      }
    });

    test("each change is recorded with its author, its revision and the resources it changed", async () => {
      const records = await (await StoredIntent.load(store)).history();
      assert.deepEqual(
        records.map((r) => [r.sequence, r.revision, r.trigger, r.actor]),
        [
          [1, revisions[0], "change 1", "uid:0"],
          [2, revisions[1], "change 2", "CN=alice,OU=operator"],
          [3, revisions[2], "change 3", "uid:0"],
        ],
      );
      for (const record of records) assert.ok(!Number.isNaN(Date.parse(record.time)));
      assert.deepEqual(recordedChanges(records[1] as (typeof records)[number]), [
        { resource: "resources/endpoint/web-2", op: "added" },
        { resource: "resources/vsid/0x5001", op: "changed" },
      ]);
      assert.deepEqual(recordedChanges(records[2] as (typeof records)[number]), [
        { resource: "resources/endpoint/web-1", op: "deleted" },
        { resource: "resources/vsid/0x5001", op: "changed" },
      ]);
      // What the change replaced, so that it can be undone.
      assert.deepEqual(records[2]?.before, {
        "resources/endpoint/web-1": { name: "web-1", vsid: 0x5001, mac: "02:00:00:00:01:01" },
        "resources/vsid/0x5001": { vsid: 0x5001, name: "web", tenant: "contoso", mtu: 1400 },
      });
    });

    test("documentAt rebuilds every recorded revision, also on a replica that loads later", async () => {
      const intent = await StoredIntent.load(store);
      for (const [i, revision] of revisions.entries()) {
        assert.deepEqual(
          await intent.documentAt(revision),
          canonical(versions[i] as FabricDocument),
          `revision ${revision}`,
        );
      }
    });

    test("old revisions are rebuilt although the store cannot read them any more", async () => {
      const first = revisions[0] as number;
      if (name === "etcd") {
        await (store as EtcdKvStore).client.kv.compact({
          revision: revisions[2] as number,
          physical: true,
        });
      }
      // The embedded store serves only its current revision; etcd is compacted past it now.
      await assert.rejects(
        store.range("intent/resources/", { atRevision: first }),
        StoreCompactedError,
      );
      const intent = await StoredIntent.load(store);
      assert.deepEqual(await intent.documentAt(first), canonical(versions[0] as FabricDocument));
    });

    test("a revision no recorded change produced is NotFoundError naming it", async () => {
      const intent = await StoredIntent.load(store);
      const unknown = (revisions[2] as number) + 1000;
      await assert.rejects(intent.documentAt(unknown), (error: Error) => {
        assert.ok(error instanceof NotFoundError, String(error));
        assert.match(error.message, new RegExp(`revision ${unknown} is not a recorded change`));
        assert.match(error.message, new RegExp(`revisions ${revisions[0]}–${revisions[2]}`));
        return true;
      });
    });
  });
}
