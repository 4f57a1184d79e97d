/**
 * The daemon's answers to punted packets (controller/daemon/punt): R12 ICMP frag-needed /
 * ICMPv6 packet-too-big for MTU punts, and what is not answered. Input frames and expected
 * answers are both built by Scapy (topologies/scapy.ts), never by the code under test.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { handlePunt, type PuntSwitchView } from "../../../controller/daemon/punt/handler.js";
import { py, Scapy } from "../../../topologies/scapy.js";

const vm1 = { mac: "02:00:00:00:01:01", v4: "10.1.0.1", v6: "2001:db8:1::1" };
const vm2 = { mac: "02:00:00:00:01:02", v4: "10.1.0.2", v6: "2001:db8:1::2" };
const leaf = { mac: "02:00:00:00:aa:01", v4: "192.0.2.1", v6: "2001:db8:ff::1" };
const spine = { mac: "02:00:00:00:bb:01" };
const vsid = 0x5001;
const accessPort = 3;
const fabricPort = 7;

function mac(text: string): Buffer {
  return Buffer.from(text.replaceAll(":", ""), "hex");
}

/** Port 3: access, VSID 0x5001 untagged, 0x5002 on VLAN 100; port 7: fabric to a spine. */
const view: PuntSwitchView = {
  accessVlan: (port, v) =>
    port !== accessPort ? undefined : v === vsid ? null : v === 0x5002 ? 100 : undefined,
  fabricPort: (port) =>
    port === fabricPort
      ? { routerMac: mac(leaf.mac), neighbourMac: mac(spine.mac), vlan: 20 }
      : undefined,
  providerAddress: (family) =>
    family === 4
      ? Buffer.from([192, 0, 2, 1])
      : Buffer.from("20010db800ff00000000000000000001", "hex"),
  isProviderAddress: (address) =>
    ["c0000201", "20010db800ff00000000000000000001"].includes(address.toString("hex")),
};

/** The answer to an MTU punt, failing the test with the handler's summary when there is none. */
function answer(ingressPort: number, frame: Buffer | undefined, mtu = 1500) {
  const outcome = handlePunt(
    { ingressPort, puntReason: "mtu_exceeded", mtu },
    frame as Buffer,
    view,
  );
  if (outcome.action !== "answer") assert.fail(`not answered: ${outcome.summary}`);
  return { ...outcome, hex: outcome.frame.toString("hex") };
}

