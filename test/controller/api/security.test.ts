/**
 * R17 (secure the control plane) for the daemon's API, with real processes: the daemon
 * (`nvgre-ctl run`) with its unix socket and its TCP listener (TLS, client certificates from a
 * CA `openssl` makes here), one softswitch to program. Refusals change nothing (the intent's
 * revision is read back) and are logged with the subject presented; a user created for the
 * test is refused on every door.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { peerUid } from "../../../controller/api/peer-credentials.js";
import { type Pem, ThrowawayPki } from "../../../topologies/pki.js";
import { startSoftswitch } from "../../../topologies/softswitch.js";
import type { RunningSwitch } from "../../../topologies/switch-process.js";
import { runCaptured } from "../../support/cli-capture.js";
import { cliMain, type DaemonProcess, startDaemon } from "./daemon-process.js";
import { call } from "./http.js";

/** One HTTPS request to the daemon's TCP listener, with `client`'s certificate (or none). */
function tcpCall(
  address: string,
  ca: string,
  client: Pem | undefined,
  method: string,
  path: string,
  body?: unknown,
) {
  return call({ address, ca, client }, method, path, body);
}

function fabricText(address: string): string {
  return `version: 1
name: api-security
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: 1 }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
tenants:
  - name: contoso
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
`;
}

const vsidAdd = { vsid: 0x5002, name: "db", tenant: "contoso" };

