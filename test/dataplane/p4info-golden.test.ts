/**
 * Golden P4Info: the names, ids, keys, parameters, sizes and packet metadata the controller
 * programs the data plane by, summarised from the committed p4/build/nvgre.p4info.bin and
 * compared with test/dataplane/golden/nvgre.p4info.golden. A renamed table, a changed key or
 * parameter width, a resized counter fails here until the golden is updated on purpose:
 *
 *   make build && UPDATE_GOLDEN=1 node --test dist/test/dataplane/p4info-golden.test.js
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { nvgreBuild } from "../../controller/nvgre-build.js";
import { P4InfoIndex } from "../../controller/p4rt/p4info.js";
import type { P4DataTypeSpec__Output } from "../../proto/gen/p4/config/v1/P4DataTypeSpec.js";
import { repoRoot } from "../../topologies/repo.js";

const goldenPath = join(repoRoot, "test/dataplane/golden/nvgre.p4info.golden");

function typeName(spec: P4DataTypeSpec__Output | null | undefined): string {
  const bit = spec?.bitstring?.bit?.bitwidth;
  if (bit !== undefined) return `bit<${bit}>`;
  if (spec?.bool) return "bool";
  return spec?.type_spec ?? "?";
}

/** One line per object and per key, parameter or member; stable order (as p4c emits). */
function summarise(index: P4InfoIndex): string {
  const info = index.p4info;
  const actionName = (id: number) => index.actions.byIdOrThrow(id).preamble?.name ?? "?";
  const lines: string[] = [];
  for (const t of info.tables) {
    const flags = [
      `size ${t.size}`,
      ...(t.is_const_table ? ["const"] : []),
      ...(t.idle_timeout_behavior === "NOTIFY_CONTROL" ? ["idle timeout"] : []),
      ...(t.implementation_id
        ? [`implementation ${index.actionProfiles.byIdOrThrow(t.implementation_id).preamble?.name}`]
        : []),
    ];
    lines.push(`table ${t.preamble?.name} (${t.preamble?.id}) ${flags.join(", ")}`);
    for (const f of t.match_fields) {
      lines.push(`  key ${f.id} ${f.name}: ${f.match_type?.toLowerCase()} bit<${f.bitwidth}>`);
    }
    for (const a of t.action_refs) {
      const scope = a.scope === "DEFAULT_ONLY" ? " (default only)" : "";
      lines.push(`  action ${actionName(a.id)}${scope}`);
    }
    if (t.const_default_action_id) {
      lines.push(`  const default ${actionName(t.const_default_action_id)}`);
    }
  }
  for (const a of info.actions) {
    lines.push(`action ${a.preamble?.name} (${a.preamble?.id})`);
    for (const p of a.params) lines.push(`  param ${p.id} ${p.name}: bit<${p.bitwidth}>`);
  }
  for (const p of info.action_profiles) {
    const tables = p.table_ids.map((id) => index.tables.byIdOrThrow(id).preamble?.name);
    lines.push(
      `action_profile ${p.preamble?.name} (${p.preamble?.id}) size ${p.size}, ` +
        `${p.with_selector ? `selector, max group ${p.max_group_size}` : "no selector"}, ` +
        `tables ${tables.join(" ")}`,
    );
  }
  for (const c of info.counters) {
    lines.push(`counter ${c.preamble?.name} (${c.preamble?.id}) size ${c.size}, ${c.spec?.unit}`);
  }
  for (const c of info.direct_counters) {
    lines.push(`direct_counter ${c.preamble?.name} (${c.preamble?.id}), ${c.spec?.unit}`);
  }
  for (const m of [...info.meters, ...info.direct_meters]) {
    lines.push(`meter ${m.preamble?.name} (${m.preamble?.id})`);
  }
  for (const r of info.registers) lines.push(`register ${r.preamble?.name} (${r.preamble?.id})`);
  for (const d of info.digests) {
    const struct = d.type_spec?.struct?.name ?? "?";
    lines.push(`digest ${d.preamble?.name} (${d.preamble?.id}) struct ${struct}`);
    for (const m of info.type_info?.structs[struct]?.members ?? []) {
      lines.push(`  member ${m.name}: ${typeName(m.type_spec)}`);
    }
  }
  for (const h of info.controller_packet_metadata) {
    lines.push(`controller_header ${h.preamble?.name} (${h.preamble?.id})`);
    for (const m of h.metadata) lines.push(`  field ${m.id} ${m.name}: bit<${m.bitwidth}>`);
  }
  return `${lines.join("\n")}\n`;
}

test("golden P4Info: names, ids, keys, parameters and sizes change only on purpose", () => {
  const actual = summarise(P4InfoIndex.fromBinaryFile(nvgreBuild.p4info));
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(goldenPath, actual);
  const golden = readFileSync(goldenPath, "utf8");
  assert.equal(
    actual,
    golden,
    "p4/build/nvgre.p4info.bin differs from test/dataplane/golden/nvgre.p4info.golden; " +
      "if the change is meant, update the golden (see this file's header)",
  );
});
