/**
 * Smoke test against a real bf_switchd (Tofino model or hardware) with its P4Runtime server,
 * runnable where an SDE exists; skipped, saying what it needs, everywhere else (it has never
 * run where it was written: no SDE there). It drives the switch exactly as the daemon does:
 *
 *   TOFINO_P4RUNTIME=host:port   bf_switchd's P4Runtime server (required)
 *   TOFINO_DEVICE_ID=0           P4Runtime device id (default 0)
 *   TOFINO_TARGET=tofino         or tofino2 (default tofino)
 *   TOFINO_CPU_PORT=…            the switch's CPU port if not the target's default
 *   and the bf-p4c build of p4/tna in p4/build/tna (t2na), tofino.bin included (`make p4`).
 *
 * Checks: the pipeline pushed in bf_switchd's device-config format is accepted (and its cookie
 * read back); a fixture leaf's whole compiled state — tables, ECMP selector members and groups
 * (R9), multicast groups with egress_port + instance replicas (R10), the MTU punt clone
 * session (R12), the learn_t digest config, idle timeouts — is written with no update refused
 * and reads back equal; a second reconcile writes nothing. Packets are not sent: that needs
 * the model's ports (a PTF run), which this test does not set up.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { compileFabric } from "../../controller/compile/compile.js";
import type { SwitchState } from "../../controller/compile/state.js";
import { TargetPipelines, tofinoBuildFiles } from "../../controller/compile/target-pipelines.js";
import { validateDocument } from "../../controller/intent/load.js";
import { nvgreBuild } from "../../controller/nvgre-build.js";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { diffStates, planSize } from "../../controller/reconcile/diff.js";
import { readSwitchState } from "../../controller/reconcile/read.js";
import { reconcileSwitch } from "../../controller/reconcile/reconcile.js";
import { type TargetName, targetProfiles } from "../../controller/targets/profiles.js";
import { repoRoot } from "../../topologies/repo.js";

const address = process.env.TOFINO_P4RUNTIME;
const target = (process.env.TOFINO_TARGET ?? "tofino") as TargetName;
const profile = targetProfiles[target];

function skipReason(): string | false {
  if (!address) return "needs a bf_switchd P4Runtime server: set TOFINO_P4RUNTIME=host:port (SDE)";
  if (!profile || profile.arch === "v1model")
    return `TOFINO_TARGET=${target} is not tofino or tofino2`;
  const missing = Object.values(tofinoBuildFiles(profile.arch)).filter((f) => !existsSync(f));
  if (missing.length > 0)
    return `needs the bf-p4c build (make p4 with bf-p4c): ${missing.join(", ")} missing`;
  return false;
}

describe(`bf_switchd smoke test (${target})`, { skip: skipReason() }, () => {
  const clients: P4RuntimeClient[] = [];
  after(() => {
    for (const client of clients) client.close();
  });

  test("R9 R10 R12: the pipeline and a leaf's whole state go in as the daemon writes them, and read back equal", async () => {
    const { pipeline, codec } = new TargetPipelines(nvgreBuild).of(target);
    const doc = parseYaml(readFileSync(join(repoRoot, "test/fixtures/fabric/small.yaml"), "utf8"));
    const leaf = doc.switches.find((s: { name: string }) => s.name === "leaf1");
    leaf.target = target;
    if (process.env.TOFINO_CPU_PORT) leaf.cpuPort = Number(process.env.TOFINO_CPU_PORT);
    const compiled = compileFabric(validateDocument(doc), pipeline.index);
    const desired = compiled.switches.get("leaf1") as SwitchState;

    const client = new P4RuntimeClient({
      address: address as string,
      deviceId: Number(process.env.TOFINO_DEVICE_ID ?? 0),
      electionId: 1n,
      reconnect: false,
    });
    clients.push(client);
    assert.equal((await client.connect()).primary, true);

    const first = await reconcileSwitch(client, pipeline, codec, desired);
    assert.deepEqual(first.rejected, [], "bf_switchd refused updates");
    assert.equal(await client.pipelineCookie(), pipeline.cookie);

    const observed = await readSwitchState(client, codec, "leaf1", desired);
    assert.equal(planSize(diffStates(desired, observed, codec)), 0, "reads back as written");

    const second = await reconcileSwitch(client, pipeline, codec, desired);
    assert.equal(second.pipelinePushed, false);
    assert.equal(second.written, 0);
  });
});
