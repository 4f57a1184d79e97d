/**
 * simple_switch's own primitives (targets/simple_switch/primitives.cpp), the ones that act on
 * v1model's standard metadata and per-packet registers: mark_to_drop, clone, resubmit,
 * recirculate and digests. The engine's compiler (../compile) knows none of them; SimpleSwitch
 * hands them over in Resources.primitives.
 */
import { params } from "../compile/actions.js";
import { bigSource, compileData } from "../compile/expressions.js";
import type { PrimitiveCompiler } from "../compile/resources.js";
import type { PhvLayout } from "../core/layout.js";

/**
 * What mark_to_drop writes: egress_spec gets the drop port, and the multicast group (under
 * either name v1model programs give it) is cleared, as bmv2 does.
 */
function dropSlots(layout: PhvLayout, where: string): { spec: number; mcast: number | undefined } {
  const mcast =
    layout.optionalField("standard_metadata", "mcast_grp") ??
    layout.optionalField("intrinsic_metadata", "mcast_grp");
  return { spec: layout.field("standard_metadata", "egress_spec", where).slot, mcast: mcast?.slot };
}

/** mark_to_drop (and P4_14's drop) for a switch whose drop port is `dropPort`. */
function markToDrop(dropPort: number): PrimitiveCompiler {
  return (_call, ctx, res) => {
    const { spec, mcast } = dropSlots(res.layout, ctx.where);
    const clear = mcast !== undefined ? ` v[${mcast}] = 0;` : "";
    return () => `v[${spec}] = ${dropPort};${clear}\n`;
  };
}

const cloneIngressPktToEgress: PrimitiveCompiler = (call, ctx, _res) => {
  const [session, fieldList] = params(call, 2, ctx);
  const s = compileData(session, ctx);
  const fl = compileData(fieldList, ctx);
  // simple_switch keeps the session id with a valid bit (RegisterAccess).
  return (g) =>
    `p.cloneSession = (Number(BigInt.asUintN(16, ${bigSource(s, g)})) | 0x8000) >>> 0;\n` +
    `p.cloneFieldList = Number(BigInt.asUintN(16, ${bigSource(fl, g)}));\n`;
};

const resubmit: PrimitiveCompiler = (call, ctx, _res) => {
  const [fieldList] = params(call, 1, ctx);
  const fl = compileData(fieldList, ctx);
  const register = call.op === "resubmit" ? "resubmitFieldList" : "recirculateFieldList";
  return (g) => `p.${register} = Number(BigInt.asUintN(16, ${bigSource(fl, g)}));\n`;
};

const generateDigest: PrimitiveCompiler = (call, ctx, _res) => {
  const [, learnId] = params(call, 2, ctx);
  const id = compileData(learnId, ctx);
  return (g) => `p.learnList = Number(BigInt.asUintN(16, ${bigSource(id, g)}));\n`;
};

/** The primitives above, by name, for a switch whose drop port is `dropPort`. */
export function v1modelPrimitives(dropPort: number): ReadonlyMap<string, PrimitiveCompiler> {
  const drop = markToDrop(dropPort);
  return new Map([
    ["mark_to_drop", drop],
    ["drop", drop],
    ["clone_ingress_pkt_to_egress", cloneIngressPktToEgress],
    ["clone_egress_pkt_to_egress", cloneIngressPktToEgress],
    ["resubmit", resubmit],
    ["recirculate", resubmit],
    ["generate_digest", generateDigest],
  ]);
}
