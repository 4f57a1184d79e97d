/**
 * The protobuf codecs of P4Runtime writes (issue 13: keep the hand-written ones only if a kept
 * library is slower on the same workload). WriteRequests of the table entries the compiler makes
 * for the synthetic fabric, `--batch` updates each (the client's default batch), encoded and
 * decoded by the hand-written codecs, by @bufbuild/protobuf's generated code and by protobufjs as
 * @grpc/proto-loader drives it. All three are first checked to agree on every request (outside
 * any clock).
 *
 * Each of the six operations (3 codecs × encode, decode) is measured in a process of its own,
 * which loads the workload, times a first (cold) pass, warms up, then times `--passes` passes:
 * in one shared process, one operation's garbage was collected (by threads whose time counts
 * too) while the next one was measured, and forcing a collection in between made the next pass
 * up to 5× slower. The processes run one after the other, `--rounds` times, in an order rotated
 * from round to round so bursts of load on the shared machine hit all alike. Printed: entries
 * per second of the process's CPU time (median over the rounds of each process's median pass,
 * and the range of those; the first pass's median apart) and the bytes written. Prints figures;
 * asserts nothing about speed.
 *
 *   node dist/bench/protobuf-codecs.js [--endpoints 10000] [--entries 100000] [--batch 1000]
 *                                      [--rounds 3] [--passes 5]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { fromBinary } from "@bufbuild/protobuf";
import { Command, Option } from "commander";
import { WriteRequestSchema } from "./protobuf-es/p4/v1/p4runtime_pb.js";
import { percentile, printTable } from "./report.js";
import {
  type Codec,
  type CodecWorkload,
  checkAgreement,
  codecs,
  codecWorkload,
  compiledTableUpdates,
} from "./support/protobuf-codecs.js";

type Kind = "encode" | "decode";

interface WorkerResult {
  /** Entries per CPU second of the first pass (the code not compiled yet). */
  cold: number;
  /** Entries per CPU second of each measured pass. */
  rates: number[];
  /** Bytes written (encode) by one pass. */
  bytes: number;
}

