/**
 * The `softswitch` bin end to end: bad arguments (exit 2, the argument named); start with the
 * NVGRE JSON on a free port, programmed through the project's P4Runtime client, clean exit on
 * SIGTERM; and in a test namespace with veth ports (skipped, saying why, when namespaces cannot
 * be made): a frame in on one port comes out of the other, and --pcap captures both.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadNvgrePipeline, nvgreBuild } from "../../controller/nvgre-build.js";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { EntityBuilder } from "../../controller/p4rt/entities.js";
import { forwardingPipelineConfig, loadPipeline } from "../../controller/p4rt/pipeline.js";
import { freePort } from "../../topologies/free-port.js";
import { JsonLinesProcess } from "../../topologies/json-lines.js";
import { TestNamespace } from "../../topologies/netns.js";
import { repoRoot } from "../../topologies/repo.js";
import { debianPython, Scapy } from "../../topologies/scapy.js";
import { softswitchCli } from "../../topologies/softswitch.js";
import { readCapture } from "../support/captures.js";

const l2Build = {
  json: join(repoRoot, "test/fixtures/build/l2_switch.json"),
  p4info: join(repoRoot, "test/fixtures/build/l2_switch.p4info.bin"),
};

/** The bin as a child process whose exit status and output the test reads. */
class CliProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (d) => {
      this.output += d;
    });
    this.child.stderr?.on("data", (d) => {
      this.output += d;
    });
    this.exit = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  /** Waits until a log line has this message (the server is up, ...). */
  async waitFor(message: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(`"msg":"${message}"`)) {
      if (this.child.exitCode !== null) throw new Error(`softswitch exited:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no "${message}" in:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM, then SIGKILL if it does not exit (a failing test must not leave it running). */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      const result = await this.exit;
      clearTimeout(killer);
      return result;
    }
    return this.exit;
  }
}

function runBin(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [softswitchCli, ...args], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe("softswitch CLI arguments", () => {
  const cases: [string[], RegExp][] = [
    [["--cpu-port", "600", "--no-p4"], /--cpu-port.*'600' is invalid/],
    [["--device-id", "-3", "--no-p4"], /--device-id.*'-3' is invalid/],
    [["-i", "eth0", "--no-p4"], /--interface.*interface "eth0": expected PORT@IFACE/],
    [["--grpc-server-addr", "nowhere", "--no-p4"], /--grpc-server-addr.*'nowhere' is invalid/],
    [["--log-level", "loud", "--no-p4"], /--log-level.*'loud' is invalid/],
    [[], /missing JSON program/],
    [[nvgreBuild.json, "--no-p4"], /either a JSON program or --no-p4/],
    [["--no-p4", "--grpc-server-cert", "c.pem"], /need --grpc-server-ssl/],
    [["--no-p4", "--grpc-server-ssl", "--grpc-server-key", "k.pem"], /needs --grpc-server-cert/],
    [["--no-p4", "--cpu-port", "5", "-i", "5@veth0"], /5@veth0: port 5 is the --cpu-port/],
    [["--no-p4", "--bogus"], /unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    it(`exits 2 naming the problem: ${args.join(" ") || "(no arguments)"}`, () => {
      const r = runBin(args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it("exits 1 naming a JSON program it cannot read", () => {
    const r = runBin(["/nonexistent/prog.json"]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /JSON program \/nonexistent\/prog\.json/);
  });
});

describe("softswitch CLI on loopback", () => {
  it("serves the NVGRE program, takes the pipeline from the client, exits 0 on SIGTERM", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const cli = new CliProcess(process.execPath, [
      softswitchCli,
      "--device-id",
      "3",
      "--grpc-server-addr",
      address,
      "--cpu-port",
      "510",
      nvgreBuild.json,
    ]);
    const client = new P4RuntimeClient({ address, deviceId: 3, electionId: 1n, reconnect: false });
    try {
      await cli.waitFor("P4Runtime server listening");
      const arbitration = await client.connect();
      assert.equal(arbitration.primary, true);
      const pipeline = loadNvgrePipeline();
      await client.setPipeline(forwardingPipelineConfig(pipeline));
      assert.equal(await client.pipelineCookie(), pipeline.cookie);
      client.close();
      const result = await cli.stop();
      assert.deepEqual(result, { code: 0, signal: null }, cli.output);
      assert.match(cli.output, /"msg":"stopped"/);
    } finally {
      client.close();
      await cli.stop();
    }
  });
});

describe("softswitch CLI with veth ports in a namespace", () => {
  const skip =
    process.getuid?.() === 0 ? false : "needs root to create a network namespace and veth pairs";
  let netns: TestNamespace | undefined;
  let cli: CliProcess | undefined;
  let agent: JsonLinesProcess | undefined;
  let client: P4RuntimeClient | undefined;
  const scapy = new Scapy();
  const captureDir = mkdtempSync(join(tmpdir(), "softswitch-pcap-"));

  before(() => {
    if (skip) return;
    netns = TestNamespace.create([1, 2]);
  });

  after(async () => {
    client?.close();
    await agent?.close();
    await cli?.stop();
    netns?.remove();
    await scapy.close();
    rmSync(captureDir, { recursive: true, force: true });
  });

  it("forwards a frame from port 1 to port 2 and captures it in and out", { skip }, async () => {
    const ns = netns as TestNamespace;
    const socket = join(tmpdir(), `${ns.name}.softswitch.sock`);
    const address = `unix:${socket}`;
    const run = ns.exec(process.execPath, [
      softswitchCli,
      "--grpc-server-addr",
      address,
      "-i",
      `1@${ns.switchIface(1)}`,
      "-i",
      `2@${ns.switchIface(2)}`,
      "--pcap",
      captureDir,
      l2Build.json,
    ]);
    cli = new CliProcess(run.command, run.args);
    await cli.waitFor("P4Runtime server listening");

    client = new P4RuntimeClient({ address, deviceId: 0, electionId: 1n, reconnect: false });
    await client.connect();
    const pipeline = loadPipeline(l2Build);
    await client.setPipeline(forwardingPipelineConfig(pipeline));
    const entities = new EntityBuilder(pipeline.index);
    await client.write([
      {
        type: "INSERT",
        entity: entities.tableEntry("L2Ingress.mac_table", {
          match: { "hdr.ethernet.dst": 0x0000000000bbn },
          target: { action: "L2Ingress.forward", params: { port: 2 } },
        }),
      },
    ]);

    const agentRun = ns.exec(debianPython, [
      join(repoRoot, "test/support/port_agent.py"),
      `1=${ns.hostIface(1)}`,
      `2=${ns.hostIface(2)}`,
    ]);
    agent = new JsonLinesProcess("port agent", agentRun.command, agentRun.args);
    await agent.request({ op: "hello" });
    const [frame] = await scapy.frames([
      "Ether(dst='00:00:00:00:00:bb', src='00:00:00:00:00:aa')/IP(src='10.0.0.1', dst='10.0.0.2')/UDP(sport=1234, dport=5678)/Raw(b'softswitch')",
    ]);
    const hex = (frame as Buffer).toString("hex");
    const answer = await agent.request<{ out: { port: number; frame: string }[] }>({
      op: "send",
      port: 1,
      frames: [hex],
      quiet_ms: 300,
      gap_us: 0,
    });
    assert.deepEqual(answer.out, [{ port: 2, frame: hex }]);

    const result = await cli.stop();
    assert.deepEqual(result, { code: 0, signal: null }, cli.output);
    const captured = (iface: string, dir: "in" | "out") =>
      readCapture(join(captureDir, `${iface}_${dir}.pcap`)).frames;
    assert.deepEqual(captured(ns.switchIface(1), "in"), [hex]);
    assert.deepEqual(captured(ns.switchIface(1), "out"), []);
    assert.deepEqual(captured(ns.switchIface(2), "in"), []);
    assert.deepEqual(captured(ns.switchIface(2), "out"), [hex]);
    rmSync(socket, { force: true });
  });
});
