/**
 * The daemon (`nvgre-ctl run`, a real process) driving two switch processes, through the CLI
 * as an operator would. What the daemon writes is counted by a P4Runtime pass-through in front
 * of each switch (p4runtime-recorder.ts), and what the switches hold is read back from them
 * directly and compared with the compiler's desired state for the intent. Runs against two
 * softswitches (once its CLI is built) and two bmv2 switches (where simple_switch_grpc is
 * installed); each is skipped with the reason otherwise.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Allocations } from "../../../controller/compile/allocate.js";
import { codecFor, compileFabric } from "../../../controller/compile/compile.js";
import type { SwitchState } from "../../../controller/compile/state.js";
import type { ChangeResult, StatusResponse } from "../../../controller/daemon/protocol.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { readSwitchState } from "../../../controller/reconcile/read.js";
import { startBmv2 } from "../../../topologies/bmv2.js";
import { softswitchCli, startSoftswitch } from "../../../topologies/softswitch.js";
import type { RunningSwitch, SwitchProcessOptions } from "../../../topologies/switch-process.js";
import { skipUnless } from "../../../topologies/toolchain.js";
import { runCaptured } from "../../support/cli-capture.js";
import { type P4RuntimeRecorder, startRecorder } from "./p4runtime-recorder.js";

const cliMain = fileURLToPath(new URL("../../../controller/nvgre-ctl/main.js", import.meta.url));
const pipeline = loadNvgrePipeline();
const codec = codecFor(pipeline.index);

/** Two leaves joined by a fabric link, one VSID, two endpoints (plus ports to move to). */
function fabricText(addresses: [string, string], options: { badVsid?: boolean } = {}): string {
  return `version: 1
name: daemon-test
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${addresses[0]}", deviceId: 1 }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, vlans: [{ vlan: 100, vsid: 0x5001 }] }
      - { port: 10, kind: fabric, peer: { switch: leaf2, port: 10 }, mtu: 1600 }
  - name: leaf2
    role: leaf
    p4runtime: { address: "${addresses[1]}", deviceId: 2 }
    routerMac: "02:00:00:00:0a:02"
    providerAddresses: [10.0.0.2]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 3, kind: access, untagged: 0x5001 }
      - { port: 10, kind: fabric, peer: { switch: leaf1, port: 10 }, mtu: 1600 }
tenants:
  - name: contoso
virtualSubnets:
  - vsid: ${options.badVsid ? "0x10" : "0x5001"}
    name: web
    tenant: contoso
    gateway: { mac: "00:00:5e:00:01:01", ips: [10.1.1.1/24] }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "02:00:00:00:01:01", ips: [10.1.1.10], location: { switch: leaf1, port: 1 } }
  - { name: web-2, vsid: 0x5001, mac: "02:00:00:00:01:02", ips: [10.1.1.11], location: { switch: leaf2, port: 1 } }
`;
}

/** The fabric with web-1 moved to leaf2 port 3, as `endpoint move` makes it. */
function movedText(text: string): string {
  return text.replace(
    "location: { switch: leaf1, port: 1 } }",
    "location: { switch: leaf2, port: 3 } }",
  );
}

function compile(text: string, previous?: Allocations) {
  return compileFabric(loadFabricText(text).fabric, pipeline.index, previous);
}

/** Updates that turn `before` into `after`: keys added, removed or with another value. */
function changedEntities(before: SwitchState, after: SwitchState): number {
  let count = 0;
  const collections = new Set([...before.collections.keys(), ...after.collections.keys()]);
  for (const collection of collections) {
    const a = before.collections.get(collection) ?? new Map<string, string>();
    const b = after.collections.get(collection) ?? new Map<string, string>();
    for (const [key, value] of b) if (a.get(key) !== value) count++;
    for (const key of a.keys()) if (!b.has(key)) count++;
  }
  return count;
}

