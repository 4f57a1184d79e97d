/**
 * Why controller/intent/addresses.ts parses dotted quads itself: the IPv4 CAs of every endpoint
 * are parsed when a fabric is validated whole (a cold start, an apply), and ipaddr.js (kept for
 * every other form: IPv6, and refusing what is not an address) is the larger part of that.
 * Times both on the same 100,000 distinct addresses, best of 5 rounds; prints ns per address.
 *
 *   node dist/bench/address-parsing.js [--count 100000]
 */
import { Command } from "commander";
import ipaddr from "ipaddr.js";
import { parseIp } from "../controller/intent/addresses.js";
import { printTable } from "./report.js";

const options = new Command()
  .option("--count <n>", "addresses per round", (v) => Number(v), 100_000)
  .parse()
  .opts<{ count: number }>();

const addresses = Array.from(
  { length: options.count },
  (_, i) => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`,
);

/** What parseIp did for a dotted quad before its own path: ipaddr.js's check, parse and print. */
function viaIpaddr(text: string) {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw new Error(text);
  const address = ipaddr.IPv4.parse(text);
  let value = 0n;
  for (const byte of address.toByteArray()) value = (value << 8n) | BigInt(byte);
  return { text: address.toString(), value, hex: value.toString(16) };
}

function bestNsPer(parse: (text: string) => { text: string; value: bigint }): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    let check = 0n;
    for (const text of addresses) check ^= parse(text).value;
    const ns = Number(process.hrtime.bigint() - start) / addresses.length;
    if (check < 0n) throw new Error("unreachable: keeps the results live");
    best = Math.min(best, ns);
  }
  return best;
}

const own = bestNsPer(parseIp);
const library = bestNsPer(viaIpaddr);
printTable(
  ["parser", "ns / IPv4 address", "ratio"],
  [
    ["parseIp (own dotted-quad path)", own.toFixed(0), "1.00"],
    ["ipaddr.js check + parse + print", library.toFixed(0), (library / own).toFixed(2)],
  ],
);
