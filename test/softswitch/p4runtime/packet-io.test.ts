/**
 * StreamChannel traffic: PacketOut into the pipeline through the CPU port, PacketIn with its
 * @controller_header metadata (to-CPU actions and clones to the CPU port), digests with their
 * ack. The shared cases use only packet-outs, so they run the same on a bmv2 started without
 * interfaces (skipped, naming it, where bmv2 is absent); the softswitch cases also inject frames
 * on data ports, among them the NVGRE program's VSID 0xFFFFFF punt (R6).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import type { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { PacketIoCodec } from "../../../controller/p4rt/packet-io.js";
import { forwardingPipelineConfig, type Pipeline } from "../../../controller/p4rt/pipeline.js";
import type { DigestList__Output } from "../../../proto/gen/p4/v1/DigestList.js";
import type { IdleTimeoutNotification__Output } from "../../../proto/gen/p4/v1/IdleTimeoutNotification.js";
import type { PacketIn__Output } from "../../../proto/gen/p4/v1/PacketIn.js";
import type { StreamError__Output } from "../../../proto/gen/p4/v1/StreamError.js";
import type { Update } from "../../../proto/gen/p4/v1/Update.js";
import type { PortBackend } from "../../../softswitch/device.js";
import { PA4, SPINE_MAC, SWITCH_MAC } from "../../../topologies/leaf.js";
import { py, Scapy } from "../../../topologies/scapy.js";
import {
  CPU_PORT,
  client,
  fixturePipeline,
  type RunningTarget,
  softswitchTarget,
  targets,
} from "./targets.js";

/**
 * The next events of a kind until `count` of them, each weighing `weight` (1 each by default),
 * have come; fails, rather than hangs, if they never come.
 */
function next<T>(
  c: P4RuntimeClient,
  event: "packet-in" | "digest" | "stream-error" | "idle-timeout",
  count = 1,
  weight: (item: T) => number = () => 1,
) {
  return new Promise<T[]>((resolve, reject) => {
    const got: T[] = [];
    let total = 0;
    const timer = setTimeout(() => reject(new Error(`no ${event} within 5 s`)), 5000);
    const listener = (item: T) => {
      got.push(item);
      total += weight(item);
      if (total < count) return;
      clearTimeout(timer);
      c.off(event, listener as never);
      resolve(got);
    };
    c.on(event, listener as never);
  });
}

const mac = (last: number) => `00:00:00:00:00:${last.toString(16).padStart(2, "0")}`;

/** An Ethernet frame (no IPv4, so the fixture's l2 table decides) built from its fields. */
function ethernet(dst: number, src: number): Buffer {
  return Buffer.from(
    `0000000000${dst.toString(16).padStart(2, "0")}0000000000${src
      .toString(16)
      .padStart(2, "0")}88b5c0ffee`,
    "hex",
  );
}

const insert = (entity: Update["entity"]): Update => ({ type: "INSERT", entity });

