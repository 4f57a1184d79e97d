/**
 * The daemon with a Tofino switch in the fabric: it takes that switch's pipeline from the
 * Tofino build (daemon config targetBuilds), and while that build is incomplete the apply
 * reports the missing file for that switch and writes nothing to it; retargeted, the same
 * switch is programmed as before. Runs on the softswitch (the Tofino build's absence is the
 * point, so no Tofino is needed).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { type DataplaneTarget, targets } from "../../support/targets.js";
import { DaemonOnTarget } from "../daemon/daemon-on-target.js";
import { type P4RuntimeRecorder, startRecorder } from "../daemon/p4runtime-recorder.js";

const softswitch = targets().find((f) => f.kind === "softswitch");

function fabricText(address: string, deviceId: number, target: string): string {
  return `switches:
  - name: leaf1
    role: leaf
    target: ${target}
    cpuPort: 64
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 3, kind: fabric, mtu: 1600 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
`;
}

describe("daemon: switch targets", { skip: softswitch?.skip ?? "no softswitch factory" }, () => {
  // The daemon's config names an empty Tofino build directory.
  const dir = mkdtempSync(join(tmpdir(), "nvgre-daemon-targets-"));
  const emptyBuild = join(dir, "tna");
  mkdirSync(emptyBuild);
  const config = join(dir, "daemon.yaml");
  writeFileSync(config, `targetBuilds: { tna: "${emptyBuild}" }\n`);
  const harness = new DaemonOnTarget({ ports: [1, 3], fabric: () => "", settings: { config } });
  let started: DataplaneTarget | undefined;
  let recorder: P4RuntimeRecorder | undefined;
  after(async () => {
    await harness.close();
    await recorder?.close();
    await started?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a tofino switch without its bf-p4c build: the missing file named, nothing written; retargeted to softswitch: programmed", async () => {
    started = await softswitch?.start({ ports: [1, 3], pipeline: false });
    assert.ok(started);
    recorder = await startRecorder(started.address);
    await harness.startDaemon();

    const fabric = join(harness.dir, "fabric.yaml");
    writeFileSync(fabric, fabricText(recorder.address, started.deviceId, "tofino"));
    const refused = await harness.cli("apply", "-f", fabric);
    assert.notEqual(refused.code, 0);
    assert.match(`${refused.out}${refused.err}`, /target tofino: .*nvgre\.p4info\.bin is missing/);

    const probe = new P4RuntimeClient({
      address: started.address,
      deviceId: started.deviceId,
      electionId: 0n,
      reconnect: false,
    });
    try {
      await probe.connect();
      assert.equal(await probe.pipelineCookie(), undefined, "no pipeline was pushed");
    } finally {
      probe.close();
    }

    writeFileSync(fabric, fabricText(recorder.address, started.deviceId, "softswitch"));
    const applied = await harness.cli("apply", "-f", fabric);
    assert.equal(applied.code, 0, `${applied.err}${applied.out}`);
  });
});
