/**
 * Spoofing mitigation (R17), per VSID: on access ports the source guard admits only known
 * (port, source MAC[, source CA]) bindings, CA checked for IPv4, ARP and IPv6 alike; on the
 * fabric PA validation admits NVGRE only from NVEs of the packet's VSID. VSIDs without them
 * are unaffected.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { MatchValue } from "../../controller/p4rt/entities.js";
import {
  addAccess,
  addNve,
  addSourcePa,
  addVsid,
  leafBase,
  PA4,
  PA6,
  SPINE_MAC,
  SWITCH_MAC,
  UPLINK,
} from "../../topologies/leaf.js";
import { Batch, caFamily, exactTernary } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { DropCounters } from "./observe.js";

const GUARDED = 0x5001; // ports 3 and 4 (VLAN 100), source guard on
const VALIDATED = 0x5002; // port 5, PA validation on
const OPEN = 0x5003; // port 6, neither
const VM_A = "02:00:00:00:0a:01"; // admitted on port 3 whatever it sends
const VM_C = "02:00:00:00:0c:01"; // admitted on port 4 with 10.1.0.3 / fd00:1::3 only
const VM_B = "02:00:00:00:0b:01"; // behind NVE1
const VM_P = "02:00:00:00:0f:01"; // port 5
const VM_O = "02:00:00:00:0f:02"; // port 6
const NVE1 = "198.51.100.2";
const NVE1_V6 = "2001:db8:100::2";
const STRANGER = "198.51.100.66";
const STRANGER_V6 = "2001:db8:100::66";

const ipv4From = (mac: string, src: string) =>
  `Ether(src=${py(mac)}, dst=${py(VM_B)})/IP(src=${py(src)}, dst="10.1.0.2")/UDP(sport=1, dport=2)`;
const ipv6From = (mac: string, src: string) =>
  `Ether(src=${py(mac)}, dst=${py(VM_B)})/IPv6(src=${py(src)}, dst="fd00:1::2")/UDP(sport=1, dport=2)`;
const arpFrom = (mac: string, psrc: string) =>
  `Ether(src=${py(mac)}, dst=${py(VM_B)})/ARP(op=2, hwsrc=${py(mac)}, psrc=${py(psrc)}, hwdst=${py(VM_B)}, pdst="10.1.0.2")`;
const tagged = (vlan: number, frame: string) =>
  `(lambda f: Ether(src=f.src, dst=f.dst)/Dot1Q(vlan=${vlan})/f.payload)(${frame})`;
const encap = (inner: string) =>
  `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(NVE1)}, ${GUARDED}, flow_id(${inner}), ${inner})`;
const nvgreFrom = (pa: string, vsid: number, inner: string) =>
  pa.includes(":")
    ? `nvgre6(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(pa)}, ${py(PA6)}, ${vsid}, 5, ${inner})`
    : `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(pa)}, ${py(PA4)}, ${vsid}, 5, ${inner})`;
const toPort = (mac: string) =>
  `Ether(src=${py(VM_B)}, dst=${py(mac)})/IP(src="10.1.0.2", dst="10.1.0.9")/UDP(sport=3, dport=4)`;

for (const factory of targets()) {
  describe(`source guard and PA validation on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    /** Sends each frame and checks it left encapsulated toward NVE1 as `inner` (untagged). */
    async function expectAdmitted(port: number, cases: { sent: string; inner: string }[]) {
      const built = await scapy.frames(cases.flatMap((c) => [c.sent, encap(c.inner)]));
      for (const [i, c] of cases.entries()) {
        assert.deepEqual(
          await target.send(port, built[2 * i] as Buffer),
          [{ port: UPLINK, frame: built[2 * i + 1] }],
          c.sent,
        );
      }
    }

    /** Sends each frame and checks it was dropped with `reason`, nothing else counted. */
    async function expectDropped(port: number, frames: string[], reason: string) {
      const built = await scapy.frames(frames);
      for (const [i, frame] of built.entries()) {
        const before = await DropCounters.read(target);
        assert.deepEqual(await target.send(port, frame), [], frames[i]);
        assert.deepEqual((await DropCounters.read(target)).since(before), { [reason]: 1 });
      }
    }

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: GUARDED, index: 1, sourceGuard: true });
      addVsid(batch, { vsid: VALIDATED, index: 2, paCheck: true });
      addVsid(batch, { vsid: OPEN, index: 3 });
      addAccess(batch, 3, GUARDED);
      addAccess(batch, 4, GUARDED, 100);
      addAccess(batch, 5, VALIDATED);
      addAccess(batch, 6, OPEN);
      addNve(batch, 1, NVE1);
      addSourcePa(batch, GUARDED, { v4: PA4 });
      batch.entry("mac", { vsid: GUARDED, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: VALIDATED, dst_mac: VM_P }, "bridge_to_port", { port: 5 });
      batch.entry("mac", { vsid: OPEN, dst_mac: VM_O }, "bridge_to_port", { port: 6 });
      const any = { value: 0, mask: 0 };
      const permit = (port: number, mac: string, family: MatchValue, ca: MatchValue) =>
        batch.entry(
          "source_guard",
          { vsid: GUARDED, port, src_mac: mac, ca_family: family, src_ca: ca },
          "permit_source",
          {},
          10,
        );
      permit(3, VM_A, any, any);
      permit(4, VM_C, exactTernary(caFamily("IPV4"), 2), exactTernary("10.1.0.3", 128));
      permit(4, VM_C, exactTernary(caFamily("IPV6"), 2), exactTernary("fd00:1::3", 128));
      batch.entry("vsid_nve_v4", { vsid: VALIDATED, pa: NVE1 }, "permit_nve");
      batch.entry("vsid_nve_v6", { vsid: VALIDATED, pa: NVE1_V6 }, "permit_nve");
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R17: a MAC admitted on its port passes, whatever CA it uses", { skip }, async () => {
      await expectAdmitted(
        3,
        [ipv4From(VM_A, "10.1.0.1"), ipv4From(VM_A, "10.1.0.200")].map((f) => ({
          sent: f,
          inner: f,
        })),
      );
    });

    test("R17: the same MAC on another port, or an unknown MAC, is dropped", { skip }, async () => {
      await expectDropped(4, [tagged(100, ipv4From(VM_A, "10.1.0.1"))], "SOURCE_GUARD");
      await expectDropped(3, [ipv4From("02:00:00:00:66:66", "10.1.0.1")], "SOURCE_GUARD");
    });

    test("R17: a MAC bound to CAs passes with them in IPv4, ARP and IPv6", { skip }, async () => {
      await expectAdmitted(
        4,
        [ipv4From(VM_C, "10.1.0.3"), arpFrom(VM_C, "10.1.0.3"), ipv6From(VM_C, "fd00:1::3")].map(
          (f) => ({ sent: tagged(100, f), inner: f }),
        ),
      );
    });

    test("R17: the bound MAC with a spoofed CA is dropped, in IPv4, ARP and IPv6", {
      skip,
    }, async () => {
      await expectDropped(
        4,
        [
          tagged(100, ipv4From(VM_C, "10.1.0.2")),
          tagged(100, arpFrom(VM_C, "10.1.0.2")),
          tagged(100, ipv6From(VM_C, "fd00:1::2")),
          tagged(100, `Ether(src=${py(VM_C)}, dst=${py(VM_B)}, type=0x88b5)/Raw(bytes(46))`),
        ],
        "SOURCE_GUARD",
      );
    });

    test("R17 PA validation: NVGRE from an NVE of the VSID is decapsulated, over IPv4 and IPv6", {
      skip,
    }, async () => {
      const [inner, over4, over6] = await scapy.frames([
        toPort(VM_P),
        nvgreFrom(NVE1, VALIDATED, toPort(VM_P)),
        nvgreFrom(NVE1_V6, VALIDATED, toPort(VM_P)),
      ]);
      assert.deepEqual(await target.send(UPLINK, over4 as Buffer), [{ port: 5, frame: inner }]);
      assert.deepEqual(await target.send(UPLINK, over6 as Buffer), [{ port: 5, frame: inner }]);
    });

    test("R17 PA validation: NVGRE from a PA that is not an NVE of the VSID is dropped", {
      skip,
    }, async () => {
      await expectDropped(
        UPLINK,
        [
          nvgreFrom(STRANGER, VALIDATED, toPort(VM_P)),
          nvgreFrom(STRANGER_V6, VALIDATED, toPort(VM_P)),
          // An NVE of another VSID is a stranger here too.
          nvgreFrom(NVE1, VALIDATED, toPort(VM_P)).replace(NVE1, "198.51.100.3"),
        ],
        "PA_NOT_NVE_OF_VSID",
      );
    });

    test("R17: a VSID without PA validation takes NVGRE from any PA", { skip }, async () => {
      const [inner, packet] = await scapy.frames([
        toPort(VM_O),
        nvgreFrom(STRANGER, OPEN, toPort(VM_O)),
      ]);
      assert.deepEqual(await target.send(UPLINK, packet as Buffer), [{ port: 6, frame: inner }]);
    });
  });
}
