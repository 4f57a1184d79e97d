/**
 * The Tofino programs keep the controller's names: the committed TNA / T2NA P4Infos (bf-p4c
 * with --p4runtime-force-std-externs, `make p4`) against the v1model one, allowing only ids,
 * sizes and the objects listed below; and every entity the controller compiles for Tofino
 * switches encodes against the Tofino P4Info (names, widths). Skipped, with the reason, while
 * p4/build/tna or p4/build/t2na is absent (no bf-p4c where the build was last committed).
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { CanonicalCodec } from "../../controller/compile/canonical.js";
import { compileFabric } from "../../controller/compile/compile.js";
import {
  TargetPipelines,
  tofinoBuildDirs,
  tofinoBuildFiles,
} from "../../controller/compile/target-pipelines.js";
import { validateDocument } from "../../controller/intent/load.js";
import { nvgreBuild } from "../../controller/nvgre-build.js";
import { P4InfoIndex } from "../../controller/p4rt/p4info.js";
import { PacketIoCodec } from "../../controller/p4rt/packet-io.js";
import { toBytes } from "../../controller/p4rt/values.js";
import { type TargetName, targetProfiles } from "../../controller/targets/profiles.js";
import type { P4Info__Output } from "../../proto/gen/p4/config/v1/P4Info.js";
import type { DigestList__Output } from "../../proto/gen/p4/v1/DigestList.js";
import { p4runtimeProto } from "../../proto/load.js";
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

    // bf-p4c numbers tables and externs from pipe-prefixed names (actions and packet metadata
    // keep v1model's ids), so the daemon decodes what a Tofino switch sends and answers to its
    // reads with the target's P4Info (TargetPipelines), never the compiler's.
    test("a Tofino switch's digests and entries decode with its own P4Info, not the v1model one", {
      skip,
    }, () => {
      // The committed build and a stand-in for the binary (not committed; nothing here reads it).
      const build = mkdtempSync(join(tmpdir(), `nvgre-${arch}-`));
      cpSync(tofinoBuildDirs[arch], build, { recursive: true });
      const { binary } = tofinoBuildFiles(arch, build);
      if (!existsSync(binary)) writeFileSync(binary, "stand-in");
      const tofino = new TargetPipelines(nvgreBuild, { [arch]: build }).of(target);
      rmSync(build, { recursive: true, force: true });
      const learn = tofino.pipeline.index.digests.id("learn_t");
      const members = tofino.pipeline.index.p4info.type_info?.structs.learn_t?.members ?? [];
      // vsid, mac, port, from_nve, pa_is_v6, pa: a MAC learned behind NVE 198.51.100.2.
      const sample = [0x5001n, 0x020000000a01n, 3n, 1n, 0n, 0xc6336402n];
      assert.equal(members.length, sample.length);
      // As the client hands it over: encoded by a switch, decoded by the proto loader.
      const type = p4runtimeProto().p4.v1.DigestList;
      const list = type.deserialize(
        type.serialize({
          digest_id: learn,
          list_id: "7",
          timestamp: "0",
          data: [
            {
              struct: {
                members: members.map((m, i) => ({
                  bitstring: toBytes(
                    sample[i] ?? 0n,
                    m.type_spec?.bitstring?.bit?.bitwidth ?? 0,
                    m.name,
                  ),
                })),
              },
            },
          ],
        }),
      ) as DigestList__Output;
      const decoded = tofino.packetIo.decodeDigestList(list);
      assert.equal(decoded.digest, "learn_t");
      assert.deepEqual(Object.values(decoded.samples[0] ?? {}), sample);
      if (learn !== v1model.digests.id("learn_t"))
        assert.throws(() => new PacketIoCodec(v1model).decodeDigestList(list), /learn_t|id/);

      // What the daemon compiles (with the v1model P4Info) is written and read back by names.
      const doc = parseYaml(
        readFileSync(join(repoRoot, "test/fixtures/fabric/small.yaml"), "utf8"),
      );
      for (const sw of doc.switches) sw.target = target;
      const compiled = compileFabric(validateDocument(doc, "small.yaml"), v1model);
      const state = [...compiled.switches.values()][0];
      const triple = [...(state?.sorted() ?? [])].find((t) => t.collection.startsWith("table:"));
      assert.ok(triple, "a table entry");
      const entity = tofino.codec.toEntity(triple.collection, triple.key, triple.value);
      const table = triple.collection.slice("table:".length);
      assert.equal(entity.table_entry?.table_id, tofino.pipeline.index.tables.id(table));
      const entityType = p4runtimeProto().p4.v1.Entity;
      const back = tofino.codec.fromEntity(
        entityType.deserialize(entityType.serialize(entity)) as Parameters<
          CanonicalCodec["fromEntity"]
        >[0],
      );
      assert.deepEqual(back, {
        collection: triple.collection,
        key: triple.key,
        value: triple.value,
      });
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
