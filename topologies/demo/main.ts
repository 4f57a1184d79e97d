/**
 * `make demo` / `make lab`: a leaf-spine fabric of P4 switches in Mininet, programmed only by
 * the controller from the fabric file the topology writes, then a report that proves
 * reachability, tenant isolation, throughput, ECMP and live migration; or (lab) the Mininet
 * CLI with the controller running. With `--store etcd` the controller is a cluster (a 3-member
 * etcd, 2 replicas) and the report ends with a failover: the leader killed during a ping
 * stream. Whatever happens (failure, Ctrl-C), the fabric is torn down and nothing is left
 * behind.
 */
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { Command, Option } from "commander";
import {
  type CaptureSummary,
  captureInterface,
  decodeCapture,
  type LinkCapture,
} from "./capture.js";
import { ControllerCluster } from "./cluster.js";
import { spinePackets } from "./counters.js";
import { ControllerDaemon, type CtlResult, nvgreCtl, type WebAccess } from "./daemon.js";
import { Fabric, isRunning, type RecordedProcess, repoRoot, type SwitchTarget } from "./fabric.js";
import { killLeader } from "./failover.js";
import { migrate } from "./migration.js";
import * as report from "./report.js";
import { pc } from "./report.js";
import { hostAddress, iperf, pingMatrix } from "./traffic.js";

interface DemoOptions {
  switch: SwitchTarget;
  spines: number;
  leaves: number;
  capture: boolean;
  lab: boolean;
  /** Where the controller keeps the intent: its embedded store, or etcd with 2 replicas. */
  store: "embedded" | "etcd";
}

/** The cluster's leadership lease: a killed leader is replaced within it (plus about 1 s). */
const LEASE_TTL_S = 2;

const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (line: string) => say(pc.dim(`-- ${line}`));

/** Runs the report's measurements; returns whether every check passed. */
async function runReport(
  fabric: Fabric,
  controller: ControllerDaemon,
  cluster: ControllerCluster | undefined,
  options: DemoOptions,
): Promise<boolean> {
  let ok = true;
  const checks: string[] = [];
  let capture: LinkCapture | undefined;
  if (options.capture) {
    const uplink = fabric.description.links[0];
    if (uplink) {
      const path = join(repoRoot, "captures", `${uplink.a}-${uplink.b}.pcap`);
      capture = await captureInterface(fabric, uplink.a_interface, path);
      step(`capturing ${uplink.a}:${uplink.a_port} ↔ ${uplink.b}:${uplink.b_port} into ${path}`);
    }
  }

  say(
    report.heading(
      "Ping matrix: every VM to every other VM's CAs (3 echoes each, tagged per pair)",
    ),
  );
  const cells = await pingMatrix(fabric);
  say(report.matrixTable(fabric.description, cells));
  const matrix = report.matrixVerdicts(cells);
  ok &&= matrix.ok;
  checks.push(...matrix.lines);
  for (const line of matrix.lines) say(line);

  say(report.heading("Throughput (iperf3) between VMs on different leaves, across the spines"));
  const before = await spinePackets(fabric.spines);
  const v4 = await iperf(
    fabric,
    "blue-web1",
    "blue-web2",
    hostAddress(fabric.vm("blue-web2").ipv4),
  );
  const after = await spinePackets(fabric.spines);
  say(report.iperfLine("blue-web1 (leaf1) → blue-web2 (leaf2), IPv4 CA over IPv4 PA", v4));
  const lastLeaf = fabric.leaves.at(-1)?.name ?? "";
  const far = fabric.description.vms.find(
    (v) => v.tenant === "blue" && v.leaf === lastLeaf && v.ipv6,
  );
  if (far?.ipv6) {
    const v6 = await iperf(fabric, "blue-web1", far.name, hostAddress(far.ipv6));
    say(
      report.iperfLine(`blue-web1 (leaf1) → ${far.name} (${lastLeaf}), IPv6 CA over IPv6 PA`, v6),
    );
  }

  say(report.heading("ECMP: packets each spine received during the IPv4 run (port_rx counters)"));
  const deltas = new Map([...after].map(([spine, n]) => [spine, n - (before.get(spine) ?? 0n)]));
  say(report.ecmpText(deltas));
  const spread = [...deltas.values()].filter((n) => n > 0n).length;
  const ecmpLine = report.verdict(
    spread === fabric.spines.length,
    `the flows spread over ${spread} of ${fabric.spines.length} spines (hash over outer addresses and the whole GRE key, R9)`,
  );
  ok &&= spread === fabric.spines.length;
  checks.push(ecmpLine);
  say(ecmpLine);

  const observer = far?.name ?? "blue-web2";
  say(
    report.heading(`Live migration: blue-web1 leaves leaf1 while ${observer} pings it every 10 ms`),
  );
  let command: CtlResult | undefined;
  const moved = await migrate(fabric, "blue-web1", "leaf2", observer, async (vm, to) => {
    command = await controller.moveEndpoint(vm, to);
  });
  if (command) say(report.commandText(command));
  say(report.migrationText(moved));
  const migrationOk = moved.convergenceMs !== undefined;
  const migrationLine = report.verdict(
    migrationOk,
    `after the move, ${moved.vm} answers again from ${moved.to.leaf} (${moved.lost} packets lost)`,
  );
  ok &&= migrationOk;
  checks.push(migrationLine);
  say(migrationLine);

  if (cluster) {
    say(
      report.heading(
        `Failover: the leading replica is killed (SIGKILL) during a 10 ms ping stream`,
      ),
    );
    const failover = await killLeader(fabric, cluster);
    say(report.failoverText(failover));
    const verdicts: [boolean, string][] = [
      [
        failover.failoverMs < (failover.leaseTtlS + 1) * 1000,
        `${failover.successor} is primary on every switch ${failover.failoverMs.toFixed(0)} ms after the SIGKILL (goal: under the lease TTL + 1 s = ${failover.leaseTtlS + 1} s)`,
      ],
      [failover.lost === 0, `${failover.lost} pings lost during the failover`],
      [
        failover.rewritten === 0,
        `${failover.rewritten} P4Runtime entries rewritten by the new leader`,
      ],
    ];
    for (const [passed, text] of verdicts) {
      const line = report.verdict(passed, text);
      ok &&= passed;
      checks.push(line);
      say(line);
    }
  }

  if (capture) {
    await capture.stop();
    say(report.heading("Capture of a fabric link, decoded by tshark"));
    const summary: CaptureSummary = decodeCapture(capture.path);
    say(report.captureText(summary, capture.path));
    const captureOk =
      summary.nvgreFrames > 0 && summary.innerEthernetFrames === summary.nvgreFrames;
    const line = report.verdict(
      captureOk,
      "tshark decodes the fabric link as GRE with key, TEB, inner Ethernet",
    );
    ok &&= captureOk;
    checks.push(line);
    say(line);
  }

  say(report.heading("Summary"));
  for (const line of checks) say(line);
  return ok;
}

