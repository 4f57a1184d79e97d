/**
 * One conformance suite for both store implementations (store/types.ts): the embedded SQLite
 * store and etcd (a real 1-member cluster started by the test, one key prefix per test).
 * Revisions are checked relative to the store's own (etcd starts at 1, the embedded store at 0).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openEmbeddedStore } from "../../../../controller/intent/store/embedded.js";
import {
  StoreCompactedError,
  StoreConflictError,
  StoreLockedError,
  TooManyOpsError,
  TRANSACTION,
  ValueTooLargeError,
} from "../../../../controller/intent/store/errors.js";
import { EtcdKvStore, openEtcdStore } from "../../../../controller/intent/store/etcd.js";
import { openStore } from "../../../../controller/intent/store/open.js";
import {
  type KvStore,
  MAX_TXN_BYTES,
  MAX_VALUE_BYTES,
  type WatchBatch,
} from "../../../../controller/intent/store/types.js";
import { type EtcdCluster, startEtcdCluster } from "../../../../topologies/etcd.js";

const writerScript = fileURLToPath(new URL("../../../support/kv-writer.js", import.meta.url));

interface Implementation {
  name: "embedded" | "etcd";
  /** A fresh, empty store and the URL another process opens it with. */
  fresh(): Promise<{ store: KvStore; url: string }>;
  /** Drops history up to `revision` (etcd's compaction; the embedded store keeps fewer events). */
  compact?(store: KvStore, revision: number): Promise<void>;
}

const dirs: string[] = [];
const opened: KvStore[] = [];
let cluster: EtcdCluster | undefined;
let prefixes = 0;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `nvgre-store-${process.pid}-`));
  dirs.push(dir);
  return dir;
}

function track<S extends KvStore>(store: S): S {
  opened.push(store);
  return store;
}

const implementations: Implementation[] = [
  {
    name: "embedded",
    async fresh() {
      const dir = tempDir();
      return { store: track(await openEmbeddedStore(dir)), url: `embedded:${dir}` };
    },
  },
  {
    name: "etcd",
    async fresh() {
      if (!cluster) throw new Error("etcd cluster not started");
      const prefix = `/nvgre/conformance-${++prefixes}/`;
      // The test cluster runs with --max-txn-ops 20,000 (its 2,500-key commits need it).
      const store = track(
        await openEtcdStore({ endpoints: cluster.endpoints, prefix, maxTxnOps: 20_000 }),
      );
      return {
        store,
        url: `etcd://${cluster.endpoints.join(",")}${prefix}?maxTxnOps=20000`,
      };
    },
    async compact(store, revision) {
      await (store as EtcdKvStore).client.kv.compact({ revision, physical: true });
    },
  },
];

before(async () => {
  cluster = await startEtcdCluster({ members: 1 });
});

