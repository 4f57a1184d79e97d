/**
 * What the daemon plans from when it trusts what a switch holds (known-state.ts): the change
 * log of a desired state changed in place by generations (state.ts), a diff against an older
 * state object, or nothing (read the switch) when neither can say.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { codecFor } from "../../../controller/compile/compile.js";
import { SwitchState } from "../../../controller/compile/state.js";
import { planFromKnown } from "../../../controller/daemon/known-state.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";

const codec = codecFor(loadNvgrePipeline().index);
const MAC = "table:mac";

function leaf(): SwitchState {
  const state = new SwitchState("leaf1");
  state.add(MAC, "5001 5e005301", "bridge_to_port(1)");
  state.add(MAC, "5001 5e005302", "bridge_to_port(2)");
  state.add("default:switch_config", "", "set_switch_config(40,1)");
  return state;
}

const updates = (state: SwitchState, generation: number) =>
  planFromKnown(state, { state, generation }, codec)
    ?.steps.flat()
    .map((u) => `${u.type} ${u.key} ${u.value}`)
    .sort();

describe("known state", () => {
  test("changes since the generation a switch holds: inserts, modifies, deletes, nothing twice", () => {
    const state = leaf();
    state.applyChanges([
      {
        collection: MAC,
        key: "5001 5e005301",
        before: "bridge_to_port(1)",
        after: "bridge_to_nve(3)",
        uses: 1,
      },
      {
        collection: MAC,
        key: "5001 5e005303",
        before: undefined,
        after: "bridge_to_port(4)",
        uses: 1,
      },
    ]);
    state.applyChanges([
      {
        collection: MAC,
        key: "5001 5e005302",
        before: "bridge_to_port(2)",
        after: undefined,
        uses: 0,
      },
      // Back to what the switch held at generation 0: nothing to write for it from there.
      {
        collection: MAC,
        key: "5001 5e005301",
        before: "bridge_to_nve(3)",
        after: "bridge_to_port(1)",
        uses: 1,
      },
    ]);
    assert.equal(state.generation, 2);
    assert.deepEqual(updates(state, 0), [
      "DELETE 5001 5e005302 bridge_to_port(2)",
      "INSERT 5001 5e005303 bridge_to_port(4)",
    ]);
    assert.deepEqual(updates(state, 1), [
      "DELETE 5001 5e005302 bridge_to_port(2)",
      "MODIFY 5001 5e005301 bridge_to_port(1)",
    ]);
    assert.deepEqual(updates(state, 2), []);
    assert.equal(planFromKnown(state, { state, generation: 2 }, codec)?.generation, 2);
  });

  test("an entity two parts of the intent ask for stays until both let go of it", () => {
    const state = leaf();
    state.add(MAC, "5001 5e005302", "bridge_to_port(2)");
    assert.equal(state.uses(MAC, "5001 5e005302"), 2);
    state.applyChanges([
      {
        collection: MAC,
        key: "5001 5e005302",
        before: "bridge_to_port(2)",
        after: "bridge_to_port(2)",
        uses: 1,
      },
    ]);
    assert.equal(state.uses(MAC, "5001 5e005302"), 1);
    assert.deepEqual(updates(state, 0), []);
  });

  test("a switch further behind than the change log reaches is read back (no plan)", () => {
    const state = leaf();
    for (let i = 0; i < 30; i++) {
      state.applyChanges(
        Array.from({ length: 2_000 }, (_, j) => ({
          collection: MAC,
          key: `6001 ${(i * 2_000 + j).toString(16)}`,
          before: undefined,
          after: "bridge_to_port(1)",
          uses: 1,
        })),
      );
    }
    assert.equal(updates(state, 0), undefined, "generation 0 has left the log");
    assert.equal(updates(state, 29)?.length, 2_000, "the last generation is still there");
  });

  test("another state object: diffed while unchanged since, else read back", () => {
    const known = leaf();
    const desired = leaf();
    desired.add(MAC, "5001 5e005303", "bridge_to_port(4)");
    const plan = planFromKnown(desired, { state: known, generation: 0 }, codec);
    assert.deepEqual(
      plan?.steps.flat().map((u) => `${u.type} ${u.key}`),
      ["INSERT 5001 5e005303"],
    );
    known.applyChanges([
      {
        collection: MAC,
        key: "5001 5e005301",
        before: "bridge_to_port(1)",
        after: undefined,
        uses: 0,
      },
    ]);
    assert.equal(planFromKnown(desired, { state: known, generation: 0 }, codec), undefined);
  });
});
