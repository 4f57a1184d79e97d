/**
 * Switch targets from the fabric file: which program and CPU port each switch gets, the values
 * refused (naming the field), how replicas are written for PI on bf_switchd, and the writes a
 * target lacks refused before anything is sent.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { CanonicalCodec } from "../../../controller/compile/canonical.js";
import { compileFabric } from "../../../controller/compile/compile.js";
import {
  checkWritable,
  TargetUnsupportedError,
} from "../../../controller/compile/target-pipelines.js";
import { validateDocument } from "../../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { targetProfiles } from "../../../controller/targets/profiles.js";
import { repoRoot } from "../../../topologies/repo.js";
import { issuesOf } from "../../support/intent-issues.js";

// biome-ignore lint/suspicious/noExplicitAny: the cases reach into arbitrary parts of a JSON document
type Doc = Record<string, any>;

/** The compiler's small fixture fabric: spines and leaves, every switch named by index below. */
function base(): Doc {
  return parseYaml(readFileSync(join(repoRoot, "test/fixtures/fabric/small.yaml"), "utf8"));
}

function switchOf(doc: Doc, name: string): Doc {
  const found = doc.switches.find((s: Doc) => s.name === name);
  assert.ok(found, name);
  return found;
}

describe("switch targets in the fabric file", () => {
  test("no target: v1model (bmv2) with CPU port 510, as before targets existed", () => {
    const fabric = validateDocument(base());
    for (const sw of fabric.switches) {
      assert.equal(sw.target, "bmv2");
      assert.equal(sw.cpuPort, 510);
    }
  });

  test("each switch gets its target and that target's CPU port unless the file gives one", () => {
    const doc = base();
    switchOf(doc, "spine1").target = "tofino";
    switchOf(doc, "spine2").target = "tofino";
    switchOf(doc, "spine2").cpuPort = 192; // a 2-pipe Tofino (32-port box)
    switchOf(doc, "leaf1").target = "tofino2";
    switchOf(doc, "leaf2").target = "softswitch";
    const fabric = validateDocument(doc);
    const got = Object.fromEntries(
      fabric.switches.map((sw) => [
        sw.name,
        [sw.target, sw.cpuPort, targetProfiles[sw.target].arch],
      ]),
    );
    assert.deepEqual(got.spine1, ["tofino", 320, "tna"]);
    assert.deepEqual(got.spine2, ["tofino", 192, "tna"]);
    assert.deepEqual(got.leaf1, ["tofino2", 0, "t2na"]);
    assert.deepEqual(got.leaf2, ["softswitch", 510, "v1model"]);
    assert.deepEqual(got.leaf3, ["bmv2", 510, "v1model"]);
  });

  const refused: { title: string; change: (doc: Doc) => void; path: string; message: RegExp }[] = [
    {
      title: "an unknown target",
      change: (doc) => {
        switchOf(doc, "leaf1").target = "tofino3";
      },
      path: "switches[2].target",
      message: /softswitch.*bmv2.*tofino.*tofino2/,
    },
    {
      title: "a Tofino CPU port in a pipe's hole (pipe 1 port 72)",
      change: (doc) => {
        Object.assign(switchOf(doc, "leaf1"), { target: "tofino", cpuPort: 200 });
      },
      path: "switches[2].cpuPort",
      message: /200 is pipe 1 port 72, which does not exist.*target tofino/,
    },
    {
      title: "a CPU port beyond Tofino's 9 bits",
      change: (doc) => {
        Object.assign(switchOf(doc, "leaf1"), { target: "tofino2", cpuPort: 600 });
      },
      path: "switches[2].cpuPort",
      message: /port 600 is outside 0–510 \(ports are 9 bits on every target/,
    },
    {
      title: "a CPU port that is not a number",
      change: (doc) => {
        Object.assign(switchOf(doc, "leaf1"), { target: "tofino", cpuPort: "pcie" });
      },
      path: "switches[2].cpuPort",
      message: /expected an integer, got the string "pcie"/,
    },
    {
      title: "a data port that does not exist on the Tofino",
      change: (doc) => {
        switchOf(doc, "leaf1").target = "tofino";
        switchOf(doc, "leaf1").ports[0].port = 100;
      },
      path: "switches[2].ports[0].port",
      message: /100 is pipe 0 port 100/,
    },
    {
      title: "a data port on the target's default CPU port",
      change: (doc) => {
        switchOf(doc, "leaf1").target = "tofino";
        switchOf(doc, "leaf1").ports[0].port = 320;
      },
      path: "switches[2].ports[0].port",
      message: /port 320 is leaf1's CPU port/,
    },
  ];
  for (const { title, change, path, message } of refused) {
    test(`refused: ${title}`, () => {
      const doc = base();
      change(doc);
      const issues = issuesOf(doc);
      const issue = issues.find((i) => i.path === path);
      assert.ok(issue, `no issue at ${path}: ${JSON.stringify(issues)}`);
      assert.match(issue.message, message);
    });
  }
});

describe("writes for a target's P4Runtime server", () => {
  const pipeline = loadNvgrePipeline();

  test("R10 replicas: bytes for bmv2 / softswitch, egress_port + instance (egress_rid) for PI on bf_switchd", () => {
    const replicas = [
      { port: 3, instance: 0 },
      { port: 260, instance: 7 },
    ];
    const bmv2 = new EntityBuilder(pipeline.index, targetProfiles.bmv2.replicaPort);
    const tofino = new EntityBuilder(pipeline.index, targetProfiles.tofino.replicaPort);
    assert.deepEqual(
      tofino.multicastGroup(5, replicas).packet_replication_engine_entry?.multicast_group_entry
        ?.replicas,
      [
        { egress_port: 3, instance: 0 },
        { egress_port: 260, instance: 7 },
      ],
    );
    assert.deepEqual(
      bmv2.multicastGroup(5, replicas).packet_replication_engine_entry?.multicast_group_entry
        ?.replicas,
      [
        { port: Buffer.from([3]), instance: 0 },
        { port: Buffer.from([1, 4]), instance: 7 },
      ],
    );
    assert.deepEqual(
      tofino.cloneSession(511, [{ port: 320, instance: 0 }]).packet_replication_engine_entry
        ?.clone_session_entry?.replicas,
      [{ egress_port: 320, instance: 0 }],
    );
  });

  test("a Tofino codec writes egress_port and reads it back as the same canonical state", () => {
    const codec = new CanonicalCodec(pipeline.index, "uint32");
    const entity = codec.toEntity("mcast", "5", "104:7,3:0");
    const replicas = entity.packet_replication_engine_entry?.multicast_group_entry?.replicas ?? [];
    assert.deepEqual(
      replicas.map((r) => r.egress_port),
      [0x104, 3],
    );
    // As the switch reads it back (proto-loader output: port_kind names the oneof member).
    const back = codec.fromEntity({
      entity: "packet_replication_engine_entry",
      packet_replication_engine_entry: {
        type: "multicast_group_entry",
        multicast_group_entry: {
          multicast_group_id: 5,
          replicas: replicas.map((r) => ({
            port_kind: "egress_port",
            egress_port: r.egress_port ?? 0,
            instance: r.instance ?? 0,
            backup_replicas: [],
          })),
          metadata: Buffer.alloc(0),
        },
      },
    } as never);
    assert.equal(back?.value, "104:7,3:0");
  });

  test("R12: the MTU punt session is the target's (Tofino 2 mirror ids are 8 bits), to its CPU port", () => {
    const doc = base();
    switchOf(doc, "leaf1").target = "tofino2";
    switchOf(doc, "leaf2").target = "tofino";
    const compiled = compileFabric(validateDocument(doc), pipeline.index);
    const clone = (name: string) => [
      ...(compiled.switches.get(name)?.collections.get("clone") ?? []),
    ];
    assert.deepEqual(clone("leaf1"), [["250", "0:0;0"]]);
    assert.deepEqual(clone("leaf2"), [["511", "140:0;0"]]);
    assert.deepEqual(clone("leaf3"), [["511", "1fe:0;0"]]);
  });

  test("what a Tofino lacks (register and value-set writes) is refused before any write", () => {
    const desired = ["table:mac", "default:switch_config", "mcast", "clone", "digest:learn_t"];
    checkWritable(targetProfiles.tofino, desired);
    checkWritable(targetProfiles.bmv2, [...desired, "register:r"]);
    assert.throws(
      () => checkWritable(targetProfiles.tofino2, [...desired, "register:r", "value_set:v"]),
      (e: unknown) =>
        e instanceof TargetUnsupportedError &&
        e.target === "tofino2" &&
        e.collections.join() === "register:r,value_set:v",
    );
    assert.throws(() => checkWritable(targetProfiles.bmv2, ["meter:m"]), TargetUnsupportedError);
  });
});

test("each target's CPU clone session is the one its P4 program clones MTU punts into", () => {
  // The programs' constants, read here (not by the controller, which takes them from the
  // profile): v1model's CPU_CLONE_SESSION_ID, TNA's CPU_MIRROR_SESSION per __TARGET_TOFINO__.
  const p4 = (file: string) => readFileSync(join(repoRoot, file), "utf8");
  const v1model = /const bit<32> CPU_CLONE_SESSION_ID = (\d+);/.exec(p4("p4/v1model/arch.p4"));
  const tna =
    /#if __TARGET_TOFINO__ == 2\nconst MirrorId_t CPU_MIRROR_SESSION = (\d+);\n#else\nconst MirrorId_t CPU_MIRROR_SESSION = (\d+);/.exec(
      p4("p4/tna/arch.p4"),
    );
  assert.ok(v1model && tna, "the constants are where this test looks for them");
  assert.equal(targetProfiles.softswitch.cpuCloneSession, Number(v1model[1]));
  assert.equal(targetProfiles.bmv2.cpuCloneSession, Number(v1model[1]));
  assert.equal(targetProfiles.tofino2.cpuCloneSession, Number(tna[1]));
  assert.equal(targetProfiles.tofino.cpuCloneSession, Number(tna[2]));
});
