/**
 * The daemon's packet I/O against a real switch with data ports (bmv2 in a network namespace,
 * test/support/targets.ts): an oversized DF packet toward a tunnel is answered with ICMP
 * frag-needed out of the port it came in on (R12); a new source MAC is learned into the intent
 * and then forwarded to, not flooded; NVGRE with VSID 0xFFFFFF is logged (R6); pings of the
 * switch's own PAs (IPv4 and IPv6) are answered with echo replies. Frames in and
 * expected frames out are built by Scapy. Skipped, naming the reason, without bmv2.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { py, Scapy } from "../../../topologies/scapy.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "./daemon-on-target.js";
import type { P4RuntimeRecorder } from "./p4runtime-recorder.js";

const web1 = { mac: "02:00:00:00:01:01", ip: "10.1.1.10" };
const web2 = { mac: "02:00:00:00:01:02", ip: "10.1.1.11" };
const stranger = "02:00:00:00:00:09";
const leafMac = "02:00:00:00:0a:01";
const hv1 = { mac: "02:00:00:00:10:05", pa: "10.0.1.5" };

/** leaf1: access ports 1 and 2 in VSID 0x5001 (local learning), port 3 to hypervisor hv1 (MTU 1280). */
function fabricText(address: string, deviceId: number): string {
  return `settings: { tenantMtu: 1200 }
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "${leafMac}"
    providerAddresses: [10.0.0.1, "2001:db8:a::1"]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 3, kind: fabric, mtu: 1280 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso, sourceGuard: false, learning: { local: true } }
nves:
  - { name: hv1, providerAddresses: [${hv1.pa}], attachment: { switch: leaf1, port: 3, mac: "${hv1.mac}" } }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "${web1.mac}", ips: [${web1.ip}], location: { switch: leaf1, port: 1 } }
  - { name: web-2, vsid: 0x5001, mac: "${web2.mac}", ips: [${web2.ip}], location: { nve: hv1 } }
`;
}

