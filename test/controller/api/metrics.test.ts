/**
 * R15 (per-VSID statistics) through Prometheus: a real `prometheus` scrapes the daemon's
 * /metrics over mTLS (a viewer certificate) and the softswitch's own /metrics while frames
 * run through the switch; queried through Prometheus's HTTP API, the per-VSID counters equal
 * the switch's counters read over P4Runtime, a forced drop reason appears, and the switch's
 * port counters equal the frames sent. Expected frames are Scapy's (the reference).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { DaemonMetrics } from "../../../controller/api/metrics.js";
import { daemonRoutes, metricsRoutes } from "../../../controller/api/routes.js";
import { type ApiServer, startApiServer } from "../../../controller/api/server.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { ThrowawayPki } from "../../../topologies/pki.js";
import { repoRoot } from "../../../topologies/repo.js";
import { py, Scapy } from "../../../topologies/scapy.js";
import { softswitchCli } from "../../../topologies/softswitch.js";
import { TestPrometheus } from "../../support/prometheus.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "../daemon/daemon-on-target.js";

const leafMac = "02:00:00:00:0a:01";
const hv1 = { mac: "02:00:00:00:10:05", pa: "10.0.1.5" };
const web1 = { mac: "02:00:00:00:01:01", ip: "10.1.1.10" };
const web2 = { mac: "02:00:00:00:01:02", ip: "10.1.1.11" };

/** leaf1: web-1 on access port 1, port 2 also in VSID 0x5001, hypervisor hv1 (web-2) on port 3. */
export function metricsFabric(address: string, deviceId: number): string {
  return `version: 1
name: metrics
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "${leafMac}"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 3, kind: fabric, mtu: 9000 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
nves:
  - { name: hv1, providerAddresses: [${hv1.pa}], attachment: { switch: leaf1, port: 3, mac: "${hv1.mac}" } }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "${web1.mac}", ips: [${web1.ip}], location: { switch: leaf1, port: 1 } }
  - { name: web-2, vsid: 0x5001, mac: "${web2.mac}", ips: [${web2.ip}], location: { nve: hv1 } }
`;
}

const [softswitch] = targets();
if (!softswitch) throw new Error("no softswitch target");

