/**
 * Fabric file validation: one valid base fabric, then a table of single mistakes, each with the
 * path and the reason the operator must be told. Every mistake is reported together with the
 * others and nothing is accepted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IntentError } from "../../../controller/intent/errors.js";
import { loadFabricText, validateDocument } from "../../../controller/intent/load.js";
import { issuesOf } from "../../support/intent-issues.js";

// biome-ignore lint/suspicious/noExplicitAny: the cases reach into arbitrary parts of a JSON document
type Doc = Record<string, any>;

/** spine1 — leaf1, leaf2; contoso (routed 0x5001), fabrikam (0x6001); hv1 behind leaf2:3. */
function base(): Doc {
  return {
    switches: [
      {
        name: "spine1",
        role: "spine",
        p4runtime: { address: "127.0.0.1:50010", deviceId: 10 },
        routerMac: "02:00:00:00:0b:01",
        ports: [
          { port: 1, kind: "fabric", peer: { switch: "leaf1", port: 49 }, mtu: 9000 },
          { port: 2, kind: "fabric", peer: { switch: "leaf2", port: 49 }, mtu: 9000 },
        ],
      },
      {
        name: "leaf1",
        role: "leaf",
        p4runtime: { address: "127.0.0.1:50001", deviceId: 1 },
        routerMac: "02:00:00:00:0a:01",
        providerAddresses: ["10.0.0.1"],
        ports: [
          { port: 1, kind: "access", untagged: 0x5001 },
          { port: 2, kind: "access", vlans: [{ vlan: 100, vsid: 0x6001 }] },
          { port: 49, kind: "fabric", peer: { switch: "spine1", port: 1 }, mtu: 9000 },
        ],
      },
      {
        name: "leaf2",
        role: "leaf",
        p4runtime: { address: "127.0.0.1:50002", deviceId: 2 },
        routerMac: "02:00:00:00:0a:02",
        providerAddresses: ["10.0.0.2"],
        ports: [
          { port: 1, kind: "access", untagged: 0x5001 },
          { port: 3, kind: "fabric", mtu: 1600 },
          { port: 49, kind: "fabric", peer: { switch: "spine1", port: 2 }, mtu: 9000 },
        ],
      },
    ],
    tenants: [{ name: "contoso" }, { name: "fabrikam" }],
    virtualSubnets: [
      {
        vsid: 0x5001,
        name: "web",
        tenant: "contoso",
        gateway: { mac: "00:00:5e:00:01:01", ips: ["10.1.1.1/24"] },
      },
      { vsid: 0x6001, name: "app", tenant: "fabrikam" },
    ],
    nves: [
      {
        name: "hv1",
        providerAddresses: ["10.0.1.5"],
        attachment: { switch: "leaf2", port: 3, mac: "02:00:00:00:10:05" },
      },
    ],
    endpoints: [
      {
        name: "web-1",
        vsid: 0x5001,
        mac: "00:00:5e:00:53:01",
        ips: ["10.1.1.10"],
        location: { switch: "leaf1", port: 1 },
      },
      {
        name: "web-2",
        vsid: 0x5001,
        mac: "00:00:5e:00:53:02",
        ips: ["10.1.1.11"],
        location: { switch: "leaf2", port: 1 },
      },
      {
        name: "web-3",
        vsid: 0x5001,
        mac: "00:00:5e:00:53:03",
        ips: ["10.1.1.12"],
        location: { nve: "hv1" },
      },
      {
        name: "app-1",
        vsid: 0x6001,
        mac: "00:00:5e:00:53:21",
        ips: ["10.1.1.10"],
        location: { switch: "leaf1", port: 2, vlan: 100 },
      },
    ],
    routes: [{ tenant: "contoso", prefix: "0.0.0.0/0", nextHop: { endpoint: "web-2" } }],
  };
}

const sw = (doc: Doc, i: number) => doc.switches[i];