describe("R17: the API's doors: unix socket 0600 and TCP with client certificates only", () => {
  const dir = mkdtempSync(join(tmpdir(), "nvgre-api-security-"));
  const socket = join(dir, "ctl.sock");
  let pki: ThrowawayPki;
  let operator: Pem;
  let viewer: Pem;
  let noRole: Pem;
  let stranger: Pem;
  let sw: RunningSwitch | undefined;
  let daemon: DaemonProcess | undefined;
  let tcp = "";

  const revision = async () => {
    const answer = await tcpCall(tcp, pki.ca.cert, viewer, "GET", "/v1/intent");
    assert.equal(answer.status, 200, answer.body);
    return (JSON.parse(answer.body) as { revision: number }).revision;
  };

  before(async () => {
    // Others may traverse the directory: only the socket's own mode keeps them out.
    chmodSync(dir, 0o711);
    pki = new ThrowawayPki(dir);
    const server = pki.issue("server", "/CN=localhost", { server: true });
    operator = pki.issue("operator", "/CN=alice/OU=operator");
    viewer = pki.issue("viewer", "/CN=bob/OU=viewer");
    noRole = pki.issue("no-role", "/CN=carol/OU=finance");
    stranger = new ThrowawayPki(dir, "unknown").issue("stranger", "/CN=mallory/OU=operator");
    sw = await startSoftswitch({ deviceId: 1 });
    daemon = await startDaemon([
      ...["--state-dir", join(dir, "state"), "--socket", socket],
      ...["--reconcile-interval", "0", "--listen", "127.0.0.1:0"],
      ...["--listen-cert", server.cert, "--listen-key", server.key, "--client-ca", pki.ca.cert],
    ]);
    tcp = daemon.tcpAddress ?? "";
    const applied = await tcpCall(tcp, pki.ca.cert, operator, "POST", "/v1/apply", {
      text: fabricText(sw.address),
      source: "fabric.yaml",
    });
    assert.equal(applied.status, 200, applied.body);
    assert.match(applied.body, /"type":"result"/, applied.body);
  });

  after(async () => {
    await daemon?.stop();
    await sw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("R17: an operator certificate changes the intent, a viewer certificate reads it", async () => {
    const applied = await revision();
    assert.ok(applied > 0, "the apply made a revision");
    const added = await tcpCall(tcp, pki.ca.cert, operator, "POST", "/v1/vsids", vsidAdd);
    assert.equal(added.status, 200, added.body);
    assert.ok((await revision()) > applied, "the operator's change made a newer one");
    const status = await tcpCall(tcp, pki.ca.cert, viewer, "GET", "/v1/status");
    assert.equal(status.status, 200, status.body);
    assert.match(
      daemon?.log() ?? "",
      /"actor":"CN=alice,OU=operator".*"url":"\/v1\/vsids".*API change requested/,
    );
    // nvgre-ctl is the same thin client over TLS.
    const viaCli = await runCaptured(
      `https://${tcp}`,
      ...["--cert", operator.cert, "--key", operator.key, "--cacert", pki.ca.cert],
      ...["get", "vsids", "-o", "json"],
    );
    assert.equal(viaCli.code, 0, viaCli.err);
    assert.match(viaCli.out, /"name": "db"/);
    // On the unix socket the actor is the caller's uid (root here).
    const local = await runCaptured(
      socket,
      "vsid",
      "add",
      "0x5003",
      "--name",
      "cache",
      "--tenant",
      "contoso",
    );
    assert.equal(local.code, 0, local.err);
    for (
      let i = 0;
      i < 100 && !/"actor":"uid:0".*"url":"\/v1\/vsids"/.test(daemon?.log() ?? "");
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(daemon?.log() ?? "", /"actor":"uid:0".*"url":"\/v1\/vsids".*API change requested/);
  });

  test("R17: no certificate, an unknown CA, no role, a viewer changing → 401/403, nothing changed, logged", async () => {
    const before = await revision();
    const cases: { who: string; pem: Pem | undefined; status: number; logged: RegExp }[] = [
      { who: "no certificate", pem: undefined, status: 401, logged: /\(no certificate\)/ },
      { who: "unknown CA", pem: stranger, status: 401, logged: /CN=mallory,OU=operator/ },
      { who: "no role", pem: noRole, status: 403, logged: /CN=carol,OU=finance/ },
      { who: "viewer", pem: viewer, status: 403, logged: /CN=bob,OU=viewer/ },
    ];
    for (const { who, pem, status, logged } of cases) {
      const answer = await tcpCall(tcp, pki.ca.cert, pem, "DELETE", "/v1/vsids/0x5002", {});
      assert.equal(answer.status, status, `${who}: ${answer.body}`);
      const isLogged = (line: string) =>
        line.includes("API request refused") &&
        logged.test(line) &&
        line.includes(`"status":${status}`);
      // The log line comes through the daemon's stdout pipe, possibly after the answer.
      for (let i = 0; i < 100 && !(daemon?.log() ?? "").split("\n").some(isLogged); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(
        (daemon?.log() ?? "").split("\n").some(isLogged),
        `${who}: refusal not logged with its subject:\n${daemon?.log()}`,
      );
    }
    // Reads need a trusted certificate too.
    const read = await tcpCall(tcp, pki.ca.cert, stranger, "GET", "/v1/intent");
    assert.equal(read.status, 401, read.body);
    assert.equal(await revision(), before, "a refused request changed the intent");
  });

  test("R17: another local user is refused on the unix socket (0600) and on the TCP listener", async () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    const user = `nvgre-t${process.pid}`;
    execFileSync("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", user]);
    try {
      const before = await revision();
      const onSocket = spawnSync(
        "runuser",
        ["-u", user, "--", process.execPath, cliMain, "--socket", socket, "status"],
        { encoding: "utf8" },
      );
      assert.equal(onSocket.status, 3, onSocket.stderr);
      assert.match(onSocket.stderr, /permission denied/);
      // Over TCP the user has no certificate from our CA: every request is refused.
      const script = `
        const https = require("node:https");
        const ask = (method, path, body) => new Promise((resolve) => {
          const req = https.request({ host: "127.0.0.1", port: ${tcp.split(":")[1]}, path, method,
            rejectUnauthorized: false, headers: { "content-type": "application/json" } },
            (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); });
          req.on("error", (e) => resolve(e.code));
          req.end(body);
        });
        (async () => console.log(JSON.stringify([
          await ask("GET", "/v1/status"),
          await ask("POST", "/v1/vsids", ${JSON.stringify(JSON.stringify({ ...vsidAdd, vsid: 0x5003 }))}),
        ])))();`;
      const onTcp = spawnSync("runuser", ["-u", user, "--", process.execPath, "-e", script], {
        encoding: "utf8",
      });
      assert.deepEqual(JSON.parse(onTcp.stdout), [401, 401], onTcp.stderr);
      assert.equal(await revision(), before);

      // A daemon run by another user names its socket's callers by uid (the kernel's peer).
      const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
      const open = join(dir, "open.sock");
      const server = createServer((connection) => {
        // The caller holds its connection open until told otherwise (or its own time runs out).
        void peerUid(connection).then((found) => connection.end(`${found}\n`));
      });
      await new Promise<void>((resolve) => server.listen(open, () => resolve()));
      chmodSync(open, 0o666);
      try {
        // Asynchronously: this process's server must answer while the caller waits.
        const answer = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
          execFile(
            "runuser",
            [
              ...["-u", user, "--", process.execPath, "-e"],
              `const s = require("node:net").connect(${JSON.stringify(open)});
               let text = ""; s.on("data", (d) => { text += d; });
               s.on("close", () => { console.log(text.trim()); process.exit(0); });
               setTimeout(() => process.exit(1), 10000);`,
            ],
            { encoding: "utf8", timeout: 20_000 },
            (_error, stdout, stderr) => resolve({ stdout, stderr }),
          );
        });
        assert.equal(answer.stdout.trim(), String(uid), answer.stderr);
      } finally {
        server.close();
      }
    } finally {
      execFileSync("userdel", [user]);
    }
  });
});