function sortedEntities(state: SwitchState): string[] {
  return [...state.sorted()].map((e) => `${e.collection} ${e.key} = ${e.value}`);
}

/** What a switch holds, read straight from it (not through the daemon). */
async function readBack(
  address: string,
  deviceId: number,
  desired: SwitchState,
): Promise<string[]> {
  const client = new P4RuntimeClient({ address, deviceId, electionId: 1n, reconnect: false });
  try {
    return sortedEntities(await readSwitchState(client, codec, desired.switchName, desired));
  } finally {
    client.close();
  }
}

const softswitchSkip = existsSync(softswitchCli)
  ? false
  : `the softswitch CLI is not built yet (${softswitchCli})`;

const kinds: {
  name: string;
  skip: string | false;
  start: (options: SwitchProcessOptions) => Promise<RunningSwitch>;
}[] = [
  { name: "softswitch", skip: softswitchSkip, start: startSoftswitch },
  { name: "bmv2", skip: skipUnless("simple_switch_grpc"), start: startBmv2 },
];

for (const kind of kinds) {
  describe(`daemon and CLI with two ${kind.name} switches`, () => {
    const { skip } = kind;
    const dir = mkdtempSync(join(tmpdir(), `nvgre-daemon-${kind.name}-`));
    const socket = join(dir, "ctl.sock");
    const fabricFile = join(dir, "fabric.yaml");
    const switches: RunningSwitch[] = [];
    const recorders: P4RuntimeRecorder[] = [];
    let daemon: ChildProcess | undefined;
    let text = "";
    /** The intent's revision after the last change that stored one. */
    let revision = 0;

    const startDaemon = async () => {
      const log = openSync(join(dir, "daemon.log"), "a");
      daemon = spawn(
        process.execPath,
        [
          cliMain,
          "run",
          "--state-dir",
          join(dir, "state"),
          "--socket",
          socket,
          "--reconcile-interval",
          "0",
          "--log-level",
          "debug",
        ],
        { stdio: ["ignore", log, log] },
      );
      await until("the daemon answers", async () => (await cli("status", "-o", "json")).code !== 3);
    };
    const stopDaemon = async (signal: NodeJS.Signals) => {
      const process = daemon;
      daemon = undefined;
      if (!process || process.exitCode !== null) return;
      const exited = new Promise((resolve) => process.once("exit", resolve));
      process.kill(signal);
      await exited;
    };

    const cli = (...args: string[]) => runCaptured(socket, ...args);

    async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) {
          const log = existsSync(join(dir, "daemon.log"))
            ? readFileSync(join(dir, "daemon.log"), "utf8").slice(-3000)
            : "";
          assert.fail(`timed out waiting until ${what}\ndaemon log:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const converged = async () => {
      const result = await cli("status", "-o", "json");
      if (result.code === 3 || result.out === "") return false;
      const status = JSON.parse(result.out) as StatusResponse;
      return (
        status.switches.length === 2 &&
        status.switches.every((s) => s.connected && s.primary && s.drift === 0)
      );
    };

    before(async () => {
      if (skip) return;
      for (const deviceId of [1, 2]) {
        const sw = await kind.start({ deviceId });
        switches.push(sw);
        recorders.push(await startRecorder(sw.address));
      }
      text = fabricText([recorders[0]?.address ?? "", recorders[1]?.address ?? ""]);
      writeFileSync(fabricFile, text);
      await startDaemon();
    });

    after(async () => {
      await stopDaemon("SIGKILL");
      for (const recorder of recorders) await recorder.close();
      for (const sw of switches) await sw.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("apply: every switch then holds exactly the compiled intent; status is in sync", {
      skip,
    }, async () => {
      const result = await cli("apply", "-f", fabricFile, "-o", "json");
      assert.equal(result.code, 0, `${result.err}${result.out}`);
      const answer = JSON.parse(result.out) as ChangeResult;
      assert.ok(answer.revision > 0, "stored: the store's revision");
      revision = answer.revision;
      const desired = compile(text).switches;
      for (const [i, sw] of switches.entries()) {
        const name = `leaf${i + 1}`;
        const state = desired.get(name) as SwitchState;
        assert.deepEqual(
          await readBack(sw.address, sw.deviceId, state),
          sortedEntities(state),
          name,
        );
        const recorded = recorders[i] as P4RuntimeRecorder;
        assert.equal(recorded.pipelinePushes, 1, `${name}: pipeline pushed once`);
        assert.equal(
          recorded.updates.length,
          answer.switches.find((p) => p.switch === name)?.written,
        );
      }
      await until("both switches are in sync", converged);
      const status = JSON.parse((await cli("status", "-o", "json")).out) as StatusResponse;
      for (const s of status.switches) {
        assert.equal(s.pipelineCookie, pipeline.cookie.toString(), `${s.name} runs our pipeline`);
        assert.equal(s.pipelineCurrent, true);
      }
    });

    test("status (metrics use it too) reads no table of a switch whose state the leader knows (it wrote it and nothing was refused)", {
      skip,
    }, async () => {
      for (const r of recorders) r.reset();
      for (let i = 0; i < 3; i++) {
        const status = JSON.parse((await cli("status", "-o", "json")).out) as StatusResponse;
        assert.deepEqual(
          status.switches.map((s) => s.drift),
          [0, 0],
        );
      }
      assert.deepEqual(
        recorders.map((r) => r.reads),
        [0, 0],
        "no Read RPC reached the switches",
      );
    });

    test("apply the same file again: nothing is written, the revision stays", {
      skip,
    }, async () => {
      for (const r of recorders) r.reset();
      const result = await cli("apply", "-f", fabricFile, "-o", "json");
      assert.equal(result.code, 0, result.err);
      assert.equal((JSON.parse(result.out) as ChangeResult).revision, revision);
      for (const r of recorders) {
        assert.deepEqual(r.updates, []);
        assert.equal(r.pipelinePushes, 0);
      }
    });

    test("endpoint move: only the entries that change are written, on the switches they change on", {
      skip,
    }, async () => {
      const before = compile(text);
      const after = compile(movedText(text), before.allocations);
      for (const r of recorders) r.reset();
      const result = await cli("endpoint", "move", "web-1", "--to", "leaf2:3", "-o", "json");
      assert.equal(result.code, 0, result.err);
      const moved = (JSON.parse(result.out) as ChangeResult).revision;
      assert.ok(moved > revision, "a new revision");
      revision = moved;
      for (const [i, sw] of switches.entries()) {
        const name = `leaf${i + 1}`;
        const expected = changedEntities(
          before.switches.get(name) as SwitchState,
          after.switches.get(name) as SwitchState,
        );
        assert.ok(expected > 0, `${name}: the move changes something here`);
        assert.equal(recorders[i]?.updates.length, expected, `${name}: updates written`);
        const state = after.switches.get(name) as SwitchState;
        assert.deepEqual(
          await readBack(sw.address, sw.deviceId, state),
          sortedEntities(state),
          name,
        );
      }
      text = movedText(text);
      const endpoints = JSON.parse((await cli("get", "endpoints", "-o", "json")).out) as {
        name: string;
        location: string;
      }[];
      assert.equal(endpoints.find((e) => e.name === "web-1")?.location, "leaf2:3");
    });

    test("an invalid apply changes nothing (exit 4, the issue named with its line)", {
      skip,
    }, async () => {
      const bad = join(dir, "bad.yaml");
      writeFileSync(
        bad,
        fabricText([recorders[0]?.address ?? "", recorders[1]?.address ?? ""], { badVsid: true }),
      );
      for (const r of recorders) r.reset();
      const result = await cli("apply", "-f", bad);
      assert.equal(result.code, 4);
      assert.match(
        result.err,
        /line \d+:\d+: virtualSubnets\[0\]\.vsid: VSID 0x10 is outside 0x1000–0xFFFFFE/,
      );
      for (const r of recorders) assert.deepEqual(r.updates, []);
      const status = JSON.parse((await cli("status", "-o", "json")).out) as StatusResponse;
      assert.equal(status.daemon.intentRevision, revision, "the revision of the move, unchanged");
    });

    test("daemon killed (SIGKILL) and restarted: hitless, nothing is written", {
      skip,
    }, async () => {
      await stopDaemon("SIGKILL");
      for (const r of recorders) r.reset();
      await startDaemon();
      await until("both switches are in sync again", converged);
      for (const r of recorders) {
        assert.deepEqual(r.updates, [], "no entry deleted, added or rewritten");
        assert.equal(r.pipelinePushes, 0, "the pipeline is not pushed again");
      }
      const events = await cli("events", "--kind", "reconcile", "-o", "json");
      assert.match(events.out, /became primary: in sync, nothing written/);
    });

    test("switch process killed and restarted: pipeline and state restored with no operator action", {
      skip,
    }, async () => {
      const first = switches[0] as RunningSwitch;
      await first.stop();
      await until("the daemon sees leaf1 gone", async () => {
        const status = JSON.parse((await cli("status", "-o", "json")).out) as StatusResponse;
        return status.switches.some((s) => s.name === "leaf1" && !s.connected);
      });
      for (const r of recorders) r.reset();
      const restarted = await kind.start({ deviceId: 1, address: first.address });
      switches[0] = restarted;
      await until("leaf1 is back in sync", converged);
      const desired = compile(
        text,
        compile(fabricText([recorders[0]?.address ?? "", recorders[1]?.address ?? ""])).allocations,
      );
      const state = desired.switches.get("leaf1") as SwitchState;
      assert.deepEqual(await readBack(restarted.address, 1, state), sortedEntities(state));
      assert.equal(recorders[0]?.pipelinePushes, 1, "the new process got the pipeline");
      assert.deepEqual(recorders[1]?.updates, [], "leaf2 was left alone");
    });

    test("the CLI through the daemon: get, tables, counters, drops, events", { skip }, async () => {
      const switchesOut = await cli("get", "switches");
      assert.equal(switchesOut.code, 0, switchesOut.err);
      assert.match(switchesOut.out, /leaf1.*leaf.*02:00:00:00:0a:01.*10\.0\.0\.1.*up/);
      const vsids = JSON.parse((await cli("get", "vsids", "-o", "json")).out) as {
        vsid: number;
        endpoints: number;
      }[];
      assert.deepEqual(
        vsids.map((v) => [v.vsid, v.endpoints]),
        [[0x5001, 2]],
      );
      const tables = await cli("tables", "leaf2", "mac", "-o", "json");
      assert.equal(tables.code, 0, tables.err);
      const entries = (
        JSON.parse(tables.out) as { entries: { match: Record<string, string>; action: string }[] }
      ).entries;
      assert.ok(
        entries.some((e) => e.match.dst_mac === "02:00:00:00:01:01" && /port=3/.test(e.action)),
        tables.out,
      );
      const counters = JSON.parse((await cli("counters", "--vsid", "0x5001", "-o", "json")).out);
      assert.deepEqual(counters.rows.map((r: { switch: string }) => r.switch).sort(), [
        "leaf1",
        "leaf2",
      ]);
      const drops = await cli("drops", "-o", "json");
      assert.equal(drops.code, 0, drops.err);
      assert.deepEqual(JSON.parse(drops.out).unreachable, []);
      const mastership = await cli("events", "--kind", "mastership", "--switch", "leaf1");
      assert.match(mastership.out, /mastership leaf1: primary: this replica controls the switch/);
      const unknown = await cli("tables", "leaf9");
      assert.equal(unknown.code, 1);
      assert.match(unknown.err, /switch leaf9 is not in the intent \(known: leaf1, leaf2\)/);
    });
  });
}