for (const factory of targets()) {
  describe(`daemon packet I/O on ${factory.kind}`, () => {
    const { skip } = factory;
    const scapy = new Scapy();
    const harness = daemonOnTarget(factory, { ports: [1, 2, 3], fabric: fabricText });
    const cli = (...args: string[]) => harness.cli(...args);
    const eventMatching = (kind: string, pattern: RegExp) => harness.eventMatching(kind, pattern);

    after(() => scapy.close());

    test("R12 an oversized DF packet toward a tunnel: ICMP frag-needed (MTU 1280 − 42) back out of its port", {
      skip,
    }, async () => {
      const tenant = `Ether(src=${py(web1.mac)}, dst=${py(web2.mac)}) / IP(src=${py(web1.ip)}, dst=${py(web2.ip)}, flags="DF", id=99) / UDP(sport=4000, dport=4001) / Raw(b"m" * 1400)`;
      const [frame, expected] = await scapy.frames([
        tenant,
        `Ether(src=${py(web2.mac)}, dst=${py(web1.mac)}) / IP(src=${py(web2.ip)}, dst=${py(web1.ip)}, ttl=64, id=0, flags="DF") / ICMP(type=3, code=4, nexthopmtu=1238) / Raw(bytes((${tenant})[IP])[:548])`,
      ]);
      const outputs = await harness.target.send(1, frame as Buffer);
      const answer = outputs.find((o) => o.port === 1);
      assert.ok(answer, `no answer on port 1; out: ${JSON.stringify(outputs.map((o) => o.port))}`);
      assert.equal(answer.frame.toString("hex"), expected?.toString("hex"));
      assert.equal(
        outputs.filter((o) => o.port === 3).length,
        0,
        "the packet itself never left (R12: not fragmented)",
      );
      const event = await eventMatching(
        "punt",
        /frag-needed MTU 1238 sent to 10\.1\.1\.10 on port 1/,
      );
      assert.ok(event, "the punt is recorded as an event");
    });

    test("a new source MAC is learned into the intent (marked learned) and then forwarded to, not flooded", {
      skip,
    }, async () => {
      const [fromStranger, toStranger] = await scapy.frames([
        `Ether(src=${py(stranger)}, dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=${py(stranger)}, psrc="10.1.1.99", pdst=${py(web1.ip)})`,
        `Ether(src=${py(web1.mac)}, dst=${py(stranger)}) / IP(src=${py(web1.ip)}, dst="10.1.1.99") / UDP() / Raw(b"hi")`,
      ]);
      await harness.target.send(2, fromStranger as Buffer);
      const learned = await eventMatching(
        "learning",
        /learned 02:00:00:00:00:09 in VSID 0x5001 at leaf1:2/,
      );
      assert.ok(learned, JSON.stringify(harness.daemon?.events.since(0).slice(-5)));
      const endpoints = JSON.parse((await cli("get", "endpoints", "-o", "json")).out) as {
        name: string;
        location: string;
        learned: boolean;
      }[];
      assert.deepEqual(
        endpoints.find((e) => e.name === "learned-5001-020000000009"),
        {
          name: "learned-5001-020000000009",
          vsid: 0x5001,
          mac: stranger,
          ips: [],
          location: "leaf1:2",
          learned: true,
        },
      );
      const outputs = await harness.target.send(1, toStranger as Buffer);
      assert.deepEqual(
        outputs.map((o) => [o.port, o.frame.toString("hex")]),
        [[2, (toStranger as Buffer).toString("hex")]],
        "bridged to the learned port only",
      );
    });

    test("R6 NVGRE with VSID 0xFFFFFF is logged, naming the sender's PA", { skip }, async () => {
      const [vendor] = await scapy.frames([
        `nvgre4(${py(hv1.mac)}, ${py(leafMac)}, ${py(hv1.pa)}, "10.0.0.1", 0xFFFFFF, 7, Ether(src=${py(web2.mac)}, dst=${py(web1.mac)}) / Raw(b"v" * 46))`,
      ]);
      const outputs = await harness.target.send(3, vendor as Buffer);
      assert.deepEqual(outputs, [], "nothing forwarded");
      const event = await eventMatching(
        "punt",
        /VSID 0xFFFFFF packet from 10\.0\.1\.5 on port 3 \(flow 7/,
      );
      assert.equal(event?.level, "warn");
    });

    test("pings of the switch's own PAs (IPv4 and IPv6) from the fabric: echo replies out of the port they came in on", {
      skip,
    }, async () => {
      const [ping4, reply4, ping6, reply6] = await scapy.frames([
        `Ether(src=${py(hv1.mac)}, dst=${py(leafMac)}) / IP(src=${py(hv1.pa)}, dst="10.0.0.1", ttl=64, id=4242) / ICMP(type=8, id=0x77, seq=1) / Raw(b"underlay-check" * 4)`,
        `Ether(src=${py(leafMac)}, dst=${py(hv1.mac)}) / IP(src="10.0.0.1", dst=${py(hv1.pa)}, ttl=64, id=0, flags="DF") / ICMP(type=0, id=0x77, seq=1) / Raw(b"underlay-check" * 4)`,
        `Ether(src=${py(hv1.mac)}, dst=${py(leafMac)}) / IPv6(src="2001:db8:a::5", dst="2001:db8:a::1", hlim=64) / ICMPv6EchoRequest(id=0x78, seq=2, data=b"v6-underlay" * 5)`,
        `Ether(src=${py(leafMac)}, dst=${py(hv1.mac)}) / IPv6(src="2001:db8:a::1", dst="2001:db8:a::5", hlim=64) / ICMPv6EchoReply(id=0x78, seq=2, data=b"v6-underlay" * 5)`,
      ]);
      const target = harness.target;
      for (const [ping, reply] of [
        [ping4, reply4],
        [ping6, reply6],
      ]) {
        const outputs = await target.send(3, ping as Buffer);
        const answer = outputs.find((o) => o.port === 3);
        assert.ok(answer, `no reply on port 3; out: ${JSON.stringify(outputs.map((o) => o.port))}`);
        assert.equal(answer.frame.toString("hex"), reply?.toString("hex"));
        assert.equal(outputs.length, 1, "nothing else left the switch");
      }
      assert.ok(
        await eventMatching(
          "punt",
          /ICMP echo 10\.0\.1\.5 → 10\.0\.0\.1 \(id 119, seq 1, 56 bytes of data\) on port 3: echo reply sent/,
        ),
        "the IPv4 ping is recorded as an event",
      );
      const event6 = await eventMatching("punt", /ICMPv6 echo 2001:db8:a::5 → 2001:db8:a::1 /);
      assert.equal(event6?.data?.answered, true);
    });

    test("the daemon restarted during traffic: no frame lost, nothing written, the pipeline kept", {
      skip,
    }, async () => {
      const frames = await scapy.frames(
        Array.from(
          { length: 1500 },
          (_, i) =>
            `Ether(src=${py(web1.mac)}, dst=${py(web2.mac)}) / IP(src=${py(web1.ip)}, dst=${py(web2.ip)}) / UDP(sport=${10000 + i}, dport=53) / Raw(b"t" * 32)`,
        ),
      );
      const recording = harness.recorder as P4RuntimeRecorder;
      recording.reset();
      // Traffic goes on, batch after batch, until the restarted daemon has reconciled: how
      // long one batch takes is the target's business (the softswitch runs it at once).
      let restarted = false;
      let sent = 0;
      const traffic = (async () => {
        const outputs = [];
        do {
          outputs.push(...(await harness.target.sendMany(1, frames)));
          sent += frames.length;
        } while (!restarted);
        return outputs;
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await harness.stopDaemon();
      const daemon = await harness.startDaemon();
      const session = daemon.sessions.get("leaf1");
      const deadline = Date.now() + 10_000;
      while (!session?.lastReconcile && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      restarted = true;
      assert.equal(session?.lastReconcile?.writes, 0, JSON.stringify(session?.lastReconcile));
      // A switch may be held up while the new daemon reads its tables (bmv2 on a busy host):
      // frames that left after their request's quiet period still count.
      const outputs = [...(await traffic), ...(await harness.target.lateOutput())];
      assert.equal(
        outputs.filter((o) => o.port === 3).length,
        sent,
        "every frame encapsulated toward hv1",
      );
      assert.deepEqual(recording.updates, [], "no entry deleted, added or rewritten");
      assert.equal(recording.pipelinePushes, 0);
    });
  });
}
