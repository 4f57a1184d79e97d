/**
 * Store benchmark (issue 11), both implementations: the embedded SQLite store in a temporary
 * directory and a real 3-member etcd cluster on loopback (started here, stopped at the end):
 *   commit   a 1-key transaction with a compare (compare-and-set), median and p99 over N commits;
 *   range    100,000 endpoint-sized keys (~200 B) read in pages of 1,000 at one revision;
 *   watch    from the start of a commit to the watcher's batch, median and p99.
 *
 *   node dist/bench/store.js [--commits 1000] [--keys 100000] [--watches 200]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { openEmbeddedStore } from "../controller/intent/store/embedded.js";
import { openEtcdStore } from "../controller/intent/store/etcd.js";
import type { KvStore, WatchBatch } from "../controller/intent/store/types.js";
import { startEtcdCluster } from "../topologies/etcd.js";
import { percentile, printTable } from "./report.js";

const options = new Command()
  .option("--commits <n>", "1-key commits timed", "1000")
  .option("--keys <n>", "keys in the ranged prefix", "100000")
  .option("--watches <n>", "commits whose watch delivery is timed", "200")
  .parse()
  .opts<{ commits: string; keys: string; watches: string }>();

const PAGE_SIZE = 1000;

interface Figures {
  commitMedianMs: number;
  commitP99Ms: number;
  rangeMs: number;
  /** This process's CPU time during the range (the machine may be shared). */
  rangeCpuMs: number;
  rangePages: number;
  watchMedianMs: number;
  watchP99Ms: number;
}

function sorted(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

async function measure(store: KvStore): Promise<Figures> {
  const commits: number[] = [];
  let modRevision = 0;
  for (let i = 0; i < Number(options.commits); i++) {
    const start = performance.now();
    modRevision = await store.commit({
      compares: [{ key: "bench/cas", modRevision }],
      puts: [{ key: "bench/cas", value: { i } }],
    });
    commits.push(performance.now() - start);
  }

  const keys = Number(options.keys);
  for (let start = 0; start < keys; start += 2500) {
    await store.commit({
      puts: Array.from({ length: Math.min(2500, keys - start) }, (_, j) => {
        const i = start + j;
        return {
          key: `bench/endpoints/${String(i).padStart(6, "0")}`,
          value: {
            kind: "endpoint",
            name: `ep-${i}`,
            vsid: 0x5000 + (i % 50),
            mac: `02:00:00:${((i >> 16) & 0xff).toString(16)}:${((i >> 8) & 0xff).toString(16)}:${(i & 0xff).toString(16)}`,
            ca: `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`,
            switch: `leaf${(i % 16) + 1}`,
            port: (i % 48) + 1,
            vlan: 100 + (i % 50),
          },
        };
      }),
    });
  }
  const rangeStart = performance.now();
  const cpuStart = process.cpuUsage();
  const { items } = await store.range("bench/endpoints/", { pageSize: PAGE_SIZE });
  const rangeMs = performance.now() - rangeStart;
  const cpu = process.cpuUsage(cpuStart);
  if (items.length !== keys) throw new Error(`range returned ${items.length} of ${keys} keys`);

  const deliveries: number[] = [];
  let arrived: ((batch: WatchBatch) => void) | undefined;
  const watch = await store.watch(
    "bench/watched/",
    await store.revision(),
    (batch) => arrived?.(batch),
    (error) => {
      throw error;
    },
  );
  for (let i = 0; i < Number(options.watches); i++) {
    const delivered = new Promise<WatchBatch>((resolve) => {
      arrived = resolve;
    });
    const start = performance.now();
    await store.commit({ puts: [{ key: "bench/watched/k", value: i }] });
    await delivered;
    deliveries.push(performance.now() - start);
  }
  await watch.close();

  const commitSorted = sorted(commits);
  const watchSorted = sorted(deliveries);
  return {
    commitMedianMs: percentile(commitSorted, 50),
    commitP99Ms: percentile(commitSorted, 99),
    rangeMs,
    rangeCpuMs: (cpu.user + cpu.system) / 1000,
    rangePages: Math.ceil(keys / PAGE_SIZE),
    watchMedianMs: percentile(watchSorted, 50),
    watchP99Ms: percentile(watchSorted, 99),
  };
}

const results: [string, Figures][] = [];
const dir = mkdtempSync(join(tmpdir(), "nvgre-bench-store-"));
try {
  const embedded = await openEmbeddedStore(dir, { exclusive: true });
  try {
    results.push(["embedded (SQLite, WAL, synchronous=FULL)", await measure(embedded)]);
  } finally {
    await embedded.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const cluster = await startEtcdCluster({ members: 3 });
try {
  const etcd = await openEtcdStore({ endpoints: cluster.endpoints, prefix: "/nvgre/bench/" });
  try {
    results.push(["etcd 3.4, 3 members on loopback", await measure(etcd)]);
  } finally {
    await etcd.close();
  }
} finally {
  await cluster.stop();
}

const ms = (value: number) => value.toFixed(2);
printTable(
  [
    "store",
    `commit 1 key, median ms (${options.commits})`,
    "commit p99 ms",
    `range ${Number(options.keys).toLocaleString("en-US")} keys ms`,
    "range CPU ms (this process)",
    "pages",
    `watch delivery median ms (${options.watches})`,
    "watch p99 ms",
  ],
  results.map(([name, f]) => [
    name,
    ms(f.commitMedianMs),
    ms(f.commitP99Ms),
    Math.round(f.rangeMs),
    Math.round(f.rangeCpuMs),
    f.rangePages,
    ms(f.watchMedianMs),
    ms(f.watchP99Ms),
  ]),
);