/** CPU seconds (user + system, every thread of the process) that `run` takes. */
function cpuSeconds(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * What one operation reads of the saved workload (the plain updates and the bytes; structured
 * clone keeps Buffers), and nothing more, so no process collects garbage among data it does not
 * use. The @bufbuild messages are read from the bytes: checkAgreement showed they are the
 * messages built from the updates' JSON form.
 */
function loadWorkload(file: string, codec: Codec, kind: Kind): CodecWorkload {
  const saved = deserialize(readFileSync(file)) as Omit<CodecWorkload, "messages">;
  const input = kind === "encode" ? codec.encodes : "bytes";
  return {
    entries: saved.entries,
    encoded: saved.encoded,
    batches: input === "batches" ? saved.batches : [],
    messages:
      input === "messages"
        ? saved.encoded.map((bytes) => fromBinary(WriteRequestSchema, bytes))
        : [],
  };
}

/**
 * Warm-up before the measured passes: the hand-written decoder reached its steady rate only
 * after 4–5 passes of 100,000 entries (about 2 CPU seconds), the others after 1–2.
 */
const WARM_UP = { passes: 2, cpuSeconds: 3, maxPasses: 20 };

/** One operation in this process: the first (cold) pass, warm-up, then `passes` measured ones. */
function worker(codecName: string, kind: Kind, file: string, passes: number): void {
  const codec = codecs.find((c) => c.name === codecName);
  if (!codec) throw new Error(`unknown codec "${codecName}"`);
  const workload = loadWorkload(file, codec, kind);
  const result: WorkerResult = { cold: 0, rates: [], bytes: 0 };
  const pass = (): number => {
    let count = 0;
    const seconds = cpuSeconds(() => {
      count = kind === "encode" ? codec.encode(workload) : codec.decode(workload);
    });
    if (kind === "encode") result.bytes = count;
    else if (count !== workload.entries) {
      throw new Error(`${codec.name} decoded ${count} of ${workload.entries} updates`);
    }
    return seconds;
  };
  let warmSeconds = pass();
  result.cold = workload.entries / warmSeconds;
  for (let warm = 1; warm < WARM_UP.maxPasses; warm++) {
    if (warm >= WARM_UP.passes && warmSeconds >= WARM_UP.cpuSeconds) break;
    warmSeconds += pass();
  }
  for (let i = 0; i < passes; i++) result.rates.push(workload.entries / pass());
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runWorker(codecName: string, kind: Kind, file: string, passes: number): WorkerResult {
  const out = execFileSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--worker",
      kind,
      "--codec",
      codecName,
      "--input",
      file,
      "--passes",
      String(passes),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as WorkerResult;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const rate = (value: number) => Math.round(value).toLocaleString("en-US");

async function main(): Promise<void> {
  const number = (flags: string, description: string, value: number) =>
    new Option(flags, description).default(value).argParser(Number);
  const options = new Command("protobuf-codecs")
    .addOption(number("--endpoints <n>", "endpoints of the synthetic fabric compiled", 10_000))
    .addOption(number("--entries <n>", "table-entry updates encoded or decoded per pass", 100_000))
    .addOption(number("--batch <n>", "updates per WriteRequest", 1000))
    .addOption(number("--rounds <n>", "processes per operation, alternating", 3))
    .addOption(number("--passes <n>", "measured passes in each process", 5))
    .option("--worker <kind>", "(internal) measure one operation: encode | decode")
    .option("--codec <name>", "(internal) the codec --worker measures")
    .option("--input <file>", "(internal) the saved workload --worker reads")
    .parse()
    .opts<{
      endpoints: number;
      entries: number;
      batch: number;
      rounds: number;
      passes: number;
      worker?: Kind;
      codec?: string;
      input?: string;
    }>();
  if (options.worker) {
    worker(options.codec ?? "", options.worker, options.input ?? "", options.passes);
    return;
  }
  const workload = codecWorkload(
    compiledTableUpdates(options.endpoints, options.entries),
    options.batch,
  );
  checkAgreement(workload);
  const dir = mkdtempSync(join(tmpdir(), "protobuf-codecs-"));
  const operations = codecs.flatMap((codec) =>
    (["encode", "decode"] as const).map((kind) => ({
      codec,
      kind,
      /** Each process's median pass. */
      medians: [] as number[],
      /** Each process's first pass. */
      colds: [] as number[],
      bytes: 0,
    })),
  );
  try {
    const file = join(dir, "workload.bin");
    const { messages: _, ...saved } = workload;
    writeFileSync(file, serialize(saved));
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < operations.length; i++) {
        const op = operations[(i + round) % operations.length] as (typeof operations)[number];
        const result = runWorker(op.codec.name, op.kind, file, options.passes);
        op.medians.push(median(result.rates));
        op.colds.push(result.cold);
        if (op.kind === "encode") op.bytes = result.bytes;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `protobuf codecs: ${workload.entries.toLocaleString("en-US")} table-entry INSERTs compiled for the synthetic fabric of ${options.endpoints.toLocaleString("en-US")} endpoints, ${workload.batches.length} WriteRequests of ≤ ${options.batch}; all three agree on every request; entries per CPU second: median [min–max] over ${options.rounds} processes per operation (alternating), each its median of ${options.passes} passes`,
  );
  const find = (codec: (typeof codecs)[number], kind: Kind) =>
    operations.find((o) => o.codec === codec && o.kind === kind) as (typeof operations)[number];
  const summary = (values: number[]) =>
    `${rate(median(values))} [${rate(Math.min(...values))}–${rate(Math.max(...values))}]`;
  const reference = codecs[0] as (typeof codecs)[number];
  printTable(
    [
      "codec",
      "encode entries/CPU-s",
      "decode entries/CPU-s",
      "bytes written",
      "bytes/entry",
      "× hand-written (enc, dec)",
      "first pass (enc, dec)",
    ],
    codecs.map((codec) => {
      const encode = find(codec, "encode");
      const decode = find(codec, "decode");
      const ratio = (kind: Kind, own: number[]) =>
        (median(own) / median(find(reference, kind).medians)).toFixed(2);
      return [
        codec.name,
        summary(encode.medians),
        summary(decode.medians),
        encode.bytes,
        (encode.bytes / workload.entries).toFixed(1),
        `${ratio("encode", encode.medians)}, ${ratio("decode", decode.medians)}`,
        `${rate(median(encode.colds))}, ${rate(median(decode.colds))}`,
      ];
    }),
  );
}

await main();
