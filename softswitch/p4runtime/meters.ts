/**
 * Meter and direct meter entries (PI device_mgr.cpp meter_write, direct_meter_write and their
 * reads): only MODIFY, one index at a time; a config sets the rates, no config resets the meter.
 * Reads include the config only when the meter is configured, as PI does.
 */
import type {
  DirectMeterEntry,
  DirectMeterEntry__Output,
} from "../../proto/gen/p4/v1/DirectMeterEntry.js";
import type { MeterEntry, MeterEntry__Output } from "../../proto/gen/p4/v1/MeterEntry.js";
import { cellIndex, checkModifyOnly, type UpdateType } from "./counters.js";
import { Code, invalidArgument, P4RuntimeError } from "./errors.js";
import { configureMeter, meterConfigOf, meterRates } from "./meter-config.js";
import type { MeterModel, PipelineModel } from "./pipeline-model.js";
import type { TableEntries } from "./table-entries.js";

export function writeMeter(
  model: PipelineModel,
  type: UpdateType,
  entry: MeterEntry__Output,
): void {
  const meter = model.meter(entry.meter_id);
  const index = cellIndex(
    entry.index,
    meter.size,
    `meter "${meter.name}"`,
    { code: Code.UNKNOWN, message: "Error when writing meter spec" },
    "Wildcard write is not supported for indirect meters yet",
  ) as number;
  checkModifyOnly(type, "meters", false);
  configureMeter(meter.array.meter(index), meterRates(entry.config));
}

export function readMeters(model: PipelineModel, request: MeterEntry__Output): MeterEntry[] {
  const meters =
    request.meter_id === 0 ? [...model.meters.values()] : [model.meter(request.meter_id)];
  return meters.flatMap((m) => readCells(m, request));
}

function readCells(meter: MeterModel, request: MeterEntry__Output): MeterEntry[] {
  const index = cellIndex(request.index, meter.size, `meter "${meter.name}"`, {
    code: Code.UNKNOWN,
    message: "Error when reading meter spec from target",
  });
  const indexes = index === undefined ? Array.from({ length: meter.size }, (_, i) => i) : [index];
  return indexes.map((i) => {
    const config = meterConfigOf(meter.array.meter(i));
    return { meter_id: meter.id, index: { index: String(i) }, ...(config ? { config } : {}) };
  });
}

const defaultEntryMeters = "Direct meters of default entries are not supported (as in bmv2)";

export function writeDirectMeter(
  entries: (tableId: number) => TableEntries,
  type: UpdateType,
  entry: DirectMeterEntry__Output,
): void {
  if (!entry.table_entry) throw invalidArgument("Missing table_entry field in DirectMeterEntry");
  const table = entries(entry.table_entry.table_id);
  const handle = table.handleOf(entry.table_entry);
  if (!table.model.directMeter) throw invalidArgument("Table has no direct meters");
  checkModifyOnly(type, "meters", false);
  const rates = meterRates(entry.config);
  if (handle === "default") throw new P4RuntimeError(Code.UNIMPLEMENTED, defaultEntryMeters);
  configureMeter(table.model.state.directMeter(handle), rates);
}

export function readDirectMeters(
  entries: (tableId: number) => TableEntries,
  request: DirectMeterEntry__Output,
): DirectMeterEntry[] {
  if (!request.table_entry) throw invalidArgument("Missing table_entry field in DirectMeterEntry");
  if (request.table_entry.table_id === 0) {
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      "Reading all direct meters for ALL tables is not supported yet",
    );
  }
  const table = entries(request.table_entry.table_id);
  if (!table.model.directMeter) throw invalidArgument("Table has no direct meters");
  const one = request.table_entry.match.length > 0 || request.table_entry.is_default_action;
  const handle = one ? table.handleOf(request.table_entry) : undefined;
  if (handle === "default") throw new P4RuntimeError(Code.UNIMPLEMENTED, defaultEntryMeters);
  const selected =
    handle === undefined ? [...table.entries()] : [table.model.state.entries.get(handle)];
  return selected.flatMap((e) => {
    if (!e) return [];
    const meter = table.model.state.directMeters.get(e.handle);
    const config = meter && meterConfigOf(meter);
    return [{ table_entry: table.keyMessage(e), ...(config ? { config } : {}) }];
  });
}
