/**
 * Child process for the intent store crash test: writes ever newer intents to the store named
 * on the command line, as fast as it can, until it is killed. Each document names its own
 * revision, so the parent can tell a whole record from a torn one.
 */
import { FileIntentStore } from "../../../controller/intent/file-store.js";

const path = process.argv[2];
if (!path) throw new Error("usage: store-writer.js STORE_PATH");
const store = new FileIntentStore(path);
// ~1 MB per record, so a kill often lands inside a write.
const padding = Array.from({ length: 4000 }, (_, i) => ({
  name: `t${i}`,
  description: "x".repeat(200),
}));

for (;;) {
  const current = await store.read();
  const revision = (current?.revision ?? 0) + 1;
  await store.write(
    {
      document: { name: `rev-${revision}`, switches: [], tenants: padding },
      allocations: { pools: {} },
    },
    current?.revision ?? 0,
  );
  process.stdout.write(`wrote ${revision}\n`);
}