async function until(what: string, check: () => Promise<boolean>, explain: () => Promise<string>) {
  // Prometheus scrapes every second and the daemon reads counters every 300 ms: generous.
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}\n${await explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("R15: Prometheus scrapes the daemon (mTLS) and the softswitch during traffic", () => {
  const harness = daemonOnTarget(softswitch, {
    ports: [1, 2, 3],
    metrics: true,
    fabric: metricsFabric,
  });
  const scapy = new Scapy();
  let metrics: DaemonMetrics | undefined;
  let api: ApiServer | undefined;
  let prometheus: TestPrometheus | undefined;
  const sent = { port1: 0, port3: 0 };

  before(async () => {
    const daemon = harness.daemon;
    if (!daemon) throw new Error("the harness's daemon did not start");
    const pki = new ThrowawayPki(harness.dir);
    const server = pki.issue("server", "/CN=localhost", { server: true });
    const viewer = pki.issue("prometheus", "/CN=prometheus/OU=viewer");
    metrics = new DaemonMetrics(daemon, { countersIntervalMs: 300 });
    api = await startApiServer({
      socketPath: join(harness.dir, "metrics-api.sock"),
      tls: {
        listen: "127.0.0.1:0",
        cert: readFileSync(server.cert),
        key: readFileSync(server.key),
        clientCa: readFileSync(pki.ca.cert),
      },
      routes: [...daemonRoutes(daemon), ...metricsRoutes(metrics)],
      logger: pino({ level: "silent" }),
    });
    const daemonTarget = api.tcpAddress;
    const switchTarget = harness.target.metricsAddress;
    prometheus = await TestPrometheus.start(
      () => `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["${repoRoot}deploy/prometheus/alerts.yml"]
scrape_configs:
  - job_name: nvgre-daemon
    scheme: https
    tls_config:
      ca_file: ${pki.ca.cert}
      cert_file: ${viewer.cert}
      key_file: ${viewer.key}
      server_name: localhost
    static_configs: [{ targets: ["${daemonTarget}"] }]
  - job_name: softswitch
    static_configs: [{ targets: ["${switchTarget}"] }]
`,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await api?.close();
    metrics?.close();
    await scapy.close();
  });

  test("R15: per-VSID encap/decap/flood in Prometheus equal the switch's counters; a forced drop reason appears", async () => {
    const target = harness.target;
    // A reconcile after the metrics exist, for the duration histogram.
    await harness.daemon?.reconcileAll("metrics test");
    const payload = `Raw(b"m" * 50)`;
    const [unicast, broadcast, fromHv1, noKey] = await scapy.frames([
      `Ether(src=${py(web1.mac)}, dst=${py(web2.mac)})/IP(src=${py(web1.ip)}, dst=${py(web2.ip)})/UDP(sport=1234, dport=80)/${payload}`,
      `Ether(src=${py(web1.mac)}, dst="ff:ff:ff:ff:ff:ff")/ARP(hwsrc=${py(web1.mac)}, psrc=${py(web1.ip)}, pdst="10.1.1.99")`,
      `Ether(src=${py(hv1.mac)}, dst=${py(leafMac)})/IP(src=${py(hv1.pa)}, dst="10.0.0.1", flags="DF", proto=47)/GRE(key_present=1, proto=0x6558, key=0x5001 << 8)/Ether(src=${py(web2.mac)}, dst=${py(web1.mac)})/IP(src=${py(web2.ip)}, dst=${py(web1.ip)})/UDP(sport=80, dport=1234)/${payload}`,
      // K = 0: dropped as gre_no_key (R1).
      `Ether(src=${py(hv1.mac)}, dst=${py(leafMac)})/IP(src=${py(hv1.pa)}, dst="10.0.0.1", flags="DF", proto=47)/GRE(proto=0x6558)/Ether(src=${py(web2.mac)}, dst=${py(web1.mac)})/IP()/UDP()`,
    ]);
    const encapOut = await target.sendMany(1, Array(20).fill(unicast));
    const floodOut = await target.sendMany(1, Array(5).fill(broadcast));
    const decapOut = await target.sendMany(3, Array(10).fill(fromHv1));
    const dropOut = await target.sendMany(3, Array(3).fill(noKey));
    sent.port1 = 25;
    sent.port3 = 13;
    assert.equal(
      encapOut.filter((o) => o.port === 3).length,
      20,
      "unicast to web-2 not encapsulated",
    );
    assert.ok(floodOut.length >= 5, "broadcast not flooded");
    assert.equal(
      decapOut.filter((o) => o.port === 1).length,
      10,
      "NVGRE from hv1 not decapsulated",
    );
    assert.equal(dropOut.length, 0, "a GRE packet without key was not dropped");

    // The switch's counters, read over P4Runtime by the target's own client (not the daemon).
    const builder = new EntityBuilder(loadNvgrePipeline().index);
    const index = harness.daemon?.allocations?.pools["leaf1/vsid-index"]?.ids["20481"];
    assert.notEqual(index, undefined, "no counter index for VSID 0x5001");
    const expected: Record<string, { packets: number; bytes: number }> = {};
    for (const direction of ["encap", "decap", "flood"]) {
      const [entity] = await target.client.readAll([
        builder.counterEntry(`vsid_${direction}`, index),
      ]);
      const data = entity?.counter_entry?.data;
      expected[direction] = {
        packets: Number(data?.packet_count ?? 0),
        bytes: Number(data?.byte_count ?? 0),
      };
    }
    // Head-end replication encapsulates the broadcast's copy to hv1 too.
    const floodedToHv1 = floodOut.filter((o) => o.port === 3).length;
    assert.equal(expected.encap?.packets, 20 + floodedToHv1);
    assert.equal(expected.decap?.packets, 10);
    assert.ok((expected.flood?.packets ?? 0) >= 5);

    const vsidSample = async (unit: string, direction: string) =>
      (
        await prometheus?.query(
          `nvgre_vsid_${unit}_total{job="nvgre-daemon", switch="leaf1", vsid="0x005001", direction="${direction}"}`,
        )
      )?.[0]?.value;
    const explain = async () => `targets: ${await prometheus?.targets()}\n${prometheus?.log()}`;
    for (const direction of ["encap", "decap", "flood"] as const) {
      await until(
        `Prometheus has the switch's ${direction} counters`,
        async () =>
          (await vsidSample("packets", direction)) === expected[direction]?.packets &&
          (await vsidSample("bytes", direction)) === expected[direction]?.bytes,
        explain,
      );
    }
    await until(
      "the forced drop reason gre_no_key appears with its 3 packets",
      async () =>
        (
          await prometheus?.query(
            `nvgre_drops_packets_total{switch="leaf1", stage="ingress", reason="gre_no_key"}`,
          )
        )?.[0]?.value === 3,
      explain,
    );
    for (const gauge of [
      "nvgre_switch_connected",
      "nvgre_switch_primary",
      "nvgre_switch_in_sync",
    ]) {
      await until(
        `${gauge} is 1`,
        async () => (await prometheus?.query(`${gauge}{switch="leaf1"}`))?.[0]?.value === 1,
        explain,
      );
    }
    const reconciles = await prometheus?.query(
      `nvgre_reconcile_duration_seconds_count{switch="leaf1"}`,
    );
    assert.ok((reconciles?.[0]?.value ?? 0) >= 1, "no reconcile duration observed");
  });

  test("the softswitch's own metrics: frames in per port equal the frames sent, drops and tables counted", async () => {
    const portIn = async (port: number) =>
      (
        await prometheus?.query(
          `softswitch_port_packets_total{job="softswitch", port="${port}", direction="in"}`,
        )
      )?.[0]?.value;
    const explain = async () => `targets: ${await prometheus?.targets()}`;
    await until(
      "Prometheus has the frames in on ports 1 and 3",
      async () => (await portIn(1)) === sent.port1 && (await portIn(3)) === sent.port3,
      explain,
    );
    const drops = await prometheus?.query(`softswitch_drops_total{port="3"}`);
    assert.equal(drops?.[0]?.value, 3, "the three GRE packets without key");
    const entries = await prometheus?.query(`softswitch_table_entries > 0`);
    assert.ok((entries?.length ?? 0) > 0, "no table holds entries");
  });

  test("the Grafana dashboard's queries run in Prometheus on exported metrics; the alert rules evaluate", async () => {
    const dashboard = JSON.parse(readFileSync(`${repoRoot}deploy/grafana/nvgre.json`, "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    // Families both targets declare (a labelled counter has no series before its first count).
    const exposition = `${await metrics?.text()}${await (await fetch(`http://${harness.target.metricsAddress}/metrics`)).text()}`;
    const names = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        // Grafana's variables, as Grafana would fill them in.
        const query = expr.replaceAll("$__rate_interval", "1m").replaceAll("$vsid", ".*");
        await prometheus?.query(query); // throws on a query Prometheus cannot run
        for (const metric of query.match(/\b(nvgre|softswitch)_[a-z_]+\b/g) ?? []) {
          const family = metric.replace(/_(bucket|count|sum)$/, "");
          assert.ok(
            names.has(metric) || names.has(family),
            `panel "${panel.title}": ${metric} is not a metric the daemon or softswitch exports`,
          );
        }
      }
    }
    const rules = (await (await fetch(`http://${prometheus?.address}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    assert.equal(loaded.length, 7);
    await until(
      "every alert rule has been evaluated without error",
      async () => {
        const now = (await (
          await fetch(`http://${prometheus?.address}/api/v1/rules`)
        ).json()) as typeof rules;
        return now.data.groups.flatMap((g) => g.rules).every((r) => r.health === "ok");
      },
      async () => JSON.stringify(rules),
    );
  });
});

test("softswitch --metrics-addr serves /metrics from the process", async () => {
  const child = spawn(
    process.execPath,
    [
      softswitchCli,
      "--no-p4",
      "--grpc-server-addr",
      "127.0.0.1:0",
      "--metrics-addr",
      "127.0.0.1:0",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let log = "";
      child.stdout.on("data", (chunk: Buffer) => {
        log += chunk.toString("utf8");
        const match = /"msg":"metrics on http:\/\/([^/]+)\/metrics"/.exec(log);
        if (match) resolve(match[1] as string);
      });
      child.once("exit", (code) => reject(new Error(`softswitch exited (${code}): ${log}`)));
    });
    const text = await (await fetch(`http://${address}/metrics`)).text();
    assert.match(text, /# TYPE softswitch_port_packets_total counter/);
    assert.match(text, /softswitch_pipeline_packets_per_second 0/);
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
});
