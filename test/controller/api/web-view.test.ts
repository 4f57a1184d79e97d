/**
 * The daemon's web view in a real browser: Debian's Chromium, headless, driven by
 * playwright-core (never a downloaded browser), loads the page over the daemon's mTLS
 * listener with an operator's client certificate from a fabric of two in-process softswitches
 * carrying traffic in two VSIDs between them; the DOM must show every switch (map and table)
 * and every (switch, VSID) with non-zero counters, and the page updates itself (a later
 * frame raises the count shown). A screenshot is saved (NVGRE_WEB_VIEW_SCREENSHOT=path also
 * copies it there, e.g. docs/web-view.png).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { DaemonMetrics } from "../../../controller/api/metrics.js";
import { daemonRoutes, metricsRoutes } from "../../../controller/api/routes.js";
import { type ApiServer, startApiServer } from "../../../controller/api/server.js";
import { webRoutes } from "../../../controller/api/web.js";
import { loadDaemonConfig } from "../../../controller/daemon/config.js";
import { Daemon } from "../../../controller/daemon/daemon.js";
import { openReplica } from "../../../controller/daemon/replica.js";
import type { KvStore } from "../../../controller/intent/store/types.js";
import { ThrowawayPki } from "../../../topologies/pki.js";
import { py, Scapy } from "../../../topologies/scapy.js";
import { runCaptured } from "../../support/cli-capture.js";
import { type DataplaneTarget, targets } from "../../support/targets.js";

const chromiumPath = "/usr/bin/chromium";
const vsids = [
  { vsid: 0x5001, name: "web", hosts: ["02:00:00:00:01:01", "02:00:00:00:01:02"] },
  { vsid: 0x5002, name: "db", hosts: ["02:00:00:00:02:01", "02:00:00:00:02:02"] },
];

function fabricText(addresses: string[]): string {
  const leaf = (i: number) => `  - name: leaf${i + 1}
    role: leaf
    p4runtime: { address: "${addresses[i]}", deviceId: ${i + 1} }
    routerMac: "02:00:00:00:0a:0${i + 1}"
    providerAddresses: [10.0.0.${i + 1}]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5002 }
      - { port: 10, kind: fabric, peer: { switch: leaf${2 - i}, port: 10 }, mtu: 1600 }`;
  return `version: 1
name: web-view
switches:
${leaf(0)}
${leaf(1)}
tenants: [{ name: contoso }]
virtualSubnets:
${vsids.map((v) => `  - { vsid: ${v.vsid}, name: ${v.name}, tenant: contoso }`).join("\n")}
endpoints:
${vsids
  .flatMap((v, p) =>
    v.hosts.map(
      (mac, i) =>
        `  - { name: ${v.name}-${i + 1}, vsid: ${v.vsid}, mac: "${mac}", ips: [10.9.${p}.${i + 1}], location: { switch: leaf${i + 1}, port: ${p + 1} } }`,
    ),
  )
  .join("\n")}
`;
}

/** Polls the page (it redraws every 2 s); the wait is generous, not a bound. */
async function until(check: () => Promise<boolean>, page: Page): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) {
      assert.fail(
        `the page did not show it within 30 s; it shows:\n${await page.locator("body").textContent()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const [softswitch] = targets();
if (!softswitch) throw new Error("no softswitch target");

describe("the web view in headless Chromium, on a two-switch fabric with traffic", () => {
  const dir = mkdtempSync(join(tmpdir(), "nvgre-web-view-"));
  const switches: DataplaneTarget[] = [];
  const scapy = new Scapy();
  let daemon: Daemon | undefined;
  let replicaStore: KvStore | undefined;
  let metrics: DaemonMetrics | undefined;
  let api: ApiServer | undefined;
  let browser: BrowserContext | undefined;
  let operatorPem: { cert: string; key: string } | undefined;

  /** One frame of each VSID from leaf1 to leaf2: leaf1 encapsulates, leaf2 decapsulates. */
  async function traffic(): Promise<void> {
    const [leaf1, leaf2] = switches as [DataplaneTarget, DataplaneTarget];
    for (const [p, v] of vsids.entries()) {
      const [src, dst] = v.hosts as [string, string];
      const frame = await scapy.frame(
        `Ether(src=${py(src)}, dst=${py(dst)})/IP(src="10.9.${p}.1", dst="10.9.${p}.2")/UDP(sport=5000, dport=80)/Raw(b"w" * 64)`,
      );
      const tunnelled = (await leaf1.send(p + 1, frame)).filter((o) => o.port === 10);
      assert.equal(tunnelled.length, 1, `leaf1 did not encapsulate ${v.name}'s frame`);
      const delivered = await leaf2.send(10, (tunnelled[0] as { frame: Buffer }).frame);
      assert.deepEqual(
        delivered.map((o) => o.port),
        [p + 1],
        `leaf2 did not deliver ${v.name}'s frame`,
      );
    }
  }

  before(async () => {
    for (const deviceId of [1, 2]) {
      switches.push(await softswitch.start({ ports: [1, 2, 10], deviceId, pipeline: false }));
    }
    const config = loadDaemonConfig({
      stateDir: join(dir, "state"),
      socket: join(dir, "ctl.sock"),
      reconcileInterval: "0",
    });
    const { store, election } = await openReplica(config);
    replicaStore = store;
    daemon = new Daemon(config, store, election, pino({ level: "silent" }));
    await daemon.start();
    metrics = new DaemonMetrics(daemon, { countersIntervalMs: 1000 });
    const pki = new ThrowawayPki(dir);
    const server = pki.issue("server", "/CN=localhost", { server: true });
    operatorPem = pki.issue("operator", "/CN=web-test/OU=operator");
    api = await startApiServer({
      socketPath: config.socketPath,
      tls: {
        listen: "127.0.0.1:0",
        cert: readFileSync(server.cert),
        key: readFileSync(server.key),
        clientCa: readFileSync(pki.ca.cert),
      },
      routes: [...daemonRoutes(daemon), ...metricsRoutes(metrics), ...webRoutes()],
      logger: pino({ level: "silent" }),
    });
    const fabricFile = join(dir, "fabric.yaml");
    writeFileSync(fabricFile, fabricText(switches.map((s) => s.address)));
    const applied = await runCaptured(config.socketPath, "apply", "-f", fabricFile);
    assert.equal(applied.code, 0, `${applied.err}${applied.out}`);
    await traffic();
    // A GRE packet without key from leaf1's side: leaf2 drops it (gre_no_key, R1).
    const noKey = await scapy.frame(
      `Ether(src="02:00:00:00:0a:01", dst="02:00:00:00:0a:02")/IP(src="10.0.0.1", dst="10.0.0.2", flags="DF", proto=47)/GRE(proto=0x6558)/Ether()/IP()/UDP()`,
    );
    assert.deepEqual(await (switches[1] as DataplaneTarget).send(10, noKey), []);
    browser = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
      executablePath: chromiumPath,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      ignoreHTTPSErrors: true,
      clientCertificates: [
        {
          origin: `https://${api.tcpAddress}`,
          certPath: operatorPem.cert,
          keyPath: operatorPem.key,
        },
      ],
      viewport: { width: 1280, height: 1100 },
    });
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    metrics?.close();
    await daemon?.stop();
    await replicaStore?.close();
    for (const sw of switches) await sw.close();
    await scapy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("R15: every switch and every VSID with non-zero counters, drawn from live data; it updates itself", async () => {
    const page = await browser?.newPage();
    assert.ok(page);
    await page.goto(`https://${api?.tcpAddress}/`);
    /** (switch, VSID) of the counter rows showing packets, as the page has them now. */
    const rowsWithTraffic = async () => {
      const rows = page.locator("#counters tbody tr");
      const shown: string[] = [];
      for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        if (Number(await row.getAttribute("data-packets")) > 0) {
          shown.push(
            `${await row.getAttribute("data-switch")} ${await row.getAttribute("data-vsid")}`,
          );
        }
      }
      return shown.sort();
    };
    const expected = ["leaf1 0x005001", "leaf1 0x005002", "leaf2 0x005001", "leaf2 0x005002"];
    await until(async () => (await rowsWithTraffic()).length === expected.length, page);
    assert.deepEqual(await rowsWithTraffic(), expected);
    for (const name of ["leaf1", "leaf2"]) {
      assert.equal(await page.locator(`#map g[data-switch="${name}"]`).count(), 1);
      assert.equal(await page.locator(`#map g[data-switch="${name}"] circle.ok`).count(), 1);
      assert.equal(await page.locator(`#switches tr[data-switch="${name}"]`).count(), 1);
    }
    assert.equal(await page.locator("#map line.link").count(), 1, "the leaf1–leaf2 link");
    await until(
      async () =>
        (await page.locator('#drops tr[data-switch="leaf2"][data-reason="gre_no_key"]').count()) ===
        1,
      page,
    );
    assert.match((await page.locator("#summary").textContent()) ?? "", /2 of 2 switches in sync/);
    assert.ok((await page.locator("#events li").count()) > 0, "no recent events shown");

    // Another frame per VSID: the page shows the higher count without being reloaded.
    const leaf1Web = page.locator('#counters tr[data-switch="leaf1"][data-vsid="0x005001"]');
    const shown = Number(await leaf1Web.getAttribute("data-packets"));
    await traffic();
    await until(async () => Number(await leaf1Web.getAttribute("data-packets")) > shown, page);
    const screenshot = join(dir, "web-view.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    const copy = process.env.NVGRE_WEB_VIEW_SCREENSHOT;
    if (copy) copyFileSync(screenshot, copy);
  });
});