after(async () => {
  for (const store of opened) await store.close().catch(() => undefined);
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An endpoint resource's size and shape (~200 bytes of JSON). */
function endpointValue(i: number) {
  return {
    kind: "endpoint",
    name: `ep-${i}`,
    vsid: 0x5000 + (i % 50),
    mac: `02:00:${[i >> 16, (i >> 8) & 0xff, i & 0xff].map((b) => b.toString(16).padStart(2, "0")).join(":")}:01`,
    ca: `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`,
    switch: `leaf${(i % 16) + 1}`,
    port: (i % 48) + 1,
    vlan: 100 + (i % 50),
  };
}

/** Collects watch batches; waitFor resolves once `count` batches arrived. */
function collector() {
  const batches: WatchBatch[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  return {
    batches,
    errors,
    onBatch: (batch: WatchBatch) => {
      batches.push(batch);
      wake?.();
    },
    onError: (error: Error) => {
      errors.push(error);
      wake?.();
    },
    async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (batches.length < count) {
        if (Date.now() > deadline)
          assert.fail(`only ${batches.length} of ${count} watch batches arrived`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

for (const impl of implementations) {
  describe(`store conformance: ${impl.name}`, () => {
    test("get, range and commit: one new revision per commit; mod and create revisions per key", async () => {
      const { store } = await impl.fresh();
      const base = await store.revision();
      assert.equal(await store.get("resources/endpoint/web-1"), undefined);
      const r1 = await store.commit({
        puts: [
          { key: "resources/endpoint/web-1", value: { mac: "02:00:00:00:00:01" } },
          { key: "resources/endpoint/web-2", value: { mac: "02:00:00:00:00:02" } },
          { key: "resources/vsid/20481", value: { tenant: "blue" } },
        ],
      });
      assert.equal(r1, base + 1);
      assert.equal(await store.revision(), r1);
      const r2 = await store.commit({
        puts: [{ key: "resources/endpoint/web-1", value: { mac: "02:00:00:00:00:11" } }],
      });
      assert.equal(r2, r1 + 1);
      assert.deepEqual(await store.get("resources/endpoint/web-1"), {
        key: "resources/endpoint/web-1",
        value: { mac: "02:00:00:00:00:11" },
        modRevision: r2,
        createRevision: r1,
      });
      const endpoints = await store.range("resources/endpoint/");
      assert.equal(endpoints.revision, r2);
      assert.deepEqual(
        endpoints.items.map((i) => [i.key, i.modRevision]),
        [
          ["resources/endpoint/web-1", r2],
          ["resources/endpoint/web-2", r1],
        ],
      );
      const r3 = await store.commit({ deletes: ["resources/endpoint/web-2"] });
      assert.equal(r3, r2 + 1);
      assert.equal(await store.get("resources/endpoint/web-2"), undefined);
      assert.deepEqual(
        (await store.range("resources/")).items.map((i) => i.key),
        ["resources/endpoint/web-1", "resources/vsid/20481"],
      );
    });

    test("compare-and-set: a stale compare is refused with StoreConflictError naming the key, and nothing changes", async () => {
      const { store } = await impl.fresh();
      const r1 = await store.commit({
        puts: [
          { key: "a", value: 1 },
          { key: "b", value: 1 },
        ],
      });
      const r2 = await store.commit({
        compares: [{ key: "a", modRevision: r1 }],
        puts: [{ key: "a", value: 2 }],
      });
      await assert.rejects(
        store.commit({
          compares: [
            { key: "b", modRevision: r1 },
            { key: "a", modRevision: r1 },
          ],
          puts: [{ key: "b", value: 3 }],
          deletes: ["a"],
        }),
        (error: unknown) =>
          error instanceof StoreConflictError &&
          error.key === "a" &&
          error.expected === r1 &&
          error.actual === r2,
      );
      assert.equal(await store.revision(), r2);
      assert.equal((await store.get("b"))?.value, 1);
      assert.equal((await store.get("a"))?.value, 2);
      // modRevision 0: the key must be absent (create-only).
      await assert.rejects(
        store.commit({ compares: [{ key: "a", modRevision: 0 }], puts: [{ key: "a", value: 9 }] }),
        (error: unknown) =>
          error instanceof StoreConflictError && error.expected === 0 && error.actual === r2,
      );
      const r3 = await store.commit({
        compares: [{ key: "c", modRevision: 0 }],
        puts: [{ key: "c", value: 1 }],
      });
      assert.equal(r3, r2 + 1);
      await assert.rejects(
        store.commit({ compares: [{ key: "c", modRevision: r2 }], deletes: ["c"] }),
        (error: unknown) =>
          error instanceof StoreConflictError && error.key === "c" && error.actual === r3,
      );
    });

    test("an empty transaction only checks its compares and returns the current revision", async () => {
      const { store } = await impl.fresh();
      const r1 = await store.commit({ puts: [{ key: "x", value: "v" }] });
      assert.equal(
        await store.commit({
          compares: [
            { key: "x", modRevision: r1 },
            { key: "y", modRevision: 0 },
          ],
        }),
        r1,
      );
      assert.equal(await store.commit({}), r1);
      await assert.rejects(
        store.commit({ compares: [{ key: "y", modRevision: r1 }] }),
        (error: unknown) =>
          error instanceof StoreConflictError && error.key === "y" && error.actual === 0,
      );
      assert.equal(await store.revision(), r1);
    });

    test("watch from a revision replays later commits one batch per revision, then follows live ones", async () => {
      const { store } = await impl.fresh();
      const r1 = await store.commit({
        puts: [
          { key: "w/a", value: 1 },
          { key: "w/b", value: 1 },
        ],
      });
      const r2 = await store.commit({
        puts: [
          { key: "w/a", value: 2 },
          { key: "other/x", value: 1 },
        ],
      });
      const r3 = await store.commit({ deletes: ["w/b"] });
      await store.commit({ puts: [{ key: "other/y", value: 1 }] });
      const seen = collector();
      const watch = await store.watch("w/", r1, seen.onBatch, seen.onError);
      try {
        await seen.waitFor(2);
        const r5 = await store.commit({
          puts: [
            { key: "w/c", value: 3 },
            { key: "w/a", value: 3 },
            { key: "other/z", value: 0 },
          ],
        });
        await seen.waitFor(3);
        // Within a revision, events come in the order the transaction wrote them.
        assert.deepEqual(seen.batches, [
          { revision: r2, events: [{ type: "put", key: "w/a", value: 2, modRevision: r2 }] },
          { revision: r3, events: [{ type: "delete", key: "w/b", modRevision: r3 }] },
          {
            revision: r5,
            events: [
              { type: "put", key: "w/c", value: 3, modRevision: r5 },
              { type: "put", key: "w/a", value: 3, modRevision: r5 },
            ],
          },
        ]);
      } finally {
        await watch.close();
      }
      assert.deepEqual(seen.errors, []);
      const count = seen.batches.length;
      await store.commit({ puts: [{ key: "w/after-close", value: 1 }] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(seen.batches.length, count, "a closed watch delivers nothing");
    });

    test("a watch from a compacted revision is refused with StoreCompactedError", async () => {
      let store: KvStore;
      if (impl.compact) {
        store = (await impl.fresh()).store;
        for (let i = 0; i < 5; i++) await store.commit({ puts: [{ key: "h/k", value: i }] });
        await impl.compact(store, await store.revision());
      } else {
        store = track(await openEmbeddedStore(tempDir(), { historyEvents: 10 }));
        for (let i = 0; i < 300; i++) await store.commit({ puts: [{ key: "h/k", value: i }] });
      }
      const seen = collector();
      await assert.rejects(store.watch("h/", 1, seen.onBatch, seen.onError), StoreCompactedError);
      // From the current revision the watch is fine.
      const watch = await store.watch("h/", await store.revision(), seen.onBatch, seen.onError);
      const next = await store.commit({ puts: [{ key: "h/k", value: "new" }] });
      await seen.waitFor(1);
      assert.equal(seen.batches[0]?.revision, next);
      await watch.close();
    });

    test("a commit larger than the embedded store's history still reaches a watcher one revision behind", async () => {
      const store = impl.compact
        ? (await impl.fresh()).store
        : track(await openEmbeddedStore(tempDir(), { historyEvents: 10 }));
      await store.commit({ puts: [{ key: "big/first", value: 0 }] });
      const before = await store.revision();
      const seen = collector();
      const watch = await store.watch("big/", before, seen.onBatch, seen.onError);
      try {
        const puts = Array.from({ length: 50 }, (_, i) => ({ key: `big/k${i}`, value: i }));
        const revision = await store.commit({ puts });
        await seen.waitFor(1);
        assert.deepEqual(seen.errors, []);
        assert.equal(seen.batches[0]?.revision, revision);
        assert.equal(seen.batches[0]?.events.length, 50);
      } finally {
        await watch.close();
      }
      // And a watch from just before it, opened afterwards, replays it whole.
      const late = collector();
      const replay = await store.watch("big/", before, late.onBatch, late.onError);
      try {
        await late.waitFor(1);
        assert.equal(late.batches[0]?.events.length, 50);
      } finally {
        await replay.close();
      }
    });

    test("a writer killed with SIGKILL mid-transaction leaves the old state or the new one, never half", async () => {
      const { store, url } = await impl.fresh();
      const keys = 400;
      for (let round = 0; round < 4; round++) {
        const child = spawn(process.execPath, [writerScript, url, String(keys)], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        try {
          const committed = await waitForCommits(child, 2 + round);
          // Kill at a random moment inside the next transactions.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
          child.kill("SIGKILL");
          await new Promise((resolve) => child.once("exit", resolve));
          const { items } = await store.range<{ generation: number }>("crash/");
          assert.equal(items.length, keys, `round ${round}: every key present`);
          const generations = new Set(items.map((item) => item.value.generation));
          assert.equal(
            generations.size,
            1,
            `round ${round}: one generation, found ${[...generations].join(", ")}`,
          );
          assert.ok(
            ([...generations][0] as number) >= committed,
            `round ${round}: no reported commit lost`,
          );
          assert.equal(new Set(items.map((item) => item.modRevision)).size, 1);
        } finally {
          child.kill("SIGKILL");
        }
      }
    });

    test("a 100,000-key prefix (endpoint-sized values) is written and read in pages, no request over the limit", async () => {
      const { store } = await impl.fresh();
      const total = 100_000;
      const perTxn = 2500;
      for (let start = 0; start < total; start += perTxn) {
        await store.commit({
          puts: Array.from({ length: perTxn }, (_, j) => ({
            key: `resources/endpoint/${String(start + j).padStart(6, "0")}`,
            value: endpointValue(start + j),
          })),
        });
      }
      await store.commit({ puts: [{ key: "resources/endpoinu", value: "outside the prefix" }] });
      const responseBytes: number[] = [];
      if (store instanceof EtcdKvStore) {
        // Observe the real responses etcd sends for each page.
        const range = store.client.kv.range.bind(store.client.kv);
        store.client.kv.range = async (request, options) => {
          const response = await range(request, options);
          responseBytes.push(
            response.kvs.reduce((sum, kv) => sum + kv.key.length + kv.value.length, 0),
          );
          return response;
        };
      }
      const read = await store.range<ReturnType<typeof endpointValue>>("resources/endpoint/", {
        pageSize: 1000,
      });
      const pages = responseBytes.length;
      assert.equal(read.items.length, total);
      assert.equal(read.revision, await store.revision());
      read.items.forEach((item, i) => {
        assert.equal(item.key, `resources/endpoint/${String(i).padStart(6, "0")}`);
        assert.equal(item.value.name, `ep-${i}`);
      });
      if (store instanceof EtcdKvStore) {
        assert.equal(pages, 100, "one response per page of 1000");
        assert.ok(
          Math.max(...responseBytes) < MAX_TXN_BYTES,
          `largest page ${Math.max(...responseBytes)} bytes`,
        );
      }
    });

    test("a value over 512 KiB or a transaction over the store's limit (etcd 1 MiB, 128 operations) is refused before anything is written", async () => {
      const { store } = await impl.fresh();
      const r0 = await store.commit({ puts: [{ key: "small", value: 1 }] });
      await assert.rejects(
        store.commit({
          puts: [
            { key: "small", value: 2 },
            { key: "big", value: "x".repeat(MAX_VALUE_BYTES) },
          ],
        }),
        (error: unknown) =>
          error instanceof ValueTooLargeError &&
          error.key === "big" &&
          error.bytes > MAX_VALUE_BYTES &&
          error.limit === MAX_VALUE_BYTES,
      );
      const part = "y".repeat(400 * 1024);
      const parts = Math.ceil(store.limits.bytes / part.length) + 1;
      await assert.rejects(
        store.commit({
          puts: Array.from({ length: parts }, (_, i) => ({ key: `p${i + 1}`, value: part })),
        }),
        (error: unknown) =>
          error instanceof ValueTooLargeError &&
          error.key === TRANSACTION &&
          error.limit === store.limits.bytes,
      );
      if (store.kind === "etcd") {
        assert.equal(store.limits.bytes, MAX_TXN_BYTES);
        const ops = store.limits.ops + 1;
        await assert.rejects(
          store.commit({
            puts: Array.from({ length: ops }, (_, i) => ({ key: `o${i}`, value: i })),
          }),
          (error: unknown) =>
            error instanceof TooManyOpsError && error.ops === ops && error.limit === ops - 1,
        );
      }
      assert.equal(await store.revision(), r0);
      assert.equal((await store.get("small"))?.value, 1);
      assert.equal(await store.get("p1"), undefined);
    });

    if (impl.name === "etcd") {
      test("prefix isolation: two fabrics' prefixes on one etcd see nothing of each other", async () => {
        const { store: a } = await impl.fresh();
        const { store: b } = await impl.fresh();
        const seen = collector();
        const watch = await b.watch("", await b.revision(), seen.onBatch, seen.onError);
        await a.commit({ puts: [{ key: "resources/endpoint/web-1", value: "A" }] });
        assert.equal(await b.get("resources/endpoint/web-1"), undefined);
        assert.deepEqual((await b.range("")).items, []);
        const rb = await b.commit({
          compares: [{ key: "resources/endpoint/web-1", modRevision: 0 }],
          puts: [{ key: "resources/endpoint/web-1", value: "B" }],
        });
        await seen.waitFor(1);
        assert.deepEqual(seen.batches, [
          {
            revision: rb,
            events: [{ type: "put", key: "resources/endpoint/web-1", value: "B", modRevision: rb }],
          },
        ]);
        assert.equal((await a.get("resources/endpoint/web-1"))?.value, "A");
        assert.deepEqual(
          (await a.range("")).items.map((i) => i.value),
          ["A"],
        );
        await watch.close();
      });
    }

    if (impl.name === "embedded") {
      test("the exclusive lock: a second opener is refused naming the holder's pid; a SIGKILLed holder's lock is taken over", async () => {
        const dir = tempDir();
        const holder = spawn(
          process.execPath,
          [
            "--input-type=module",
            "-e",
            `const { openEmbeddedStore } = await import(${JSON.stringify(new URL("../../../../controller/intent/store/embedded.js", import.meta.url).href)});
             await openEmbeddedStore(${JSON.stringify(dir)}, { exclusive: true });
             process.stdout.write("locked\\n");
             setInterval(() => {}, 1000);`,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        try {
          await waitForLine(holder, "locked");
          await assert.rejects(
            openEmbeddedStore(dir, { exclusive: true }),
            (error: unknown) => error instanceof StoreLockedError && error.holderPid === holder.pid,
          );
          // Readers (offline tools) still open it.
          const reader = await openStore(`embedded:${dir}`);
          assert.equal(await reader.revision(), 0);
          await reader.close();
          holder.kill("SIGKILL");
          await new Promise((resolve) => holder.once("exit", resolve));
          const owner = await openEmbeddedStore(dir, { exclusive: true });
          await assert.rejects(
            openEmbeddedStore(dir, { exclusive: true }),
            (error: unknown) =>
              error instanceof StoreLockedError && error.holderPid === process.pid,
          );
          await owner.close();
          // Closed: free again.
          await (await openEmbeddedStore(dir, { exclusive: true })).close();
        } finally {
          holder.kill("SIGKILL");
        }
      });
    }
  });
}

/** Resolves with the generation once the writer reported `count` commits. */
function waitForCommits(child: ChildProcess, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    let last = 0;
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      for (const match of chunk.matchAll(/committed (\d+)/g)) last = Number(match[1]);
      if (last >= count) resolve(last);
    });
    child.once("exit", (code) =>
      reject(new Error(`writer exited (${code}) after ${last} commits: ${stderr}`)),
    );
  });
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      if (chunk.includes(line)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`exited (${code}): ${stderr}`)));
  });
}