const cases: { title: string; change: (doc: Doc) => void; path: string; message: RegExp }[] = [
  {
    title: "R6: VSID below 0x1000 (reserved)",
    change: (d) => {
      d.virtualSubnets[1].vsid = 0xfff;
    },
    path: "virtualSubnets[1].vsid",
    message: /VSID 0xFFF is outside 0x1000–0xFFFFFE \(R6/,
  },
  {
    title: "R6: VSID 0xFFFFFF (vendor-specific)",
    change: (d) => {
      d.virtualSubnets[1].vsid = 0xffffff;
    },
    path: "virtualSubnets[1].vsid",
    message: /VSID 0xFFFFFF is outside 0x1000–0xFFFFFE/,
  },
  {
    title: "R6: VSID given as a hex string out of range",
    change: (d) => {
      d.virtualSubnets[1].vsid = "0x10";
    },
    path: "virtualSubnets[1].vsid",
    message: /VSID 0x10 is outside/,
  },
  {
    title: "duplicate MAC in a VSID",
    change: (d) => {
      d.endpoints[1].mac = "00:00:5E:00:53:01";
    },
    path: "endpoints[1].mac",
    message: /MAC 00:00:5e:00:53:01 is already endpoint web-1's in VSID 0x5001/,
  },
  {
    title: "duplicate MAC in a VSID, spelt with dashes and mixed separators",
    change: (d) => {
      d.endpoints[1].mac = "00-00:5E-00:53-01";
    },
    path: "endpoints[1].mac",
    message: /MAC 00:00:5e:00:53:01 is already endpoint web-1's in VSID 0x5001/,
  },
  {
    title: "duplicate CA in a VSID",
    change: (d) => {
      d.endpoints[1].ips = ["10.1.1.10"];
    },
    path: "endpoints[1].ips[0]",
    message: /CA 10\.1\.1\.10 is already endpoint web-1's in VSID 0x5001/,
  },
  {
    title: "unknown switch in a location",
    change: (d) => {
      d.endpoints[0].location.switch = "leaf9";
    },
    path: "endpoints[0].location.switch",
    message: /unknown switch "leaf9" \(known: spine1, leaf1, leaf2\)/,
  },
  {
    title: "unknown port in a location",
    change: (d) => {
      d.endpoints[0].location.port = 7;
    },
    path: "endpoints[0].location.port",
    message: /leaf1 has no access port 7/,
  },
  {
    title: "a location on a port that does not carry the VSID",
    change: (d) => {
      d.endpoints[0].location.port = 2;
    },
    path: "endpoints[0].location.port",
    message: /leaf1:2 does not map VSID 0x5001/,
  },
  {
    title: "a location on a fabric port",
    change: (d) => {
      d.endpoints[0].location.port = 49;
    },
    path: "endpoints[0].location.port",
    message: /leaf1:49 is a fabric port, not an access port/,
  },
  {
    title: "a location whose VLAN differs from the port's mapping",
    change: (d) => {
      d.endpoints[0].location.vlan = 5;
    },
    path: "endpoints[0].location.vlan",
    message: /carries VSID 0x5001 untagged, not on VLAN 5/,
  },
  {
    title: "a location naming both an NVE and a port",
    change: (d) => {
      d.endpoints[2].location.switch = "leaf1";
    },
    path: "endpoints[2].location",
    message: /either \{ nve \} or \{ switch, port/,
  },
  {
    title: "unknown NVE in a location",
    change: (d) => {
      d.endpoints[2].location.nve = "hv9";
    },
    path: "endpoints[2].location.nve",
    message: /unknown NVE "hv9" \(known: hv1\)/,
  },
  {
    title: "unknown VSID on an access port",
    change: (d) => {
      sw(d, 1).ports[0].untagged = 0x5009;
    },
    path: "switches[1].ports[0].untagged",
    message: /unknown VSID 0x5009/,
  },
  {
    title: "unknown VSID of an endpoint",
    change: (d) => {
      d.endpoints[0].vsid = 0x5009;
    },
    path: "endpoints[0].vsid",
    message: /unknown VSID 0x5009/,
  },
  {
    title: "unknown tenant of a virtual subnet",
    change: (d) => {
      d.virtualSubnets[0].tenant = "nobody";
    },
    path: "virtualSubnets[0].tenant",
    message: /unknown tenant "nobody" \(known: contoso, fabrikam\)/,
  },
  {
    title: "fabric MTU too small for NVGRE over IPv4 (42 bytes)",
    change: (d) => {
      sw(d, 0).ports[0].mtu = 1541;
      sw(d, 1).ports[2].mtu = 1541;
    },
    path: "switches[0].ports[0].mtu",
    message:
      /1541 is too small: tenant packets of up to 1500 bytes plus NVGRE over IPv4 \(42 bytes\) need at least 1542/,
  },
  {
    title: "fabric MTU too small for NVGRE over IPv6 (62 bytes)",
    change: (d) => {
      sw(d, 1).providerAddresses.push("fd00::1");
      sw(d, 0).ports[0].mtu = 1561;
      sw(d, 1).ports[2].mtu = 1561;
    },
    path: "switches[0].ports[0].mtu",
    message: /NVGRE over IPv6 \(62 bytes, the fabric has IPv6 PAs\) need at least 1562/,
  },
  {
    title: "fabric MTU too small for a VSID with jumbo tenant packets",
    change: (d) => {
      d.virtualSubnets[1].mtu = 9000;
    },
    path: "switches[0].ports[0].mtu",
    message: /tenant packets of up to 9000 bytes .* need at least 9042/,
  },
  {
    title: "link ends with different MTUs",
    change: (d) => {
      sw(d, 0).ports[0].mtu = 8000;
    },
    path: "switches[0].ports[0].mtu",
    message: /MTU 8000 differs from 9000 at the other end \(leaf1:49\)/,
  },
  {
    title: "R18: a route whose next hop is in another tenant",
    change: (d) => {
      d.routes[0].nextHop = { endpoint: "app-1" };
    },
    path: "routes[0].nextHop",
    message:
      /VSID 0x6001 of tenant fabrikam; a route of tenant contoso cannot leave its routing domain \(R18\)/,
  },
  {
    title: "R18: an on-link route into another tenant's VSID",
    change: (d) => {
      d.routes[0].nextHop = { vsid: 0x6001 };
    },
    path: "routes[0].nextHop",
    message: /cannot leave its routing domain \(R18\)/,
  },
  {
    title: "a route into a VSID without a gateway",
    change: (d) => {
      d.virtualSubnets[1].tenant = "contoso";
      d.routes[0].nextHop = { endpoint: "app-1" };
    },
    path: "routes[0].nextHop",
    message: /VSID 0x6001 has no gateway/,
  },
  {
    title: "a next hop with two forms",
    change: (d) => {
      d.routes[0].nextHop = { endpoint: "web-2", vsid: 0x5001 };
    },
    path: "routes[0].nextHop",
    message: /exactly one of \{ endpoint \}, \{ vsid \} or \{ nve, vsid, mac \}/,
  },
  {
    title: "a gateway-NVE next hop without its MAC",
    change: (d) => {
      d.routes[0].nextHop = { nve: "hv1", vsid: 0x5001 };
    },
    path: "routes[0].nextHop",
    message: /needs \{ nve, vsid, mac \}/,
  },
  {
    title: "two routes for one prefix in a tenant",
    change: (d) => {
      d.routes.push({ tenant: "contoso", prefix: "0.0.0.0/0", nextHop: { endpoint: "web-1" } });
    },
    path: "routes[1].prefix",
    message: /tenant contoso already has a route for 0\.0\.0\.0\/0/,
  },
  {
    title: "duplicate switch name",
    change: (d) => {
      sw(d, 2).name = "leaf1";
    },
    path: "switches[2].name",
    message: /name "leaf1" is already used by another switch or NVE/,
  },
  {
    title: "an NVE named like a switch",
    change: (d) => {
      d.nves[0].name = "leaf1";
      d.endpoints[2].location.nve = "leaf1";
    },
    path: "nves[0].name",
    message: /name "leaf1" is already used/,
  },
  {
    title: "duplicate endpoint name",
    change: (d) => {
      d.endpoints[1].name = "web-1";
    },
    path: "endpoints[1].name",
    message: /endpoint "web-1" is defined twice/,
  },
  {
    title: "duplicate tenant",
    change: (d) => {
      d.tenants.push({ name: "contoso" });
    },
    path: "tenants[2].name",
    message: /tenant "contoso" is defined twice/,
  },
  {
    title: "duplicate VSID",
    change: (d) => {
      d.virtualSubnets[1].vsid = 0x5001;
    },
    path: "virtualSubnets[1].vsid",
    message: /VSID 0x5001 is defined twice/,
  },
  {
    title: "duplicate virtual subnet name",
    change: (d) => {
      d.virtualSubnets[1].name = "web";
    },
    path: "virtualSubnets[1].name",
    message: /name "web" is already used by VSID 0x5001/,
  },
  {
    title: "two switches on one P4Runtime device",
    change: (d) => {
      sw(d, 2).p4runtime = { address: "127.0.0.1:50001", deviceId: 1 };
    },
    path: "switches[2].p4runtime",
    message: /switch leaf1 already uses P4Runtime 127\.0\.0\.1:50001 device 1/,
  },
  {
    title: "duplicate router MAC",
    change: (d) => {
      sw(d, 2).routerMac = "02:00:00:00:0A:01";
    },
    path: "switches[2].routerMac",
    message: /router MAC 02:00:00:00:0a:01 is already leaf1's/,
  },
  {
    title: "bad MAC syntax",
    change: (d) => {
      d.endpoints[0].mac = "00:00:5e:00:53";
    },
    path: "endpoints[0].mac",
    message: /"00:00:5e:00:53" is not a MAC address/,
  },
  {
    title: "a multicast MAC for an endpoint",
    change: (d) => {
      d.endpoints[0].mac = "01:00:5e:00:00:01";
    },
    path: "endpoints[0].mac",
    message: /is a group \(multicast\) MAC, not a station's/,
  },
  {
    title: "bad IPv4 syntax (classful shorthand)",
    change: (d) => {
      d.endpoints[0].ips = ["10.1.1"];
    },
    path: "endpoints[0].ips[0]",
    message: /"10\.1\.1" is not an IPv4 \(dotted quad\) or IPv6 address/,
  },
  {
    title: "bad IPv6 syntax (zone index)",
    change: (d) => {
      sw(d, 1).providerAddresses = ["fe80::1%eth0"];
    },
    path: "switches[1].providerAddresses[0]",
    message: /is not an IPv4 \(dotted quad\) or IPv6 address/,
  },
  {
    title: "a loopback address as a PA",
    change: (d) => {
      sw(d, 1).providerAddresses = ["127.0.0.1"];
    },
    path: "switches[1].providerAddresses[0]",
    message: /is not a host address/,
  },
  {
    title: "a prefix with host bits set",
    change: (d) => {
      d.routes[0].prefix = "10.9.0.1/16";
    },
    path: "routes[0].prefix",
    message: /"10\.9\.0\.1\/16" has host bits set; the network is 10\.9\.0\.0\/16/,
  },
  {
    title: "a prefix length beyond the family",
    change: (d) => {
      d.routes[0].prefix = "10.9.0.0/33";
    },
    path: "routes[0].prefix",
    message: /prefix length must be 0\.\.32/,
  },
  {
    title: "a gateway address without prefix length",
    change: (d) => {
      d.virtualSubnets[0].gateway.ips = ["10.1.1.1"];
    },
    path: "virtualSubnets[0].gateway.ips[0]",
    message: /needs a prefix length/,
  },
  {
    title: "a unicast address as flood multicast group",
    change: (d) => {
      d.virtualSubnets[1].flood = { multicastGroup: "10.0.0.9" };
    },
    path: "virtualSubnets[1].flood.multicastGroup",
    message: /10\.0\.0\.9 is not a multicast address/,
  },
  {
    title: "an unknown field (typo)",
    change: (d) => {
      sw(d, 1).ports[0].untaged = 0x5001;
    },
    path: "switches[1].ports[0]",
    message: /unknown field "untaged"/,
  },
  {
    title: "an unknown port kind",
    change: (d) => {
      sw(d, 1).ports[0].kind = "trunk";
    },
    path: "switches[1].ports[0].kind",
    message: /Expected 'access' \| 'fabric'/,
  },
  {
    title: "a missing required field",
    change: (d) => {
      delete sw(d, 1).routerMac;
    },
    path: "switches[1].routerMac",
    message: /missing \(expected a string\)/,
  },
  {
    title: "a device id written as a word (the type error names expected and actual)",
    change: (d) => {
      sw(d, 1).p4runtime.deviceId = "one";
    },
    path: "switches[1].p4runtime.deviceId",
    message: /^expected an integer, got the string "one"$/,
  },
  {
    title: "a port number written as a string",
    change: (d) => {
      sw(d, 1).ports[0].port = "3";
    },
    path: "switches[1].ports[0].port",
    message: /^expected an integer, got the string "3"$/,
  },
  {
    title: "a negative port number (the message gives the range)",
    change: (d) => {
      sw(d, 1).ports[0].port = -1;
    },
    path: "switches[1].ports[0].port",
    message: /^port -1 is outside 0–510 /,
  },
  {
    title: "the target's drop port 511 as an access port",
    change: (d) => {
      sw(d, 1).ports[0].port = 511;
    },
    path: "switches[1].ports[0].port",
    message:
      /port 511 is outside 0–510 \(ports are 9 bits on every target; 511 is the drop port of bmv2 and the softswitch\)/,
  },
  {
    title: "the CPU port as an access port",
    change: (d) => {
      sw(d, 1).ports[0].port = 510;
    },
    path: "switches[1].ports[0].port",
    message: /port 510 is leaf1's CPU port/,
  },
  {
    title: "an impossible P4Runtime address (999.999.1.1:99999)",
    change: (d) => {
      sw(d, 1).p4runtime.address = "999.999.1.1:99999";
    },
    path: "switches[1].p4runtime.address",
    message: /"999\.999\.1\.1" is not an IPv4 address .*; port 99999 is outside 1–65535/,
  },
  {
    title: "VLAN 4095",
    change: (d) => {
      sw(d, 1).ports[1].vlans[0].vlan = 4095;
    },
    path: "switches[1].ports[1].vlans[0].vlan",
    message: /4095 is reserved/,
  },
  {
    title: "an access port that maps nothing",
    change: (d) => {
      sw(d, 1).ports[0] = { port: 1, kind: "access" };
    },
    path: "switches[1].ports[0]",
    message: /access port 1 maps nothing/,
  },
  {
    title: "one VLAN mapped twice on a port",
    change: (d) => {
      sw(d, 1).ports[1].vlans.push({ vlan: 100, vsid: 0x5001 });
    },
    path: "switches[1].ports[1].vlans[1].vlan",
    message: /VLAN 100 is mapped twice on port 2/,
  },
  {
    title: "one VSID on two VLANs of a port",
    change: (d) => {
      sw(d, 1).ports[1].vlans.push({ vlan: 200, vsid: 0x6001 });
    },
    path: "switches[1].ports[1]",
    message: /VSID 0x6001 is mapped from both VLAN 100 and VLAN 200 on port 2/,
  },
  {
    title: "a port listed twice",
    change: (d) => {
      sw(d, 1).ports.push({ port: 1, kind: "access", untagged: 0x5001 });
    },
    path: "switches[1].ports[3].port",
    message: /port 1 is listed twice on leaf1/,
  },
  {
    title: "a data port on the CPU port",
    change: (d) => {
      sw(d, 1).ports[0].port = 510;
      d.endpoints[0].location.port = 510;
    },
    path: "switches[1].ports[0].port",
    message: /port 510 is leaf1's CPU port/,
  },
  {
    title: "link ends that disagree",
    change: (d) => {
      sw(d, 0).ports[1].peer = { switch: "leaf1", port: 49 };
    },
    path: "switches[0].ports[1].peer",
    message: /leaf1:49 names spine1:1 as its peer, not spine1:2/,
  },
  {
    title: "a link to a missing port",
    change: (d) => {
      sw(d, 0).ports[0].peer.port = 48;
    },
    path: "switches[0].ports[0].peer.port",
    message: /leaf1 has no fabric port 48/,
  },
  {
    title: "a leaf without provider address",
    change: (d) => {
      sw(d, 2).providerAddresses = [];
    },
    path: "switches[2].providerAddresses",
    message: /leaf leaf2 needs at least one provider address/,
  },
  {
    title: "a spine with an access port",
    change: (d) => {
      sw(d, 0).ports.push({ port: 5, kind: "access", untagged: 0x5001 });
    },
    path: "switches[0].ports[2]",
    message: /spine spine1 cannot have access ports/,
  },
  {
    title: "a PA used twice",
    change: (d) => {
      d.nves[0].providerAddresses = ["10.0.0.1"];
    },
    path: "nves[0].providerAddresses[0]",
    message: /provider address 10\.0\.0\.1 is already used by switch leaf1/,
  },
  {
    title: "R8: a VSID pinned to two PAs of one family",
    change: (d) => {
      sw(d, 1).providerAddresses = [
        "10.0.0.1",
        { address: "10.0.0.11", vsids: [0x5001] },
        { address: "10.0.0.12", vsids: [0x5001] },
      ];
    },
    path: "switches[1].providerAddresses[2].vsids[0]",
    message: /VSID 0x5001 already has the IPv4 PA 10\.0\.0\.11 on switch leaf1/,
  },
  {
    title: "a CA outside its subnet",
    change: (d) => {
      d.endpoints[0].ips = ["10.1.2.10"];
    },
    path: "endpoints[0].ips[0]",
    message: /CA 10\.1\.2\.10 is outside the subnet\(s\) 10\.1\.1\.0\/24 of VSID 0x5001's gateway/,
  },
  {
    title: "a CA equal to the gateway address",
    change: (d) => {
      d.endpoints[0].ips = ["10.1.1.1"];
    },
    path: "endpoints[0].ips[0]",
    message: /CA 10\.1\.1\.1 is the gateway address of VSID 0x5001/,
  },
  {
    title: "an endpoint MAC equal to the gateway MAC",
    change: (d) => {
      d.endpoints[0].mac = "00:00:5e:00:01:01";
    },
    path: "endpoints[0].mac",
    message: /is the gateway MAC of VSID 0x5001/,
  },
  {
    title: "one CA in two routed VSIDs of a tenant",
    change: (d) => {
      d.virtualSubnets.push({
        vsid: 0x5002,
        name: "db",
        tenant: "contoso",
        gateway: { mac: "00:00:5e:00:01:02", ips: ["10.1.0.1/16"] },
      });
      sw(d, 2).ports[0].untagged = 0x5002;
      d.endpoints[1].vsid = 0x5002;
      d.endpoints[1].ips = ["10.1.1.10"];
    },
    path: "endpoints[1].ips[0]",
    message: /CA 10\.1\.1\.10 is already endpoint web-1's in tenant contoso's routing domain/,
  },
  {
    title: "an NVE attached to a switch-to-switch link",
    change: (d) => {
      d.nves[0].attachment.port = 49;
    },
    path: "nves[0].attachment.port",
    message: /leaf2:49 is a link to spine1, not to a host or router outside the fabric/,
  },
  {
    title: "NVEs of one VSID with no common PA family",
    change: (d) => {
      d.nves[0].providerAddresses = ["fd00::5"];
    },
    path: "virtualSubnets[0]",
    message: /have no provider address family in common for it/,
  },
  {
    title: "R10: a multicast VSID member without a PA of the group's family",
    change: (d) => {
      d.virtualSubnets[1].flood = { multicastGroup: "ff05::1" };
    },
    path: "virtualSubnets[1].flood",
    message:
      /leaf1 is in VSID 0x6001 but has no IPv6 provider address for its multicast group ff05::1/,
  },
  {
    title: "an underlay route through a switch-to-switch port",
    change: (d) => {
      d.underlay = {
        routes: [
          {
            switch: "leaf2",
            prefix: "192.0.2.0/24",
            nextHops: [{ port: 49, mac: "02:00:00:00:20:01" }],
          },
        ],
      };
    },
    path: "underlay.routes[0].nextHops[0].port",
    message: /leaf2:49 is a link to spine1/,
  },
];

describe("fabric validation", () => {
  test("the base fabric is valid", () => {
    assert.deepEqual(issuesOf(base()), []);
  });

  for (const c of cases) {
    test(`rejects ${c.title}`, () => {
      const doc = base();
      c.change(doc);
      const issues = issuesOf(doc);
      const match = issues.find((i) => i.path === c.path && c.message.test(i.message));
      assert.ok(
        match,
        `expected ${c.path}: ${c.message}\ngot:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
      );
    });
  }

  test("reports every problem at once, and the error names each", () => {
    const doc = base();
    doc.virtualSubnets[1].vsid = 0x10;
    doc.endpoints[0].mac = "zz";
    doc.routes[0].prefix = "10.0.0.1/8";
    assert.throws(
      () => validateDocument(doc),
      (error: unknown) =>
        error instanceof IntentError &&
        error.issues.length === 3 &&
        /3 problems\); nothing was applied/.test(error.message) &&
        /virtualSubnets\[1\]\.vsid: VSID 0x10/.test(error.message),
    );
  });

  test("names the file, line and column of each problem", () => {
    const text = [
      "switches:",
      "  - name: leaf1",
      "    role: leaf",
      '    p4runtime: { address: "127.0.0.1:1", deviceId: 1 }',
      '    routerMac: "02:00:00:00:0a:01"',
      "    providerAddresses: [10.0.0.1]",
      "    ports:",
      "      - { port: 1, kind: access, untagged: 0x0fff }",
      "",
    ].join("\n");
    assert.throws(
      () => loadFabricText(text, "fabric.yaml"),
      (error: unknown) =>
        error instanceof IntentError &&
        error.issues[0]?.line === 8 &&
        /fabric\.yaml:8:\d+: switches\[0\]\.ports\[0\]\.untagged: VSID 0xFFF is outside/.test(
          error.message,
        ),
    );
  });

  test("a YAML syntax error names its line", () => {
    assert.throws(
      () => loadFabricText("switches:\n  - name: [leaf1\n", "bad.yaml"),
      (error: unknown) =>
        error instanceof IntentError &&
        /bad\.yaml:\d+:\d+: \(top level\): YAML:/.test(error.message),
    );
  });

  test("duplicate YAML keys are an error, not a silent override", () => {
    assert.throws(
      () => loadFabricText("switches: []\nswitches: []\n", "dup.yaml"),
      (error: unknown) =>
        error instanceof IntentError && /YAML: .*[Uu]nique|YAML: .*duplicate/i.test(error.message),
    );
  });

  test("the committed example fabric and the compiler fixture are valid", async () => {
    const { readFileSync } = await import("node:fs");
    const { repoRoot } = await import("../../../topologies/repo.js");
    for (const file of [
      "controller/intent/fabric.example.yaml",
      "test/fixtures/fabric/small.yaml",
    ]) {
      const { fabric } = loadFabricText(readFileSync(`${repoRoot}${file}`, "utf8"), file);
      assert.ok(fabric.switches.length > 0, file);
    }
  });

  test("defaults: head-end flooding, source guard and PA validation on, learning off, MTU 1500", () => {
    const fabric = validateDocument(base());
    const app = fabric.subnetByVsid.get(0x6001);
    assert.deepEqual(
      app && {
        flood: app.flood,
        guard: app.sourceGuard,
        pa: app.paValidation,
        learn: [app.learnLocal, app.learnRemote],
        mtu: app.mtu,
      },
      { flood: { mode: "head-end" }, guard: true, pa: true, learn: [false, false], mtu: 1500 },
    );
    assert.equal(fabric.switchByName.get("leaf1")?.cpuPort, 510);
  });
});
