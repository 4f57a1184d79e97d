/**
 * Counter and direct counter entries (PI device_mgr.cpp counter_write, direct_counter_write and
 * their reads). Counters are only modified (set) or deleted (reset to zero), one index at a
 * time; reads return packets and bytes together, as bmv2 keeps both whatever the unit, and a
 * write sets only the unit the counter counts (the other becomes 0), as PI passes it to bmv2.
 */
import type { CounterData__Output } from "../../proto/gen/p4/v1/CounterData.js";
import type { CounterEntry, CounterEntry__Output } from "../../proto/gen/p4/v1/CounterEntry.js";
import type {
  DirectCounterEntry,
  DirectCounterEntry__Output,
} from "../../proto/gen/p4/v1/DirectCounterEntry.js";
import type { Update__Output } from "../../proto/gen/p4/v1/Update.js";
import { Code, invalidArgument, P4RuntimeError } from "./errors.js";
import type { CounterModel, CounterUnit, PipelineModel } from "./pipeline-model.js";
import type { TableEntries } from "./table-entries.js";

export type UpdateType = Update__Output["type"];

/** PI's checks of an update type for entities that are only modified. */
export function checkModifyOnly(type: UpdateType, kind: string, deleteAllowed: boolean): void {
  if (type === "UNSPECIFIED") throw invalidArgument("Update type is not set");
  if (type === "INSERT") throw invalidArgument(`INSERT update type not supported for ${kind}`);
  if (type === "DELETE" && !deleteAllowed) {
    throw invalidArgument(`DELETE update type not supported for ${kind}`);
  }
  if (type !== "MODIFY" && type !== "DELETE") throw invalidArgument("Invalid update type");
}

/**
 * What PI answers for an index past the end: the target refuses it and PI reports that the
 * access failed (UNKNOWN "Error when reading counter from target" and the like).
 */
export interface OutOfRange {
  code: Code;
  message: string;
}

const COUNTER_READ: OutOfRange = {
  code: Code.UNKNOWN,
  message: "Error when reading counter from target",
};
const COUNTER_WRITE: OutOfRange = {
  code: Code.UNKNOWN,
  message: "Error when writing to counter",
};

/** The index of a one-cell write or read, checked against the array size. */
export function cellIndex(
  index: { index: string } | null,
  size: number,
  what: string,
  outOfRange: OutOfRange,
  wildcardWrite?: string,
): number | undefined {
  if (!index) {
    if (wildcardWrite) throw new P4RuntimeError(Code.UNIMPLEMENTED, wildcardWrite);
    return undefined;
  }
  const i = BigInt(index.index);
  if (i < 0n) throw invalidArgument("A negative number is not a valid index value");
  if (i >= BigInt(size)) {
    throw new P4RuntimeError(
      outOfRange.code,
      outOfRange.message,
      `${what}: index ${i} out of range (size ${size})`,
    );
  }
  return Number(i);
}

/** What a counter of `unit` keeps of written data (bmv2 PI convert_from_counter_data). */
function written(unit: CounterUnit, data: CounterData__Output | null) {
  return {
    packets: unit === "BYTES" ? 0n : BigInt(data?.packet_count ?? 0),
    bytes: unit === "PACKETS" ? 0n : BigInt(data?.byte_count ?? 0),
  };
}

export function writeCounter(
  model: PipelineModel,
  type: UpdateType,
  entry: CounterEntry__Output,
): void {
  const counter = model.counter(entry.counter_id);
  const what = `counter "${counter.name}"`;
  const index = cellIndex(
    entry.index,
    counter.size,
    what,
    COUNTER_WRITE,
    "Wildcard write is not supported for indirect counters yet",
  ) as number;
  checkModifyOnly(type, "counters", true);
  counter.array.write(
    index,
    type === "DELETE" ? written(counter.unit, null) : written(counter.unit, entry.data),
  );
}

export function readCounters(model: PipelineModel, request: CounterEntry__Output): CounterEntry[] {
  const counters =
    request.counter_id === 0 ? [...model.counters.values()] : [model.counter(request.counter_id)];
  return counters.flatMap((c) => readCells(c, request));
}

function readCells(counter: CounterModel, request: CounterEntry__Output): CounterEntry[] {
  const index = cellIndex(request.index, counter.size, `counter "${counter.name}"`, COUNTER_READ);
  const indexes = index === undefined ? Array.from({ length: counter.size }, (_, i) => i) : [index];
  return indexes.map((i) => {
    const value = counter.array.read(i);
    return {
      counter_id: counter.id,
      index: { index: String(i) },
      data: { packet_count: String(value.packets), byte_count: String(value.bytes) },
    };
  });
}

export function writeDirectCounter(
  entries: (tableId: number) => TableEntries,
  type: UpdateType,
  entry: DirectCounterEntry__Output,
): void {
  if (!entry.table_entry) throw invalidArgument("Missing table_entry field in DirectCounterEntry");
  const table = entries(entry.table_entry.table_id);
  const handle = table.handleOf(entry.table_entry);
  const counter = table.model.directCounter;
  if (!counter) throw invalidArgument("Table has no direct counters");
  checkModifyOnly(type, "counters", true);
  if (handle === "default") {
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      "Direct counters of default entries are not supported (as in bmv2)",
    );
  }
  const value = type === "DELETE" ? { packets: 0n, bytes: 0n } : written("BOTH", entry.data);
  const target = table.model.state.entries.get(handle);
  if (target) {
    target.packets = Number(value.packets);
    target.bytes = Number(value.bytes);
  }
}

export function readDirectCounters(
  entries: (tableId: number) => TableEntries,
  request: DirectCounterEntry__Output,
): DirectCounterEntry[] {
  if (!request.table_entry)
    throw invalidArgument("Missing table_entry field in DirectCounterEntry");
  if (request.table_entry.table_id === 0) {
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      "Reading all direct counters for ALL tables is not supported yet",
    );
  }
  const table = entries(request.table_entry.table_id);
  if (!table.model.directCounter) throw invalidArgument("Table has no direct counters");
  const one = request.table_entry.match.length > 0 || request.table_entry.is_default_action;
  if (one && table.handleOf(request.table_entry) === "default") {
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      "Direct counters of default entries are not supported (as in bmv2)",
    );
  }
  const selected = one
    ? [table.model.state.entries.get(table.handleOf(request.table_entry) as number)]
    : [...table.entries()];
  return selected.flatMap((e) =>
    e
      ? [
          {
            table_entry: table.keyMessage(e),
            data: { packet_count: String(e.packets), byte_count: String(e.bytes) },
          },
        ]
      : [],
  );
}