/** What a run left in the machine: recorded processes still running, interfaces named after
 * the run (empty when clean). */
function leftovers(fabric: Fabric, processes: RecordedProcess[]): string[] {
  const left = processes.filter(isRunning).map((p) => `process ${p.process} (pid ${p.pid})`);
  const tag = basename(fabric.runDir);
  for (const name of readdirSync("/sys/class/net")) {
    if (name.startsWith(`${tag}-`)) left.push(`interface ${name}`);
  }
  return left;
}

async function main(options: DemoOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    say(
      pc.red(
        "the demo needs root: Mininet creates network namespaces (run it as root or with sudo)",
      ),
    );
    return 2;
  }
  say(
    pc.bold(
      `NVGRE (RFC 7637) fabric: ${options.spines} spines × ${options.leaves} leaves of P4 switches (${options.switch}) in Mininet`,
    ),
  );
  step("starting the switches and the VMs");
  const fabric = await Fabric.start({
    target: options.switch,
    spines: options.spines,
    leaves: options.leaves,
    terminal: options.lab,
  });
  let controller: ControllerDaemon | undefined;
  let cluster: ControllerCluster | undefined;
  const stopControllers = async () => {
    await (cluster ? cluster.stop() : controller?.stop());
  };
  let ok = false;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(pc.yellow(`\n${signal}: tearing the fabric down`));
    void stopControllers()
      .then(() => fabric.stop({ keepRunDir: true }))
      .then(() => process.exit(130));
  };
  if (!options.lab) {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  }
  try {
    say(report.heading("Fabric"));
    say(report.fabricTables(fabric.description));
    say(`fabric file (written from the topology): ${fabric.fabricFile}`);
    if (options.store === "etcd") {
      step(
        `starting a 3-member etcd and 2 controller replicas on it (nvgre-ctl run --store etcd://… --lease-ttl ${LEASE_TTL_S})`,
      );
      cluster = await ControllerCluster.start(fabric, { replicas: 2, leaseTtlS: LEASE_TTL_S });
      controller = await cluster.waitForLeader(10_000);
      say(clusterText(cluster, controller));
      step(`applying the fabric file through the leader, ${controller.name}`);
    } else {
      step("starting the controller (nvgre-ctl run) and applying the fabric file");
      controller = await ControllerDaemon.start(fabric);
    }
    if (controller.web) say(webViewText(controller.web));
    say(report.commandText(await controller.apply(fabric.fabricFile)));
    if (options.lab) {
      await lab(fabric, controller);
      ok = true;
    } else {
      ok = await runReport(fabric, controller, cluster, options);
    }
  } catch (error) {
    say(pc.red(`demo failed: ${error instanceof Error ? error.message : String(error)}`));
    say(`switch logs kept in ${fabric.runDir}`);
  } finally {
    if (!interrupted) {
      await stopControllers();
      step("tearing the fabric down");
      // Read before the stop: a run that went well removes its directory.
      const processes = fabric.recordedProcesses();
      await fabric.stop({ keepRunDir: !ok });
      const left = leftovers(fabric, processes);
      say(
        report.verdict(
          left.length === 0,
          left.length === 0
            ? "teardown: no process, namespace or interface of the fabric is left"
            : `teardown left: ${left.join(", ")}`,
        ),
      );
      if (left.length > 0) ok = false;
    }
  }
  return ok ? 0 : 1;
}

