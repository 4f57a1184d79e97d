/**
 * The protobuf codecs of P4Runtime writes (issue 13: keep the hand-written ones only if a kept
 * library is slower on the same workload). WriteRequests of the table entries the compiler makes
 * for the synthetic fabric, `--batch` updates each (the client's default batch), encoded and
 * decoded by the hand-written codecs, by @bufbuild/protobuf's generated code and by protobufjs as
 * @grpc/proto-loader drives it. All three are first checked to agree on every request (outside
 * the clock). Then each of the six operations runs once per round, in an order rotated from
 * round to round so bursts of load on a shared machine hit all alike; printed: entries per second
 * of the process's CPU time (median and range over the rounds) and the bytes written. Prints
 * figures; asserts nothing about speed.
 *
 *   node dist/bench/protobuf-codecs.js [--endpoints 10000] [--entries 100000] [--batch 1000]
 *                                      [--rounds 9]
 */
import { Command, Option } from "commander";
import { percentile, printTable } from "./report.js";
import {
  type Codec,
  type CodecWorkload,
  checkAgreement,
  codecs,
  codecWorkload,
  compiledTableUpdates,
} from "./support/protobuf-codecs.js";

interface Operation {
  codec: Codec;
  kind: "encode" | "decode";
  /** Entries per CPU second, one per round. */
  rates: number[];
  /** Bytes written (encode) or read (decode) in one pass. */
  bytes: number;
}

/** CPU seconds (user + system, every thread of the process) that `run` takes. */
function cpuSeconds(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function measure(op: Operation, workload: CodecWorkload): void {
  let count = 0;
  const seconds = cpuSeconds(() => {
    count = op.kind === "encode" ? op.codec.encode(workload) : op.codec.decode(workload);
  });
  if (op.kind === "encode") op.bytes = count;
  else if (count !== workload.entries) {
    throw new Error(`${op.codec.name} decoded ${count} of ${workload.entries} updates`);
  }
  op.rates.push(workload.entries / seconds);
}

async function main(): Promise<void> {
  const options = new Command("protobuf-codecs")
    .addOption(
      new Option("--endpoints <n>", "endpoints of the synthetic fabric compiled")
        .default(10_000)
        .argParser(Number),
    )
    .addOption(
      new Option("--entries <n>", "table-entry updates encoded and decoded per pass")
        .default(100_000)
        .argParser(Number),
    )
    .addOption(
      new Option("--batch <n>", "updates per WriteRequest").default(1000).argParser(Number),
    )
    .addOption(
      new Option("--rounds <n>", "measured rounds of every operation").default(9).argParser(Number),
    )
    .parse()
    .opts<{ endpoints: number; entries: number; batch: number; rounds: number }>();
  const updates = compiledTableUpdates(options.endpoints, options.entries);
  const workload = codecWorkload(updates, options.batch);
  checkAgreement(workload);
  const operations: Operation[] = codecs.flatMap((codec) =>
    (["encode", "decode"] as const).map((kind) => ({ codec, kind, rates: [], bytes: 0 })),
  );
  // One unmeasured round: the JIT warmed on every path, as in a long-running controller/switch.
  for (const op of operations) measure(op, workload);
  for (const op of operations) op.rates.length = 0;
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < operations.length; i++) {
      measure(operations[(i + round) % operations.length] as Operation, workload);
    }
  }
  console.log(
    `protobuf codecs: ${workload.entries.toLocaleString("en-US")} table-entry INSERTs compiled for the synthetic fabric of ${options.endpoints.toLocaleString("en-US")} endpoints, ${workload.batches.length} WriteRequests of ≤ ${options.batch}; all three agree on every request; entries per CPU second, median [min–max] of ${options.rounds} alternating rounds`,
  );
  const summary = (op: Operation) => {
    const sorted = [...op.rates].sort((a, b) => a - b);
    return {
      median: percentile(sorted, 50),
      text: `${Math.round(percentile(sorted, 50)).toLocaleString("en-US")} [${Math.round(sorted[0] ?? 0).toLocaleString("en-US")}–${Math.round(sorted.at(-1) ?? 0).toLocaleString("en-US")}]`,
    };
  };
  const rows = codecs.map((codec) => {
    const encode = operations.find((o) => o.codec === codec && o.kind === "encode") as Operation;
    const decode = operations.find((o) => o.codec === codec && o.kind === "decode") as Operation;
    return { codec, encode, decode };
  });
  const [reference] = rows;
  printTable(
    [
      "codec",
      "encode entries/CPU-s",
      "decode entries/CPU-s",
      "bytes written",
      "bytes/entry",
      "× hand-written (enc, dec)",
    ],
    rows.map(({ codec, encode, decode }) => [
      codec.name,
      summary(encode).text,
      summary(decode).text,
      encode.bytes,
      (encode.bytes / workload.entries).toFixed(1),
      reference
        ? `${(summary(encode).median / summary(reference.encode).median).toFixed(2)}, ${(summary(decode).median / summary(reference.decode).median).toFixed(2)}`
        : "",
    ]),
  );
}

await main();
