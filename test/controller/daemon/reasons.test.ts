/**
 * The daemon names drop and punt reasons only through what `make p4` generated
 * (p4/build/nvgre.enums.json, checked against the P4Info): every drop reason is named and
 * described (what `nvgre-ctl drops` prints; issue 16: `underlay_route_miss` had no
 * description), and the punt handler acts on exactly the program's punt reasons.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { handledPuntReasons, handlePunt } from "../../../controller/daemon/punt/handler.js";
import { dropReasons, puntReasons } from "../../../controller/daemon/reasons.js";
import { loadNvgreEnums, loadNvgrePipeline } from "../../../controller/nvgre-build.js";

const pipeline = loadNvgrePipeline();
const enums = loadNvgreEnums(pipeline);

test("every drop reason of the program has a name and a description", () => {
  const reasons = dropReasons(enums);
  assert.ok(reasons.size >= 30, `only ${reasons.size} drop reasons`);
  // Counter indexes: the codes are 0, 1, … with none skipped or repeated.
  assert.deepEqual(
    [...reasons.keys()],
    [...reasons.keys()].map((_, i) => i),
  );
  for (const reason of reasons.values()) {
    assert.match(reason.name, /^[a-z0-9_]+$/, `code ${reason.code}`);
    const words = reason.description.replace(/\(?R\d+\)?/g, "").trim();
    assert.ok(words.length > 3, `${reason.name} (${reason.code}): "${reason.description}"`);
  }
  assert.equal(reasons.get(12)?.name, "gre_no_key");
  assert.match(reasons.get(8)?.description ?? "", /underlay route/);
});

test("the punt reasons come from the P4Info's PuntReason_t, and the handler acts on each", () => {
  // The P4Info has this enum (packet_in.punt_reason is of its type), so loading compared them.
  const compiled = pipeline.index.serializableEnum("PuntReason_t");
  assert.ok(compiled, "the P4Info declares PuntReason_t");
  const reasons = puntReasons(enums);
  assert.deepEqual(
    [...reasons.values()].map((r) => [r.name, r.code]),
    [...compiled].map(([name, code]) => [name.toLowerCase(), code]),
  );
  const punted = [...reasons.values()].filter((r) => r.code !== 0).map((r) => r.name);
  assert.deepEqual([...handledPuntReasons].sort(), punted.sort());
});

test("a punt reason the handler does not know is dropped with its name in the summary", () => {
  const outcome = handlePunt({ ingressPort: 3, puntReason: "code 9", mtu: 0 }, Buffer.alloc(0), {
    accessVlan: () => undefined,
    fabricPort: () => undefined,
    providerAddress: () => undefined,
    isProviderAddress: () => false,
  });
  assert.deepEqual(outcome, { action: "drop", summary: "unknown punt reason code 9 on port 3" });
});
