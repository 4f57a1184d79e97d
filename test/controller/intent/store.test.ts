/**
 * The file intent store: revisions, compare-and-set, read-modify-write, and atomicity when the
 * writer dies at any instant (a real child process killed with SIGKILL mid-write).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { FileIntentStore } from "../../../controller/intent/file-store.js";
import {
  type IntentRecord,
  type IntentStore,
  IntentStoreCorruptError,
  RevisionConflictError,
  updateIntent,
} from "../../../controller/intent/store.js";

const dirs: string[] = [];
function storePath(): string {
  const dir = mkdtempSync(join(tmpdir(), `intent-store-${process.pid}-`));
  dirs.push(dir);
  return join(dir, "intent.json");
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const doc = (name: string) => ({ name, switches: [] });
const noIds = { pools: {} };

/** The pid of a process that has exited (nothing else will have it this soon). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

describe("file intent store", () => {
  test("an empty store reads as nothing; each write adds one to the revision", async () => {
    const path = storePath();
    const store = new FileIntentStore(path);
    assert.equal(await store.read(), undefined);
    const first = await store.write({ document: doc("a"), allocations: noIds }, 0);
    assert.equal(first.revision, 1);
    const second = await store.write(
      { document: doc("b"), allocations: { pools: { vrf: { next: 2, ids: { t: 1 } } } } },
      1,
    );
    assert.equal(second.revision, 2);
    const read = await new FileIntentStore(path).read();
    assert.deepEqual(
      read && { revision: read.revision, document: read.document, allocations: read.allocations },
      {
        revision: 2,
        document: doc("b"),
        allocations: { pools: { vrf: { next: 2, ids: { t: 1 } } } },
      },
    );
    assert.equal(statSync(path).mode & 0o777, 0o600, "the intent is readable by its owner only");
  });

  test("a write against a stale revision is refused and changes nothing", async () => {
    const store = new FileIntentStore(storePath());
    await store.write({ document: doc("a"), allocations: noIds }, 0);
    await assert.rejects(
      store.write({ document: doc("stale"), allocations: noIds }, 0),
      (error: unknown) =>
        error instanceof RevisionConflictError && error.expected === 0 && error.actual === 1,
    );
    assert.equal((await store.read())?.document.name, "a");
  });

  test("read-modify-write retries when another writer got there first", async () => {
    const inner = new FileIntentStore(storePath());
    await inner.write({ document: { ...doc("x"), tenants: [] }, allocations: noIds }, 0);
    let interfered = false;
    // A store whose first write loses the race to another writer.
    const racing: IntentStore = {
      read: () => inner.read(),
      async write(next, expected) {
        if (!interfered) {
          interfered = true;
          await inner.write(
            { document: { ...doc("x"), tenants: [{ name: "other" }] }, allocations: noIds },
            expected,
          );
        }
        return inner.write(next, expected);
      },
    };
    const result = await updateIntent(racing, (current) => ({
      document: { ...doc("x"), tenants: [...(current?.document.tenants ?? []), { name: "mine" }] },
      allocations: noIds,
    }));
    assert.equal(result.revision, 3);
    assert.deepEqual(result.document.tenants, [{ name: "other" }, { name: "mine" }]);
  });

  test("concurrent read-modify-writes in one process lose no update", async () => {
    const store = new FileIntentStore(storePath());
    await store.write({ document: { ...doc("counter"), tenants: [] }, allocations: noIds }, 0);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateIntent(
          store,
          (current) => ({
            document: {
              ...doc("counter"),
              tenants: [...(current?.document.tenants ?? []), { name: `t${i}` }],
            },
            allocations: noIds,
          }),
          50,
        ),
      ),
    );
    const final = (await store.read()) as IntentRecord;
    assert.equal(final.revision, 21);
    assert.equal(final.document.tenants?.length, 20);
  });

  test("a damaged store file is reported by path, never guessed at", async () => {
    const path = storePath();
    writeFileSync(path, '{"format":"nvgre-intent/1","revision":3,"docu');
    await assert.rejects(
      new FileIntentStore(path).read(),
      (error: unknown) =>
        error instanceof IntentStoreCorruptError &&
        error.message.includes(path) &&
        /not JSON/.test(error.message),
    );
    writeFileSync(path, '{"something":"else"}');
    await assert.rejects(new FileIntentStore(path).read(), /not an intent store file/);
  });

  test("a writer that died mid-write leaves the previous record; the next writer recovers", async () => {
    const path = storePath();
    const store = new FileIntentStore(path);
    await store.write({ document: doc("before"), allocations: noIds }, 0);
    // What a writer killed between creating its temp file and renaming it leaves behind:
    // a torn temp file, and its lock.
    writeFileSync(
      `${path}.tmp-${deadPid()}-0badc0de`,
      '{"format":"nvgre-intent/1","revision":2,"docum',
    );
    writeFileSync(`${path}.lock`, String(deadPid()));
    const read = await store.read();
    assert.equal(read?.revision, 1);
    assert.equal(read?.document.name, "before");
    const next = await store.write({ document: doc("after"), allocations: noIds }, 1);
    assert.equal(next.revision, 2);
    assert.deepEqual(
      readdirSync(join(path, "..")).sort(),
      ["intent.json"],
      "temp file and stale lock are gone",
    );
  });

  test("killed with SIGKILL at random instants while writing, the store always holds a whole record", async () => {
    const path = storePath();
    const writer = fileURLToPath(new URL("./store-writer.js", import.meta.url));
    let lastRevision = 0;
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, [writer, path], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      // Once it has written at least once, kill it at a random instant of a later write.
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 20)));
      child.kill("SIGKILL");
      await exited;
      const record = await new FileIntentStore(path).read();
      assert.ok(record, `round ${round}: the store exists`);
      assert.equal(
        record.document.name,
        `rev-${record.revision}`,
        `round ${round}: the record is whole`,
      );
      assert.ok(record.revision > lastRevision, `round ${round}: the round's write is there`);
      lastRevision = record.revision;
    }
    assert.ok(lastRevision >= 8, `every round wrote at least once (${lastRevision} revisions)`);
    // A new writer takes over the dead writer's lock and cleans its temp files.
    const store = new FileIntentStore(path, { lockTimeoutMs: 2000 });
    const next = await store.write({ document: doc("survivor"), allocations: noIds }, lastRevision);
    assert.equal(next.revision, lastRevision + 1);
    assert.deepEqual(readdirSync(join(path, "..")), ["intent.json"]);
    assert.equal(JSON.parse(readFileSync(path, "utf8")).document.name, "survivor");
  });
});
