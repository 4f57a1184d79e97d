/**
 * The Tofino programs keep the controller's names: the committed TNA / T2NA P4Infos (bf-p4c
 * with --p4runtime-force-std-externs, `make p4`) against the v1model one, allowing only ids,
 * sizes and the objects listed below; and every entity the controller compiles for Tofino
 * switches encodes against the Tofino P4Info (names, widths). Skipped, with the reason, while
 * p4/build/tna or p4/build/t2na is absent (no bf-p4c where the build was last committed).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { CanonicalCodec } from "../../controller/compile/canonical.js";
import { compileFabric } from "../../controller/compile/compile.js";
import { tofinoBuildFiles } from "../../controller/compile/target-pipelines.js";
import { validateDocument } from "../../controller/intent/load.js";
import { nvgreBuild } from "../../controller/nvgre-build.js";
import { P4InfoIndex } from "../../controller/p4rt/p4info.js";
import { type TargetName, targetProfiles } from "../../controller/targets/profiles.js";
import type { P4Info__Output } from "../../proto/gen/p4/config/v1/P4Info.js";
import { repoRoot } from "../../topologies/repo.js";

/** Objects only one side has, by design (README of p4/tna); everything else must match. */
const allowedOnlyInV1model: string[] = [];
const allowedOnlyInTofino: string[] = [];

/** Everything the controller relies on, by name: no ids, no sizes. */
function namesOf(p4info: P4Info__Output): Map<string, string> {
  const out = new Map<string, string>();
  const actionName = new Map(p4info.actions.map((a) => [a.preamble?.id, a.preamble?.name]));
  for (const t of p4info.tables) {
    const fields = t.match_fields.map((f) => `${f.name}:${f.bitwidth}:${f.match}`);
    const actions = t.action_refs.map((r) => `${actionName.get(r.id)}/${r.scope}`).sort();
    const profile = t.implementation_id !== 0 ? "+profile" : "";
    out.set(
      `table ${t.preamble?.name}`,
      `${fields.join(" ")} | ${actions.join(" ")}${profile} idle=${t.idle_timeout_behavior}`,
    );
  }
  for (const a of p4info.actions)
    out.set(`action ${a.preamble?.name}`, a.params.map((p) => `${p.name}:${p.bitwidth}`).join(" "));
  for (const c of p4info.counters) out.set(`counter ${c.preamble?.name}`, String(c.spec?.unit));
  for (const p of p4info.action_profiles)
    out.set(`action profile ${p.preamble?.name}`, `selector=${p.with_selector}`);
  for (const d of p4info.digests)
    out.set(`digest ${d.preamble?.name}`, JSON.stringify(d.type_spec));
  for (const m of p4info.controller_packet_metadata)
    out.set(
      `packet metadata ${m.preamble?.name}`,
      m.metadata.map((f) => `${f.name}:${f.bitwidth}`).join(" "),
    );
  return out;
}

/** Preamble ids by kind and name (p4c derives them from the names, so they should agree). */
function idsOf(p4info: P4Info__Output): Map<string, number> {
  const out = new Map<string, number>();
  const kinds = {
    table: p4info.tables,
    action: p4info.actions,
    counter: p4info.counters,
    "action profile": p4info.action_profiles,
    digest: p4info.digests,
    "packet metadata": p4info.controller_packet_metadata,
  };
  for (const [kind, items] of Object.entries(kinds)) {
    for (const item of items) out.set(`${kind} ${item.preamble?.name}`, item.preamble?.id ?? 0);
  }
  return out;
}

const v1model = P4InfoIndex.fromBinaryFile(nvgreBuild.p4info);

for (const target of ["tofino", "tofino2"] as TargetName[]) {
  const arch = targetProfiles[target].arch as "tna" | "t2na";
  const p4infoPath = tofinoBuildFiles(arch).p4info;
  const skip = existsSync(p4infoPath)
    ? false
    : `p4/build/${arch} is absent: needs bf-p4c (make p4 on a machine with the Tofino compiler)`;

  describe(`${target} P4Info (p4/build/${arch})`, () => {
    test("same controller-facing names and widths as v1model, differing only as allowed", {
      skip,
    }, () => {
      const ours = namesOf(v1model.p4info);
      const theirs = namesOf(P4InfoIndex.fromBinaryFile(p4infoPath).p4info);
      const problems: string[] = [];
      for (const [name, shape] of ours) {
        if (!theirs.has(name)) {
          if (!allowedOnlyInV1model.includes(name)) problems.push(`missing on ${target}: ${name}`);
        } else if (theirs.get(name) !== shape) {
          problems.push(`${name}: v1model ${shape} ≠ ${target} ${theirs.get(name)}`);
        }
      }
      for (const name of theirs.keys()) {
        if (!ours.has(name) && !allowedOnlyInTofino.includes(name))
          problems.push(`only on ${target}: ${name}`);
      }
      assert.deepEqual(problems, []);
    });

    // The daemon decodes what switches send (digests, idle-timeout notices, packet-in, table
    // reads for nvgre-ctl) with the compiler's (v1model) P4Info; that holds for a Tofino switch
    // only while the ids agree. They do not: bf-p4c hashes tables and externs by their
    // pipe-prefixed names ("pipe.port_rx") and ignores @id on externs; actions and packet
    // metadata agree. Reported as a todo until those daemon paths use the target's P4Info.
    const idTodo =
      "bf-p4c derives table and extern ids from pipe-prefixed names: the daemon must decode " +
      "Tofino switches' messages with the target's P4Info (controller/compile/target-pipelines.ts)";
    test("same ids as v1model for every shared name (what the daemon decodes by)", {
      skip,
      todo: idTodo,
    }, () => {
      const ours = idsOf(v1model.p4info);
      const theirs = idsOf(P4InfoIndex.fromBinaryFile(p4infoPath).p4info);
      const differing = [...ours]
        .filter(([name, id]) => theirs.has(name) && theirs.get(name) !== id)
        .map(([name, id]) => `${name}: ${id} ≠ ${theirs.get(name)}`);
      assert.deepEqual(differing, []);
    });

    test("the fixture fabrics compile for all-Tofino switches and every entity encodes (R9, R10, R12)", {
      skip,
    }, () => {
      const index = P4InfoIndex.fromBinaryFile(p4infoPath);
      const codec = new CanonicalCodec(index, targetProfiles[target].replicaPort);
      for (const file of ["small.yaml", "ipv6-underlay.yaml"]) {
        const doc = parseYaml(readFileSync(join(repoRoot, "test/fixtures/fabric", file), "utf8"));
        for (const sw of doc.switches) sw.target = target;
        const compiled = compileFabric(validateDocument(doc, file), index);
        let entities = 0;
        for (const state of compiled.switches.values()) {
          for (const { collection, key, value } of state.sorted()) {
            codec.toEntity(collection, key, value);
            entities++;
          }
        }
        assert.ok(entities > 0, file);
      }
    });
  });
}