/** The cluster as started: etcd's members and the replicas with their sockets and logs. */
function clusterText(cluster: ControllerCluster, leader: ControllerDaemon): string {
  return [
    `etcd members: ${cluster.etcd.endpoints.join(", ")} (data and logs in ${cluster.etcd.dir})`,
    ...cluster.replicas.map(
      (r) =>
        `replica ${r.name}${r === leader ? " (leader)" : ""}: socket ${r.socket}, log ${r.logPath}`,
    ),
  ].join("\n");
}

/** Where the daemon's web view is, and the client certificate it asks for. */
function webViewText(web: WebAccess): string {
  return [
    `web view: ${web.url} (while the controller runs; import ${web.p12}, password nvgre, into the browser)`,
    `  curl --cacert ${web.ca} --cert ${web.operator.cert} --key ${web.operator.key} ${web.url}v1/status`,
  ].join("\n");
}

/** `make lab`: the Mininet CLI, with the controller running for nvgre-ctl. */
async function lab(fabric: Fabric, controller: ControllerDaemon): Promise<void> {
  say(report.heading("Lab"));
  say("The controller is running. In another terminal:");
  say(`  alias nvgre-ctl="${process.execPath} ${nvgreCtl} --socket ${controller.socket}"`);
  say("  nvgre-ctl status; nvgre-ctl get endpoints; nvgre-ctl counters --vsid 0x5001");
  say(`  nvgre-ctl apply -f ${fabric.fabricFile}      (the fabric file the topology wrote)`);
  say(`Controller log: ${controller.logPath}`);
  say(
    "In the Mininet CLI: blue-web1 ping 10.1.1.12   red-web1 ping 10.1.1.12   blue-web1 ping 10.1.2.11",
  );
  say("Leave it (exit or Ctrl-D) to tear the fabric down.\n");
  // Ctrl-C belongs to the Mininet CLI (it interrupts the command running in a VM).
  process.on("SIGINT", () => undefined);
  await fabric.cli();
}

const program = new Command("demo")
  .description("NVGRE leaf-spine fabric demo in Mininet (run as root)")
  .addOption(
    new Option("--switch <target>", "P4 switch target")
      .choices(["softswitch", "bmv2"])
      .default("softswitch"),
  )
  .option("--spines <n>", "number of spines", (v) => Number.parseInt(v, 10), 2)
  .option("--leaves <n>", "number of leaves", (v) => Number.parseInt(v, 10), 3)
  .option("--capture", "capture a fabric link into captures/ and decode it with tshark", false)
  .option("--lab", "leave the fabric up with the Mininet CLI and the controller running", false)
  .addOption(
    new Option(
      "--store <kind>",
      "the controller's store: embedded (one daemon), or etcd (a 3-member etcd and 2 replicas; the report adds a failover)",
    )
      .choices(["embedded", "etcd"])
      .default("embedded"),
  )
  .action(async (options: DemoOptions) => {
    process.exitCode = await main(options);
  });

await program.parseAsync();