for (const target of targets) {
  describe(`P4Runtime packet I/O and digests (${target.name})`, () => {
    const skip = target.skip;
    let running: RunningTarget;
    let c: P4RuntimeClient;
    let pipeline: Pipeline;
    let b: EntityBuilder;
    let io: PacketIoCodec;
    /** Sends a frame from the controller; `through` runs it through the fixture's tables. */
    const packetOut = (frame: Buffer, through: boolean, egressPort = 0) =>
      c.packetOut(
        frame,
        io.packetOutMetadata({ egress_port: egressPort, through_pipeline: through ? 1 : 0 }),
      );

    before(async () => {
      if (skip) return;
      running = await target.start();
      c = client(running, 1n);
      await c.connect();
      pipeline = fixturePipeline();
      b = new EntityBuilder(pipeline.index);
      io = new PacketIoCodec(pipeline.index);
      await c.setPipeline(forwardingPipelineConfig(pipeline));
    });
    after(async () => {
      c?.close();
      await running?.stop();
    });

    test("a PacketOut to the CPU port comes back as a PacketIn, header stripped into metadata", {
      skip,
    }, async () => {
      const frame = ethernet(0x99, 0x01);
      const arrived = next<PacketIn__Output>(c, "packet-in");
      packetOut(frame, false, CPU_PORT);
      const [packet] = await arrived;
      assert.deepEqual(io.decodePacketIn(packet as PacketIn__Output), {
        payload: frame,
        metadata: { ingress_port: BigInt(CPU_PORT), _pad: 0n, reason: 0n },
      });
    });

    test("a frame the program sends to the CPU arrives with the reason the action gave", {
      skip,
    }, async () => {
      await c.write([
        insert(
          b.tableEntry("l2", {
            match: { "hdr.ethernet.dst": mac(0x42) },
            target: { action: "to_cpu", params: { reason: 0x4242 } },
          }),
        ),
      ]);
      const frame = ethernet(0x42, 0x01);
      const arrived = next<PacketIn__Output>(c, "packet-in");
      packetOut(frame, true);
      const [packet] = await arrived;
      assert.deepEqual(io.decodePacketIn(packet as PacketIn__Output), {
        payload: frame,
        metadata: { ingress_port: BigInt(CPU_PORT), _pad: 0n, reason: 0x4242n },
      });
    });

    test("a clone session to the CPU port delivers the copy as a PacketIn", { skip }, async () => {
      await c.write([
        insert(b.cloneSession(100, [{ port: CPU_PORT, instance: 0 }])),
        insert(
          b.tableEntry("mirror_by_port", {
            match: { "std.ingress_port": CPU_PORT },
            target: { action: "mirror", params: { session: 100 } },
          }),
        ),
        insert(
          b.tableEntry("l2", {
            match: { "hdr.ethernet.dst": mac(0x43) },
            target: { action: "forward", params: { port: 2 } },
          }),
        ),
      ]);
      const frame = ethernet(0x43, 0x01);
      const arrived = next<PacketIn__Output>(c, "packet-in");
      packetOut(frame, true);
      const [packet] = await arrived;
      const decoded = io.decodePacketIn(packet as PacketIn__Output);
      assert.deepEqual(decoded.payload, frame);
      assert.equal(decoded.metadata.reason, 0xc10en, "the egress control saw an ingress clone");
      await c.write([
        {
          type: "DELETE",
          entity: b.tableEntry("mirror_by_port", {
            match: { "std.ingress_port": CPU_PORT },
            target: { action: "mirror", params: { session: 100 } },
          }),
        },
      ]);
    });

    test("digests arrive once configured; a sample waits for its list's ack before coming again", {
      skip,
    }, async () => {
      await c.write([
        insert(
          b.tableEntry("l2", {
            match: { "hdr.ethernet.dst": mac(0x44) },
            target: { action: "learn" },
          }),
        ),
        insert(b.digestEntry("learn_t", { maxTimeoutNs: 0, maxListSize: 1, ackTimeoutNs: 10e9 })),
      ]);
      const samples = (list: DigestList__Output) => io.decodeDigestList(list).samples;
      const first = next<DigestList__Output>(c, "digest");
      packetOut(ethernet(0x44, 0x0a), true);
      const [listA] = await first;
      assert.deepEqual(samples(listA as DigestList__Output), [
        { src: 0x0an, port: BigInt(CPU_PORT) },
      ]);

      // The same sample again is held back (unacked); another one goes out in the next list.
      const second = next<DigestList__Output>(c, "digest");
      packetOut(ethernet(0x44, 0x0a), true);
      packetOut(ethernet(0x44, 0x0b), true);
      const [listB] = await second;
      assert.deepEqual(samples(listB as DigestList__Output), [
        { src: 0x0bn, port: BigInt(CPU_PORT) },
      ]);
      assert.notEqual(listB?.list_id, listA?.list_id);

      // Acked, the first sample may be learned again.
      c.ackDigest(listA?.digest_id ?? 0, listA?.list_id ?? "");
      // PI applies an ack later, from its digest task queue, reading the stream's last message:
      // a stream message sent before that would replace the ack. A read of the digest entry
      // waits for that queue, so the ack is done when it returns.
      await c.readAll([
        b.digestEntry("learn_t", { maxTimeoutNs: 0, maxListSize: 1, ackTimeoutNs: 0 }),
      ]);
      const third = next<DigestList__Output>(c, "digest");
      packetOut(ethernet(0x44, 0x0a), true);
      const [listC] = await third;
      assert.deepEqual(samples(listC as DigestList__Output), [
        { src: 0x0an, port: BigInt(CPU_PORT) },
      ]);

      // With room for 10 samples, a list goes out when max_timeout_ns has passed.
      await c.write([
        {
          type: "MODIFY",
          entity: b.digestEntry("learn_t", {
            maxTimeoutNs: 100e6,
            maxListSize: 10,
            ackTimeoutNs: 10e9,
          }),
        },
      ]);
      // Usually one list holds both samples; on a loaded machine the second packet may reach
      // the switch after the first list's timer fired, so the samples are gathered over the
      // lists that come. Every list is the timer's: none reaches the 10 samples that would
      // send it sooner.
      const timed = next<DigestList__Output>(c, "digest", 2, (list) => samples(list).length);
      packetOut(ethernet(0x44, 0x0c), true);
      packetOut(ethernet(0x44, 0x0d), true);
      assert.deepEqual((await timed).flatMap(samples), [
        { src: 0x0cn, port: BigInt(CPU_PORT) },
        { src: 0x0dn, port: BigInt(CPU_PORT) },
      ]);
    });

    test("an entry idle for its idle_timeout_ns is reported with its key and metadata", {
      skip,
    }, async () => {
      const ageing = {
        ...b.tableEntry("l2", {
          match: { "hdr.ethernet.dst": mac(0x60) },
          target: { action: "drop" },
          idleTimeoutNs: 200e6,
        }),
      };
      (ageing.table_entry as { controller_metadata?: string }).controller_metadata = "77";
      const forever = b.tableEntry("l2", {
        match: { "hdr.ethernet.dst": mac(0x61) },
        target: { action: "drop" },
      });
      const notice = next<IdleTimeoutNotification__Output>(c, "idle-timeout");
      await c.write([insert(ageing), insert(forever)]);
      const [n] = await notice;
      const reported = n?.table_entry.map((e) => ({
        key: e.match[0]?.exact?.value.toString("hex"),
        controller_metadata: e.controller_metadata,
        idle_timeout_ns: e.idle_timeout_ns,
      }));
      assert.deepEqual(reported, [
        { key: "60", controller_metadata: "77", idle_timeout_ns: "200000000" },
      ]);
      const [entry] = await c.readAll([
        {
          table_entry: {
            ...forever.table_entry,
            action: null,
            time_since_last_hit: {},
          },
        },
      ]);
      assert.ok(entry?.table_entry?.time_since_last_hit, "time_since_last_hit is returned");
      await c.write([
        { type: "DELETE", entity: ageing },
        { type: "DELETE", entity: forever },
      ]);
    });
  });
}

