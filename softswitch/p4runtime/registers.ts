/**
 * Register entries. PI answers UNIMPLEMENTED for registers; the softswitch serves them as the
 * P4Runtime spec describes (MODIFY of one cell with a bit<W> P4Data, reads of one cell or all),
 * with the same index rules as counters and meters.
 */
import type { RegisterEntry, RegisterEntry__Output } from "../../proto/gen/p4/v1/RegisterEntry.js";
import { decodeField, encodeField } from "./bytes.js";
import { cellIndex, checkModifyOnly, type UpdateType } from "./counters.js";
import { Code, invalidArgument } from "./errors.js";
import type { PipelineModel, RegisterModel } from "./pipeline-model.js";

/** PI serves no registers, so it has no answer to match: the index's own code. */
const REGISTER_OUT_OF_RANGE = { code: Code.OUT_OF_RANGE, message: "Register index out of range" };

export function writeRegister(
  model: PipelineModel,
  type: UpdateType,
  entry: RegisterEntry__Output,
): void {
  const register = model.register(entry.register_id);
  const what = `register "${register.name}"`;
  const index = cellIndex(
    entry.index,
    register.size,
    what,
    REGISTER_OUT_OF_RANGE,
    "Wildcard write is not supported for registers",
  ) as number;
  checkModifyOnly(type, "registers", false);
  if (entry.data?.data !== "bitstring" || !entry.data.bitstring) {
    throw invalidArgument(`${what}: data must be a bitstring`);
  }
  register.array.set(index, decodeField(entry.data.bitstring, register.bitwidth, what));
}

export function readRegisters(
  model: PipelineModel,
  request: RegisterEntry__Output,
): RegisterEntry[] {
  const registers =
    request.register_id === 0
      ? [...model.registers.values()]
      : [model.register(request.register_id)];
  return registers.flatMap((r) => readCells(r, request));
}

function readCells(register: RegisterModel, request: RegisterEntry__Output): RegisterEntry[] {
  const index = cellIndex(
    request.index,
    register.size,
    `register "${register.name}"`,
    REGISTER_OUT_OF_RANGE,
  );
  const indexes =
    index === undefined ? Array.from({ length: register.size }, (_, i) => i) : [index];
  return indexes.map((i) => ({
    register_id: register.id,
    index: { index: String(i) },
    data: { bitstring: encodeField(register.array.get(i), register.bitwidth) },
  }));
}
