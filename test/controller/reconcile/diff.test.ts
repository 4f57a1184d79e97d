/**
 * The diff, with no switch: what is inserted, modified and deleted, and in which order the
 * steps go (references valid at every step; what lets packets in is written last and removed
 * first).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { codecFor } from "../../../controller/compile/compile.js";
import { SwitchState } from "../../../controller/compile/state.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { diffStates, planSize } from "../../../controller/reconcile/diff.js";

const codec = codecFor(loadNvgrePipeline().index);

function state(entries: [string, string, string][]): SwitchState {
  const s = new SwitchState("leaf1");
  for (const [collection, key, value] of entries) s.add(collection, key, value);
  return s;
}

/** A leaf's worth of entities: an ECMP route with its member and group, a bridged MAC, a port. */
const full: [string, string, string][] = [
  ["member:ecmp_selector", "1", "set_next_hop(31,20000000a01,20000000b01)"],
  ["group:ecmp_selector", "1", "1*1"],
  ["table:ecmp", "1", "@group:1"],
  ["table:route_v4", "a000002/32", "set_ecmp_group(1)"],
  ["table:mac", "5001 5e005301", "bridge_to_port(1)"],
  ["table:port_type", "1", "set_port_access()"],
  ["mcast", "1", "1:0"],
  ["default:switch_config", "", "set_switch_config(40,1)"],
  ["digest:learn_t", "", "1000000,64,1000000000"],
];

const steps = (desired: SwitchState, observed: SwitchState) =>
  diffStates(desired, observed, codec).steps.map((step) =>
    step.map((u) => `${u.type} ${u.collection}${u.key ? ` ${u.key}` : ""}`),
  );

describe("reconcile diff", () => {
  test("equal states: nothing to write", () => {
    const plan = diffStates(state(full), state(full), codec);
    assert.equal(planSize(plan), 0);
    assert.deepEqual(plan.steps, []);
  });

  test("into an empty switch: members, groups, PRE, then tables downstream first, port last", () => {
    assert.deepEqual(steps(state(full), state([])), [
      ["INSERT member:ecmp_selector 1"],
      ["INSERT group:ecmp_selector 1"],
      ["INSERT mcast 1", "INSERT digest:learn_t"],
      ["INSERT table:ecmp 1"],
      ["INSERT table:route_v4 a000002/32"],
      ["INSERT table:mac 5001 5e005301"],
      ["INSERT table:port_type 1"],
      // A table's default action always exists: it is modified, never inserted.
      ["MODIFY default:switch_config"],
    ]);
  });

  test("emptying a switch: the port first, tables upstream first, then PRE, groups, members", () => {
    const desired = state([["default:switch_config", "", "set_switch_config(40,1)"]]);
    assert.deepEqual(steps(desired, state(full)), [
      ["DELETE table:port_type 1"],
      ["DELETE table:mac 5001 5e005301"],
      ["DELETE table:route_v4 a000002/32"],
      ["DELETE table:ecmp 1"],
      ["DELETE mcast 1", "DELETE digest:learn_t"],
      ["DELETE group:ecmp_selector 1"],
      ["DELETE member:ecmp_selector 1"],
    ]);
  });

  test("a changed value is one MODIFY, carrying what the switch held", () => {
    const observed = state(full);
    const desired = state(
      full.map(([c, k, v]) => [c, k, c === "table:mac" ? "bridge_to_nve(2)" : v]),
    );
    const plan = diffStates(desired, observed, codec);
    assert.deepEqual(plan.steps.flat(), [
      {
        type: "MODIFY",
        collection: "table:mac",
        key: "5001 5e005301",
        value: "bridge_to_nve(2)",
        previous: "bridge_to_port(1)",
      },
    ]);
    assert.deepEqual([plan.inserts, plan.modifies, plan.deletes], [0, 1, 0]);
  });

  test("an ECMP group that loses a member: new group first, then the member goes", () => {
    const two = state([
      ["member:ecmp_selector", "1", "set_next_hop(31,20000000a01,20000000b01)"],
      ["member:ecmp_selector", "2", "set_next_hop(32,20000000a01,20000000b02)"],
      ["group:ecmp_selector", "1", "1*1,2*1"],
    ]);
    const one = state([
      ["member:ecmp_selector", "1", "set_next_hop(31,20000000a01,20000000b01)"],
      ["group:ecmp_selector", "1", "1*1"],
    ]);
    assert.deepEqual(steps(one, two), [
      ["MODIFY group:ecmp_selector 1"],
      ["DELETE member:ecmp_selector 2"],
    ]);
  });

  test("default actions of tables the controller does not set are never deleted", () => {
    const observed = state([["default:port_type", "", "NoAction()"]]);
    assert.equal(planSize(diffStates(state([]), observed, codec)), 0);
  });
});