describe("P4Runtime packet I/O, softswitch only", () => {
  let running: RunningTarget;
  let c: P4RuntimeClient;
  let scapy: Scapy;
  const sent: { port: number; frame: Uint8Array }[] = [];
  const backend: PortBackend = { send: (port, frame) => sent.push({ port, frame }) };

  before(async () => {
    running = await softswitchTarget.start();
    running.device?.attach(backend);
    c = client(running, 1n);
    await c.connect();
    scapy = new Scapy();
  });
  after(async () => {
    c.close();
    await scapy.close();
    await running.stop();
  });

  test("frames on data ports: forwarded ones reach the backend, punted ones the controller", async () => {
    const pipeline = fixturePipeline();
    const b = new EntityBuilder(pipeline.index);
    const io = new PacketIoCodec(pipeline.index);
    await c.setPipeline(forwardingPipelineConfig(pipeline));
    await c.write([
      insert(
        b.tableEntry("l2", {
          match: { "hdr.ethernet.dst": mac(0x50) },
          target: { action: "forward", params: { port: 3 } },
        }),
      ),
      insert(
        b.tableEntry("l2", {
          match: { "hdr.ethernet.dst": mac(0x51) },
          target: { action: "to_cpu", params: { reason: 7 } },
        }),
      ),
    ]);
    const device = running.device;
    assert.ok(device);
    const forwarded = ethernet(0x50, 0x01);
    const out = device
      .inject(1, forwarded)
      .map((o) => ({ port: o.port, frame: Buffer.from(o.frame) }));
    assert.deepEqual(out, [{ port: 3, frame: forwarded }]);
    assert.deepEqual(
      sent.map((o) => ({ port: o.port, frame: Buffer.from(o.frame) })),
      [{ port: 3, frame: forwarded }],
    );

    const punted = ethernet(0x51, 0x01);
    const arrived = next<PacketIn__Output>(c, "packet-in");
    assert.deepEqual(device.inject(6, punted), [], "nothing leaves a data port");
    const [packet] = await arrived;
    assert.deepEqual(io.decodePacketIn(packet as PacketIn__Output), {
      payload: punted,
      metadata: { ingress_port: 6n, _pad: 0n, reason: 7n },
    });
  });

  test("a PacketOut with egress_port set leaves on that data port", async () => {
    const pipeline = fixturePipeline();
    await c.setPipeline(forwardingPipelineConfig(pipeline));
    const io = new PacketIoCodec(pipeline.index);
    const frame = ethernet(0x52, 0x01);
    sent.length = 0;
    c.packetOut(frame, io.packetOutMetadata({ egress_port: 4, through_pipeline: 0 }));
    const deadline = Date.now() + 5000;
    while (sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      sent.map((o) => ({ port: o.port, frame: Buffer.from(o.frame) })),
      [{ port: 4, frame }],
    );
  });

  test("a PacketOut with an unknown metadata id is refused with a StreamError", async () => {
    const error = next<StreamError__Output>(c, "stream-error");
    c.packetOut(Buffer.from("00", "hex"), [{ metadata_id: 99, value: Buffer.from([1]) }]);
    const [e] = await error;
    assert.equal(e?.canonical_code, grpc.status.INVALID_ARGUMENT);
    assert.match(e?.message ?? "", /Unknown metadata id in PacketOut message/);
  });

  test("R6: NVGRE with VSID 0xFFFFFF is punted as received, with its punt reason", async () => {
    const nvgre = loadNvgrePipeline();
    const b = new EntityBuilder(nvgre.index);
    const io = new PacketIoCodec(nvgre.index);
    await c.setPipeline(forwardingPipelineConfig(nvgre));
    await c.write([
      {
        type: "MODIFY",
        entity: b.defaultEntry("switch_config", {
          action: "set_switch_config",
          params: { encap_ttl: 64, punt_vsid_ffffff: 1 },
        }),
      },
      insert(
        b.tableEntry("port_type", { match: { port: 1 }, target: { action: "set_port_fabric" } }),
      ),
      insert(
        b.tableEntry("my_mac", {
          match: { dst_mac: { value: SWITCH_MAC, mask: "ff:ff:ff:ff:ff:ff" } },
          target: { action: "set_my_mac" },
          priority: 1,
        }),
      ),
      insert(
        b.tableEntry("local_pa_v4", { match: { pa: PA4 }, target: { action: "set_local_pa" } }),
      ),
    ]);
    const frame = await scapy.frame(
      `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, "198.51.100.9", ${py(PA4)}, 0xFFFFFF, 0, ` +
        `Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2") / UDP())`,
    );
    const arrived = next<PacketIn__Output>(c, "packet-in");
    assert.deepEqual(running.device?.inject(1, frame), []);
    const [packet] = await arrived;
    const decoded = io.decodePacketIn(packet as PacketIn__Output);
    assert.deepEqual(decoded.payload, frame);
    assert.equal(decoded.metadata.ingress_port, 1n);
    assert.equal(decoded.metadata.punt_reason, 2n, "PuntReason_t.VSID_FFFFFF");
  });
});
