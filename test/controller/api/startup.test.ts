/**
 * A daemon is whole or gone (issue 16): every start-up failure — the socket another daemon
 * answers on, a TCP address that cannot be bound, a config that cannot be used — ends
 * `nvgre-ctl run` with a non-zero status before it opens a connection to any switch. The
 * switch here is a TCP listener that counts connections; the stored intent names it, so a
 * daemon that got as far as its switches would connect to it (the last case shows it does).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { compileFabric } from "../../../controller/compile/compile.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { ThrowawayPki } from "../../../topologies/pki.js";
import { spawnDaemon } from "./daemon-process.js";

function listen(server: Server, where: string | number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    };
    if (typeof where === "string") server.listen(where, done);
    else server.listen(where, "127.0.0.1", done);
  });
}

describe("a daemon is whole or gone: start-up failures exit non-zero before any switch is touched", () => {
  const dir = mkdtempSync(join(tmpdir(), "nvgre-startup-"));
  const socket = join(dir, "ctl.sock");
  const stateDir = join(dir, "state");
  let switchConnections = 0;
  const fakeSwitch = createServer((connection) => {
    switchConnections++;
    connection.destroy();
  });
  const servers: Server[] = [fakeSwitch];
  let tls: string[] = [];

  before(async () => {
    const port = await listen(fakeSwitch, 0);
    const text = `version: 1
name: startup
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "127.0.0.1:${port}", deviceId: 1 }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
tenants:
  - name: contoso
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
`;
    const loaded = loadFabricText(text);
    const compiled = compileFabric(loaded.fabric, loadNvgrePipeline().index);
    // The daemon's switch, stored as a daemon of the previous version left it (imported at start).
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      join(stateDir, "intent.json"),
      JSON.stringify({ revision: 1, document: loaded.document, allocations: compiled.allocations }),
    );
    const pki = new ThrowawayPki(dir);
    const server = pki.issue("server", "/CN=localhost", { server: true });
    tls = ["--listen-cert", server.cert, "--listen-key", server.key, "--client-ca", pki.ca.cert];
  });

  after(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ["--state-dir", stateDir, "--socket", socket, "--reconcile-interval", "0"];

  async function expectRefused(args: string[], message: RegExp): Promise<void> {
    const result = await spawnDaemon(args);
    if ("running" in result) {
      await result.running.stop();
      assert.fail(`the daemon started:\n${result.running.log()}`);
    }
    assert.notEqual(result.exited, 0, result.log);
    assert.match(result.log, message);
    assert.equal(switchConnections, 0, "the refused daemon connected to the switch");
  }

  test("the socket another daemon answers on: exit 1, the switch never contacted", async () => {
    const other = createServer((connection) => connection.destroy());
    servers.push(other);
    await listen(other, socket);
    await expectRefused(base(), /another daemon is already listening on/);
    await new Promise((resolve) => other.close(resolve));
  });

  test("a TCP address that cannot be bound: exit 1, its unix socket removed again", async () => {
    const busy = createServer();
    servers.push(busy);
    const port = await listen(busy, 0);
    await expectRefused(
      [...base(), "--listen", `127.0.0.1:${port}`, ...tls],
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`),
    );
    assert.equal(existsSync(socket), false, "the socket of a daemon that did not start is left");
    await expectRefused(
      [...base(), "--listen", "192.0.2.1:9701", ...tls],
      /cannot listen on 192\.0\.2\.1:9701: EADDRNOTAVAIL/,
    );
  });

  test("bad config: a TCP listener without TLS, a certificate that is not one, an unknown setting", async () => {
    await expectRefused([...base(), "--listen", "127.0.0.1:9701"], /needs listenTls/);
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "not a certificate\n");
    const badTls = [...tls];
    badTls[1] = notPem;
    await expectRefused([...base(), "--listen", "127.0.0.1:0", ...badTls], /PEM|certificate/i);
    const config = join(dir, "daemon.yaml");
    writeFileSync(config, "colour: blue\n");
    await expectRefused([...base(), "--config", config], /daemon\.yaml: .*colour/);
  });

  test("the same daemon without the fault starts and does reach the switch", async () => {
    const result = await spawnDaemon([...base(), "--listen", "127.0.0.1:0", ...tls]);
    assert.ok("running" in result, "log" in result ? result.log : "");
    try {
      for (let i = 0; i < 200 && switchConnections === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.ok(switchConnections > 0, "the daemon never contacted its switch");
    } finally {
      await result.running.stop();
    }
  });
});
