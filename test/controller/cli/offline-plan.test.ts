/**
 * `apply --dry-run --offline --against <the daemon's intent store>` plans what the daemon's own
 * dry run plans against the switch that holds that intent (issue 16: a fabric file checked in
 * CI without a daemon); against nothing, every entity is an insert and the pipeline is pushed.
 * Then, with the switch gone, `tables` says the switch is reconnecting instead of passing on
 * gRPC's "Read failed: UNAVAILABLE".
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ChangeResult } from "../../../controller/daemon/protocol.js";
import { runCaptured } from "../../support/cli-capture.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "../daemon/daemon-on-target.js";

function fabricText(address: string, deviceId: number, endpoints: number): string {
  const rows = Array.from(
    { length: endpoints },
    (_, i) =>
      `  - { name: web-${i + 1}, vsid: 0x5001, mac: "02:00:00:00:01:${(i + 1).toString(16).padStart(2, "0")}", ips: [10.1.1.${i + 10}], location: { switch: leaf1, port: ${(i % 2) + 1} } }`,
  );
  return `switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 3, kind: fabric, mtu: 9000 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
endpoints:
${rows.join("\n")}
`;
}

/** The plan of each switch as a sorted list of "op entity" lines. */
function changes(result: ChangeResult): Record<string, string[]> {
  return Object.fromEntries(
    result.switches.map((plan) => [
      plan.switch,
      (plan.changes ?? []).map((c) => `${c.op} ${c.entity}`).sort(),
    ]),
  );
}

for (const factory of targets()) {
  describe(`offline dry runs plan what the daemon plans, on ${factory.kind}`, () => {
    const { skip } = factory;
    let address = "";
    let deviceId = 0;
    const harness = daemonOnTarget(factory, {
      ports: [1, 2, 3],
      fabric: (a, d) => {
        address = a;
        deviceId = d;
        return fabricText(a, d, 2);
      },
    });
    const offline = (...args: string[]) =>
      runCaptured("/nonexistent.sock", "apply", "--dry-run", "--offline", ...args);

    test("against the daemon's intent store: the same changes as the daemon's dry run", {
      skip,
    }, async () => {
      const edited = join(harness.dir, "edited.yaml");
      writeFileSync(edited, fabricText(address, deviceId, 4));
      const store = join(harness.dir, "state");
      const daemon = await harness.cli("apply", "--dry-run", "-f", edited, "-o", "json");
      const planned = await offline("--against", store, "-f", edited, "-o", "json");
      assert.equal(daemon.code, 0, daemon.err);
      assert.equal(planned.code, 0, planned.err);
      const fromDaemon = JSON.parse(daemon.out) as ChangeResult;
      const fromFile = JSON.parse(planned.out) as ChangeResult;
      assert.equal(fromFile.revision, fromDaemon.revision);
      assert.ok((fromDaemon.switches[0]?.inserts ?? 0) > 0, "the edit adds entries");
      assert.deepEqual(changes(fromFile), changes(fromDaemon));
      assert.equal(fromFile.switches[0]?.pipeline, false);
    });

    test("the file the store holds plans no change; against nothing, all inserts and the pipeline", {
      skip,
    }, async () => {
      const same = join(harness.dir, "same.yaml");
      writeFileSync(same, fabricText(address, deviceId, 2));
      const store = join(harness.dir, "state");
      const unchanged = await offline("--against", store, "-f", same);
      assert.equal(unchanged.code, 0, unchanged.err);
      assert.match(unchanged.out, /leaf1 +│ in sync/);
      const fresh = JSON.parse((await offline("-f", same, "-o", "json")).out) as ChangeResult;
      assert.equal(fresh.revision, 0);
      assert.equal(fresh.switches[0]?.pipeline, true);
      assert.equal(fresh.switches[0]?.deletes, 0);
    });

    test("--offline without --dry-run is a usage error", { skip }, async () => {
      const run = await runCaptured("/nonexistent.sock", "apply", "--offline", "-f", "x.yaml");
      assert.equal(run.code, 2);
      assert.match(run.err, /--offline and --against only plan: add --dry-run/);
    });

    // Last: it takes the switch away from the daemon.
    test("tables of a switch the daemon is reconnecting to say so", { skip }, async () => {
      await harness.recorder?.close();
      harness.recorder = undefined;
      assert.ok(await harness.eventMatching("connection", /lost .*reconnecting/, 20_000));
      const run = await harness.cli("tables", "leaf1");
      assert.equal(run.code, 1, run.out);
      assert.match(run.err, /switch leaf1 is reconnecting \(disconnected: .*\); try again/);
      assert.doesNotMatch(run.err, /Read failed/);
    });
  });
}
