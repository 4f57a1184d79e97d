/**
 * libpcap ports: the PORT@IFACE argument, the capture file format (read back by Scapy), and
 * interfaces that cannot be used. Frames through veth pairs: test/softswitch/cli.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CaptureWriter } from "../../softswitch/ports/capture.js";
import { InProcessPorts } from "../../softswitch/ports/in-process.js";
import { PcapPorts, PortError, parsePortInterface } from "../../softswitch/ports/pcap.js";
import { SimpleSwitch } from "../../softswitch/v1model/switch.js";
import { repoRoot } from "../../topologies/repo.js";
import { readCapture } from "../support/captures.js";

const l2Json = () => readFileSync(join(repoRoot, "test/fixtures/build/l2_switch.json"), "utf8");

describe("PORT@IFACE arguments", () => {
  it("parses bmv2's syntax", () => {
    assert.deepEqual(parsePortInterface("1@veth0"), { port: 1, iface: "veth0" });
    assert.deepEqual(parsePortInterface("511@s1-eth2"), { port: 511, iface: "s1-eth2" });
  });

  it("rejects malformed ones, naming the argument", () => {
    for (const bad of ["veth0", "1@", "@veth0", "x@veth0", "512@veth0", "1@name-far-too-long0"]) {
      assert.throws(
        () => parsePortInterface(bad),
        (e: unknown) => e instanceof PortError && e.message.includes(`"${bad}"`),
        bad,
      );
    }
  });
});

describe("capture files", () => {
  it("are pcap files Scapy reads back frame for frame", () => {
    const dir = mkdtempSync(join(tmpdir(), "capture-"));
    try {
      const path = join(dir, "x_out.pcap");
      const w = new CaptureWriter(path);
      const frames = [
        Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xb5]),
        new Uint8Array(60).fill(7),
      ];
      for (const f of frames) w.write(f);
      w.close();
      const read = readCapture(path);
      assert.equal(read.linktype, 1);
      assert.deepEqual(
        read.frames,
        frames.map((f) => Buffer.from(f).toString("hex")),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("libpcap ports", () => {
  it("refuse an interface that does not exist, naming it", () => {
    const sw = new SimpleSwitch(l2Json());
    assert.throws(
      () =>
        new PcapPorts({
          interfaces: [{ port: 1, iface: "nosuch0x" }],
          sink: new InProcessPorts(sw),
        }),
      (e: unknown) => e instanceof PortError && e.message.includes("nosuch0x"),
    );
  });

  it("refuse a port or interface given twice", () => {
    const sw = new SimpleSwitch(l2Json());
    assert.throws(
      () =>
        new PcapPorts({
          interfaces: [
            { port: 1, iface: "nosuch0a" },
            { port: 1, iface: "nosuch0b" },
          ],
          sink: new InProcessPorts(sw),
        }),
      /port 1: given more than once/,
    );
  });
});
