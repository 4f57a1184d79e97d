/**
 * The softswitch's match structures at fabric scale (issue 15): for each match kind and a mix
 * like the leaf's source_guard, 64,000 entries inserted at batch 1,000, then lookups of keys that
 * hit the entry written last. Printed per kind: inserts/s of the last batch (the table nearly
 * full), inserts/s over all, deletes/s, and lookups/s at 64,000 entries. The table structures
 * alone, without P4Runtime decoding (bench/switch-tables measures that path). Rates are per
 * second of this process's CPU time (steadier than wall time on a shared machine). Prints
 * figures; asserts nothing.
 *
 *   node dist/bench/match-kinds.js [--entries 64000] [--batch 1000]
 */
import { Command, Option } from "commander";
import {
  type KeyField,
  type MatchParam,
  MatchTable,
  type TableMatchType,
} from "../softswitch/core/match-table.js";
import type { FieldValue } from "../softswitch/core/values.js";
import { printTable } from "./report.js";

interface Kind {
  name: string;
  type: TableMatchType;
  keys: KeyField[];
  /** Entry i's match and priority. */
  entry(i: number): { match: MatchParam[]; priority: number };
  /** A key that hits entry i. */
  key(i: number): FieldValue[];
}

const MAC_BASE = 0x02_00_00_00_00_00;
const ALL_128 = (1n << 128n) - 1n;

const kinds: Kind[] = [
  {
    name: "exact (vsid, MAC)",
    type: "exact",
    keys: [
      { name: "vsid", kind: "exact", width: 24 },
      { name: "mac", kind: "exact", width: 48 },
    ],
    entry: (i) => ({
      match: [
        { kind: "exact", value: 0x5000 + (i % 640) },
        { kind: "exact", value: MAC_BASE + i },
      ],
      priority: 0,
    }),
    key: (i) => [0x5000 + (i % 640), MAC_BASE + i],
  },
  {
    name: "lpm (vrf, IPv4 /24–/32)",
    type: "lpm",
    keys: [
      { name: "vrf", kind: "exact", width: 16 },
      { name: "dst", kind: "lpm", width: 32 },
    ],
    entry: (i) => {
      const value = (0x0a00_0000 + i * 256) >>> 0;
      return {
        match: [
          { kind: "exact", value: i % 16 },
          { kind: "lpm", value, prefixLength: 24 + (i % 9) },
        ],
        priority: 0,
      };
    },
    key: (i) => [i % 16, (0x0a00_0000 + i * 256) >>> 0],
  },
  {
    name: "ternary (MAC masks)",
    type: "ternary",
    keys: [{ name: "mac", kind: "ternary", width: 48 }],
    entry: (i) => ({
      match: [
        {
          kind: "ternary",
          value: MAC_BASE + i * 16,
          mask: i % 2 === 0 ? 0xffff_ffff_ffff : 0xffff_ffff_fff0,
        },
      ],
      priority: 1 + (i % 8),
    }),
    key: (i) => [MAC_BASE + i * 16],
  },
  {
    name: "range (port range, exact proto)",
    type: "range",
    keys: [
      { name: "proto", kind: "exact", width: 8 },
      { name: "dport", kind: "range", width: 16 },
    ],
    entry: (i) => ({
      match: [
        { kind: "exact", value: i % 256 },
        { kind: "range", low: Math.floor(i / 256) * 256, high: Math.floor(i / 256) * 256 + 255 },
      ],
      priority: 1,
    }),
    key: (i) => [i % 256, Math.floor(i / 256) * 256 + 17],
  },
  {
    name: "optional (vsid, port)",
    type: "ternary",
    keys: [
      { name: "vsid", kind: "optional", width: 24 },
      { name: "port", kind: "optional", width: 9 },
    ],
    entry: (i) => ({
      match: [
        { kind: "optional", value: i, wildcard: false },
        { kind: "optional", value: i % 512, wildcard: i % 3 === 0 },
      ],
      priority: 1,
    }),
    key: (i) => [i, i % 512],
  },
  {
    name: "mix: source_guard (3 exact + 2 ternary, 128-bit CA)",
    type: "ternary",
    keys: [
      { name: "vsid", kind: "exact", width: 24 },
      { name: "port", kind: "exact", width: 9 },
      { name: "src_mac", kind: "exact", width: 48 },
      { name: "ca_family", kind: "ternary", width: 2 },
      { name: "src_ca", kind: "ternary", width: 128 },
    ],
    entry: (i) => {
      const any = i % 2 === 1;
      return {
        match: [
          { kind: "exact", value: 0x10000 + Math.floor(i / 100) },
          { kind: "exact", value: 4 },
          { kind: "exact", value: MAC_BASE + i },
          { kind: "ternary", value: any ? 0 : 1, mask: any ? 0 : 3 },
          { kind: "ternary", value: any ? 0n : 0x0a00_0000n + BigInt(i), mask: any ? 0n : ALL_128 },
        ],
        priority: 10,
      };
    },
    key: (i) => [0x10000 + Math.floor(i / 100), 4, MAC_BASE + i, 1, 0x0a00_0000n + BigInt(i)],
  },
];

/** Milliseconds of this process's CPU time (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function run(kind: Kind, entries: number, batch: number) {
  const table = new MatchTable<number>(kind.name, kind.keys, kind.type, entries);
  const specs = Array.from({ length: entries }, (_, i) => kind.entry(i));
  const handles: number[] = [];
  let lastBatchMs = 0;
  const t0 = cpuMs();
  for (let start = 0; start < entries; start += batch) {
    const b0 = cpuMs();
    for (let i = start; i < Math.min(start + batch, entries); i++) {
      const s = specs[i] as { match: MatchParam[]; priority: number };
      handles.push(table.add(s.match, i, s.priority));
    }
    lastBatchMs = cpuMs() - b0;
  }
  const insertMs = cpuMs() - t0;
  const last = entries - 1;
  const key = kind.key(last);
  if (table.lookup(key)?.action !== last) {
    throw new Error(`${kind.name}: the key of the last entry does not hit it`);
  }
  const lookups = 200_000;
  const l0 = cpuMs();
  for (let n = 0; n < lookups; n++) table.lookup(key);
  const lookupMs = cpuMs() - l0;
  const d0 = cpuMs();
  for (let i = entries - batch; i < entries; i++) table.delete(handles[i] as number);
  const deleteMs = cpuMs() - d0;
  return {
    lastBatch: batch / (lastBatchMs / 1000),
    overall: entries / (insertMs / 1000),
    deletes: batch / (deleteMs / 1000),
    lookups: lookups / (lookupMs / 1000),
  };
}

function main(): void {
  const options = new Command("match-kinds")
    .addOption(new Option("--entries <n>", "entries per table").default(64_000).argParser(Number))
    .addOption(new Option("--batch <n>", "entries per batch").default(1000).argParser(Number))
    .parse()
    .opts<{ entries: number; batch: number }>();
  console.log(
    `softswitch match structures, ${options.entries} entries, batch ${options.batch}, node ${process.version}`,
  );
  printTable(
    ["match kind", "inserts/s, last batch", "inserts/s, all", "deletes/s, last batch", "lookups/s"],
    kinds.map((k) => {
      const r = run(k, options.entries, options.batch);
      return [
        k.name,
        Math.round(r.lastBatch),
        Math.round(r.overall),
        Math.round(r.deletes),
        Math.round(r.lookups),
      ];
    }),
  );
}

main();
