/**
 * Child process for the store crash test: commits ever newer generations of the same `keys`
 * keys (about 2 KB each, ~800 KB per transaction) to the store a URL names, as fast as it can,
 * until it is killed. Every key of one commit carries the same generation, so the parent can
 * tell a whole commit from a torn one. Prints `committed <generation>` after each commit.
 *
 *   node dist/test/support/kv-writer.js STORE_URL [KEYS]
 */
import { openStore } from "../../controller/intent/store/open.js";

const url = process.argv[2];
if (!url) throw new Error("usage: kv-writer.js STORE_URL [KEYS]");
const keys = Number(process.argv[3] ?? 400);
const store = await openStore(url);
const padding = "x".repeat(2000);

for (let generation = 1; ; generation++) {
  await store.commit({
    puts: Array.from({ length: keys }, (_, i) => ({
      key: `crash/k${String(i).padStart(4, "0")}`,
      value: { generation, padding },
    })),
  });
  process.stdout.write(`committed ${generation}\n`);
}
