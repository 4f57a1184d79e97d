/**
 * P4Runtime Action messages ↔ the softswitch's action calls (PI action_helpers.cpp): every
 * parameter of the action exactly once, by id, each value fitting its width; read back with
 * canonical bytestrings in P4Info order.
 */
import type { Action, Action__Output } from "../../proto/gen/p4/v1/Action.js";
import type { CompiledAction } from "../compile/actions.js";
import type { ActionCall } from "../compile/control.js";
import type { FieldValue } from "../core/values.js";
import { decodeField, encodeField } from "./bytes.js";
import { invalidArgument } from "./errors.js";
import type { ActionModel, ParamModel } from "./pipeline-model.js";

/** The call a validated Action message stands for, bound to `compiled` (the table's copy). */
export function actionCall(
  model: ActionModel,
  compiled: CompiledAction,
  action: Action__Output,
): ActionCall {
  if (action.params.length !== model.params.length) {
    throw invalidArgument(
      "Unexpected number of action parameters",
      `${model.name} takes ${model.params.length}, ${action.params.length} given`,
    );
  }
  const data = new Array<FieldValue>(model.params.length);
  for (const p of action.params) {
    let at = 0;
    while (at < model.params.length && (model.params[at] as ParamModel).id !== p.param_id) at++;
    const param = model.params[at];
    if (!param) {
      throw invalidArgument(
        "Unknown action parameter",
        `${model.name} has no parameter ${p.param_id}`,
      );
    }
    if (data[at] !== undefined) {
      throw invalidArgument(`Duplicate action parameter: ${model.name}.${param.name} given twice`);
    }
    data[at] = decodeField(p.value, param.bitwidth, param.what);
  }
  return { action: compiled, data };
}

/** The Action message of a stored call, as a read returns it. */
export function actionMessage(model: ActionModel, call: ActionCall): Action {
  return {
    action_id: model.id,
    params: model.params.map((p, i) => ({
      param_id: p.id,
      value: encodeField(call.data[i] as FieldValue, p.bitwidth),
    })),
  };
}