describe("MTU punts answered with ICMP too-big (R12)", () => {
  const scapy = new Scapy();
  after(() => scapy.close());

  const tenant4 = `Ether(src=${py(vm1.mac)}, dst=${py(vm2.mac)}) / IP(src=${py(vm1.v4)}, dst=${py(vm2.v4)}, flags="DF", id=7) / TCP(sport=40000, dport=80, flags="A") / Raw(b"x" * 1460)`;
  const tenant6 = `Ether(src=${py(vm1.mac)}, dst=${py(vm2.mac)}) / IPv6(src=${py(vm1.v6)}, dst=${py(vm2.v6)}) / UDP(sport=5000, dport=53) / Raw(b"y" * 1400)`;

  test("R12 IPv4 tenant packet in NVGRE/IPv4: frag-needed with MTU − 42 to the VM, addresses swapped", async () => {
    const [punted, expected] = await scapy.frames([
      `nvgre4(${py(leaf.mac)}, ${py(spine.mac)}, ${py(leaf.v4)}, "192.0.2.2", ${vsid}, 9, ${tenant4})`,
      `Ether(src=${py(vm2.mac)}, dst=${py(vm1.mac)}) / IP(src=${py(vm2.v4)}, dst=${py(vm1.v4)}, ttl=64, id=0, flags="DF") / ICMP(type=3, code=4, nexthopmtu=1458) / Raw(bytes((${tenant4})[IP])[:548])`,
    ]);
    const outcome = answer(accessPort, punted);
    assert.equal(outcome.egressPort, accessPort);
    assert.equal(outcome.hex, expected?.toString("hex"));
    assert.match(outcome.summary, /frag-needed MTU 1458 sent to 10\.1\.0\.1 on port 3/);
  });

  test("R12 IPv6 tenant packet in NVGRE/IPv6 on a tagged VSID: packet-too-big with MTU − 62, VLAN re-added", async () => {
    const [punted, expected] = await scapy.frames([
      `nvgre6(${py(leaf.mac)}, ${py(spine.mac)}, ${py(leaf.v6)}, "2001:db8:ff::2", 0x5002, 3, ${tenant6})`,
      `Ether(src=${py(vm2.mac)}, dst=${py(vm1.mac)}) / Dot1Q(vlan=100) / IPv6(src=${py(vm2.v6)}, dst=${py(vm1.v6)}, hlim=64) / ICMPv6PacketTooBig(mtu=1438) / Raw(bytes((${tenant6})[IPv6])[:1232])`,
    ]);
    const outcome = answer(accessPort, punted);
    assert.equal(outcome.hex, expected?.toString("hex"));
  });

  test("R12 R13 IPv6 tenant packet in NVGRE/IPv4 (outer VLAN on the fabric link): MTU − 42", async () => {
    const [punted, expected] = await scapy.frames([
      `nvgre4(${py(leaf.mac)}, ${py(spine.mac)}, ${py(leaf.v4)}, "192.0.2.2", ${vsid}, 1, ${tenant6}, vlan=20)`,
      `Ether(src=${py(vm2.mac)}, dst=${py(vm1.mac)}) / IPv6(src=${py(vm2.v6)}, dst=${py(vm1.v6)}, hlim=64) / ICMPv6PacketTooBig(mtu=1458) / Raw(bytes((${tenant6})[IPv6])[:1232])`,
    ]);
    const outcome = answer(accessPort, punted);
    assert.equal(outcome.hex, expected?.toString("hex"));
  });

  test("R12 routed underlay packet: frag-needed from the switch's PA to the neighbour, on the link's VLAN", async () => {
    const underlay = `IP(src="192.0.2.9", dst="198.51.100.5", ttl=63, flags="DF") / UDP(sport=1, dport=2) / Raw(b"z" * 2000)`;
    const [punted, expected] = await scapy.frames([
      `Ether(src=${py(leaf.mac)}, dst="02:00:00:00:cc:01") / ${underlay}`,
      `Ether(src=${py(leaf.mac)}, dst=${py(spine.mac)}) / Dot1Q(vlan=20) / IP(src=${py(leaf.v4)}, dst="192.0.2.9", ttl=64, id=0, flags="DF") / ICMP(type=3, code=4, nexthopmtu=1500) / Raw(bytes(${underlay})[:548])`,
    ]);
    const outcome = answer(fabricPort, punted);
    assert.equal(outcome.egressPort, fabricPort);
    assert.equal(outcome.hex, expected?.toString("hex"));
  });

  test("R12 not answered, each with its reason: DF clear, an ICMP error, a multicast destination, MTU below the minimum, a port outside the VSID", async () => {
    const cases: { frame: string; port?: number; mtu?: number; reason: RegExp }[] = [
      {
        frame: `IP(src=${py(vm1.v4)}, dst=${py(vm2.v4)}) / UDP() / Raw(b"a" * 1500)`,
        reason: /DF is clear/,
      },
      {
        frame: `IP(src=${py(vm1.v4)}, dst=${py(vm2.v4)}, flags="DF") / ICMP(type=3, code=1) / Raw(b"a" * 1500)`,
        reason: /is an ICMP error/,
      },
      {
        frame: `IP(src=${py(vm1.v4)}, dst="239.1.1.1", flags="DF") / UDP() / Raw(b"a" * 1500)`,
        reason: /answer source is not a unicast address/,
      },
      {
        frame: `IPv6(src=${py(vm1.v6)}, dst=${py(vm2.v6)}) / UDP() / Raw(b"a" * 1500)`,
        mtu: 1300,
        reason: /MTU 1258 is below the IPv6 minimum 1280/,
      },
      {
        frame: `IPv6(src=${py(vm1.v6)}, dst=${py(vm2.v6)}) / ICMPv6DestUnreach() / Raw(b"a" * 1500)`,
        reason: /is an ICMPv6 error/,
      },
      {
        frame: `IP(src=${py(vm1.v4)}, dst=${py(vm2.v4)}, flags="DF") / UDP() / Raw(b"a" * 1500)`,
        port: 4,
        reason: /port 4 is not an access port of the VSID; not answered/,
      },
    ];
    const frames = await scapy.frames(
      cases.map(
        (c) =>
          `nvgre4(${py(leaf.mac)}, ${py(spine.mac)}, ${py(leaf.v4)}, "192.0.2.2", ${vsid}, 0, Ether(src=${py(vm1.mac)}, dst=${py(vm2.mac)}) / ${c.frame})`,
      ),
    );
    cases.forEach((c, i) => {
      const outcome = handlePunt(
        { ingressPort: c.port ?? accessPort, puntReason: "mtu_exceeded", mtu: c.mtu ?? 1500 },
        frames[i] as Buffer,
        view,
      );
      assert.equal(outcome.action, "drop", `case ${i}: ${outcome.summary}`);
      assert.match(outcome.summary, c.reason, `case ${i}`);
    });
  });

  test("an unreadable punt is reported naming its layer, not answered", async () => {
    const [badGre, arp] = await scapy.frames([
      `Ether() / IP(src="192.0.2.9", dst="192.0.2.1", flags="DF") / GRE(proto=0x6558) / Raw(b"q" * 40)`,
      `Ether() / ARP()`,
    ]);
    const gre = handlePunt(
      { ingressPort: fabricPort, puntReason: "mtu_exceeded", mtu: 1500 },
      badGre as Buffer,
      view,
    );
    assert.equal(gre.action, "drop");
    assert.match(gre.summary, /outer GRE: GRE 00006558 is not NVGRE \(expected 20006558\)/);
    const notIp = handlePunt(
      { ingressPort: accessPort, puntReason: "mtu_exceeded", mtu: 1500 },
      arp as Buffer,
      view,
    );
    assert.match(notIp.summary, /outer Ethernet: EtherType 0x0806 is not IP/);
    const truncated = handlePunt(
      { ingressPort: accessPort, puntReason: "mtu_exceeded", mtu: 1500 },
      Buffer.alloc(9),
      view,
    );
    assert.match(truncated.summary, /shorter than an Ethernet header/);
  });

  test("R6 VSID 0xFFFFFF punts are logged, not answered", async () => {
    const [vendor] = await scapy.frames([
      `nvgre4("02:00:00:00:cc:01", ${py(leaf.mac)}, "192.0.2.77", ${py(leaf.v4)}, 0xFFFFFF, 5, Ether() / Raw(b"v" * 60))`,
    ]);
    const outcome = handlePunt(
      { ingressPort: fabricPort, puntReason: "vsid_ffffff", mtu: 0 },
      vendor as Buffer,
      view,
    );
    assert.equal(outcome.action, "drop");
    assert.match(outcome.summary, /VSID 0xFFFFFF packet from 192\.0\.2\.77 on port 7 \(flow 5/);
  });
});

describe("pings of the switch's own PAs answered with echo replies", () => {
  const scapy = new Scapy();
  after(() => scapy.close());
  const echo = (frame: Buffer | undefined) =>
    handlePunt(
      { ingressPort: fabricPort, puntReason: "icmp_to_self", mtu: 0 },
      frame as Buffer,
      view,
    );

  test("IPv4 echo request on a tagged fabric link: echo reply back to the sender, id, seq, data and TOS kept", async () => {
    const [request, expected] = await scapy.frames([
      `Ether(src=${py(spine.mac)}, dst=${py(leaf.mac)}) / Dot1Q(vlan=20) / IP(src="192.0.2.9", dst=${py(leaf.v4)}, ttl=62, tos=0x28, id=555) / ICMP(type=8, id=0x1234, seq=3) / Raw(bytes(range(56)))`,
      `Ether(src=${py(leaf.mac)}, dst=${py(spine.mac)}) / Dot1Q(vlan=20) / IP(src=${py(leaf.v4)}, dst="192.0.2.9", ttl=64, tos=0x28, id=0, flags="DF") / ICMP(type=0, id=0x1234, seq=3) / Raw(bytes(range(56)))`,
    ]);
    const outcome = echo(request);
    if (outcome.action !== "answer") assert.fail(outcome.summary);
    assert.equal(outcome.egressPort, fabricPort);
    assert.equal(outcome.frame.toString("hex"), expected?.toString("hex"));
    assert.match(
      outcome.summary,
      /ICMP echo 192\.0\.2\.9 → 192\.0\.2\.1 \(id 4660, seq 3, 56 bytes of data\) on port 7: echo reply sent/,
    );
  });

  test("IPv4 echo request in a padded minimum-size frame: the padding is not echoed", async () => {
    const [request, expected] = await scapy.frames([
      `Ether(src=${py(spine.mac)}, dst=${py(leaf.mac)}) / IP(src="192.0.2.9", dst=${py(leaf.v4)}) / ICMP(type=8, id=1, seq=1) / Padding(b"\\x00" * 18)`,
      `Ether(src=${py(leaf.mac)}, dst=${py(spine.mac)}) / IP(src=${py(leaf.v4)}, dst="192.0.2.9", ttl=64, id=0, flags="DF") / ICMP(type=0, id=1, seq=1)`,
    ]);
    assert.equal(request?.length, 60);
    const outcome = echo(request);
    if (outcome.action !== "answer") assert.fail(outcome.summary);
    assert.equal(outcome.frame.toString("hex"), expected?.toString("hex"));
  });

  test("IPv6 echo request: echo reply with the traffic class kept and hop limit 64", async () => {
    const [request, expected] = await scapy.frames([
      `Ether(src=${py(spine.mac)}, dst=${py(leaf.mac)}) / IPv6(src="2001:db8:ff::9", dst=${py(leaf.v6)}, hlim=60, tc=0xb8, fl=0x12345) / ICMPv6EchoRequest(id=77, seq=9, data=b"ping-pa" * 9)`,
      `Ether(src=${py(leaf.mac)}, dst=${py(spine.mac)}) / IPv6(src=${py(leaf.v6)}, dst="2001:db8:ff::9", hlim=64, tc=0xb8, fl=0) / ICMPv6EchoReply(id=77, seq=9, data=b"ping-pa" * 9)`,
    ]);
    const outcome = echo(request);
    if (outcome.action !== "answer") assert.fail(outcome.summary);
    assert.equal(outcome.frame.toString("hex"), expected?.toString("hex"));
  });

  test("not answered, each with its reason: a bad checksum, a PA multicast group, an echo reply, a multicast source, IPv6 extension headers", async () => {
    const cases: { frame: string; reason: RegExp }[] = [
      {
        frame: `IP(src="192.0.2.9", dst=${py(leaf.v4)}) / ICMP(type=8, chksum=0x1234) / Raw(b"x" * 8)`,
        reason: /ICMP checksum is wrong/,
      },
      {
        frame: `IP(src="192.0.2.9", dst="239.1.1.1") / ICMP(type=8) / Raw(b"x" * 8)`,
        reason: /destination is no unicast PA of this switch/,
      },
      {
        frame: `IP(src="192.0.2.9", dst=${py(leaf.v4)}) / ICMP(type=0) / Raw(b"x" * 8)`,
        reason: /ICMP type 0 code 0 is not an echo request/,
      },
      {
        frame: `IPv6(src="ff02::1", dst=${py(leaf.v6)}) / ICMPv6EchoRequest()`,
        reason: /source is not a unicast address/,
      },
      {
        frame: `IPv6(src="2001:db8:ff::9", dst=${py(leaf.v6)}) / IPv6ExtHdrHopByHop() / ICMPv6EchoRequest()`,
        reason: /IP protocol 0 is not ICMPv6 \(extension headers are not answered\)/,
      },
    ];
    const frames = await scapy.frames(
      cases.map((c) => `Ether(src=${py(spine.mac)}, dst=${py(leaf.mac)}) / ${c.frame}`),
    );
    cases.forEach((c, i) => {
      const outcome = echo(frames[i]);
      assert.equal(outcome.action, "drop", `case ${i}: ${outcome.summary}`);
      assert.match(outcome.summary, c.reason, `case ${i}`);
      assert.match(outcome.summary, /not answered$/, `case ${i}`);
    });
  });

  test("an unreadable ICMP punt is reported naming its layer", async () => {
    const [truncated] = await scapy.frames([
      `Ether(src=${py(spine.mac)}, dst=${py(leaf.mac)}) / IP(src="192.0.2.9", dst=${py(leaf.v4)}, len=200) / ICMP(type=8)`,
    ]);
    const outcome = echo(truncated);
    assert.equal(outcome.action, "drop");
    assert.match(
      outcome.summary,
      /unreadable: request IPv4: length 200 disagrees with the 28 bytes received/,
    );
  });
});
