/**
 * A synthetic fabric for the controller benchmarks: 16 switches (4 spines, 12 leaves), VSIDs of
 * 100 endpoints each on the 3 leaves of their tenant's group, tenants of 10 VSIDs, every other
 * tenant of a group routed (gateway on its VSIDs), learning on every third VSID. Sized so every
 * leaf stays within the P4 program's tables up to 100,000 endpoints.
 */
import type { FabricDocument } from "../../controller/intent/schema.js";

const LEAVES = 12;
const SPINES = 4;
const PER_VSID = 100;
const VSIDS_PER_TENANT = 10;
const ACCESS_PORTS = 48;

/** The synthetic fabric document, as a fabric file would say it. */
export function syntheticFabric(endpoints: number): FabricDocument {
  const vsidCount = Math.ceil(endpoints / PER_VSID);
  const tenantCount = Math.ceil(vsidCount / VSIDS_PER_TENANT);
  const mac = (n: number) =>
    (0x020000000000 + n)
      .toString(16)
      .padStart(12, "0")
      .replace(/(..)(?!$)/g, "$1:");
  const leafName = (i: number) => `leaf${i + 1}`;
  const spineName = (i: number) => `spine${i + 1}`;
  // VSID v lives on the 3 leaves of its tenant's group, on (port, VLAN) slots handed out in turn.
  const leafSlots = Array.from({ length: LEAVES }, () => [] as { vlan: number; vsid: number }[][]);
  for (const slots of leafSlots) for (let p = 0; p < ACCESS_PORTS; p++) slots.push([]);
  const leafUse = new Array<number>(LEAVES).fill(0);
  const vsidLeaves: number[][] = [];
  const vsidPort: Map<string, number> = new Map();
  for (let v = 0; v < vsidCount; v++) {
    const group = Math.floor(v / VSIDS_PER_TENANT) % (LEAVES / 3);
    const leaves = [3 * group, 3 * group + 1, 3 * group + 2];
    vsidLeaves.push(leaves);
    for (const leaf of leaves) {
      const slot = leafUse[leaf] ?? 0;
      leafUse[leaf] = slot + 1;
      const port = slot % ACCESS_PORTS;
      leafSlots[leaf]?.[port]?.push({
        vlan: Math.floor(slot / ACCESS_PORTS) + 1,
        vsid: 0x10000 + v,
      });
      vsidPort.set(`${v}/${leaf}`, port + 1);
    }
  }
  const switches: FabricDocument["switches"] = [];
  for (let s = 0; s < SPINES; s++) {
    switches.push({
      name: spineName(s),
      role: "spine",
      p4runtime: { address: `127.0.0.1:${51000 + s}`, deviceId: 100 + s },
      routerMac: mac(0xff00 + s),
      ports: Array.from({ length: LEAVES }, (_, l) => ({
        port: l + 1,
        kind: "fabric" as const,
        peer: { switch: leafName(l), port: ACCESS_PORTS + 1 + s },
        mtu: 9000,
      })),
    });
  }
  for (let l = 0; l < LEAVES; l++) {
    const access = (leafSlots[l] ?? [])
      .map((vlans, p) => ({ port: p + 1, kind: "access" as const, vlans }))
      .filter((p) => p.vlans.length > 0);
    const fabric = Array.from({ length: SPINES }, (_, s) => ({
      port: ACCESS_PORTS + 1 + s,
      kind: "fabric" as const,
      peer: { switch: spineName(s), port: l + 1 },
      mtu: 9000,
    }));
    switches.push({
      name: leafName(l),
      role: "leaf",
      p4runtime: { address: `127.0.0.1:${50000 + l}`, deviceId: l + 1 },
      routerMac: mac(0xfe00 + l),
      providerAddresses: [`10.0.0.${l + 1}`],
      ports: [...access, ...fabric],
    });
  }
  const virtualSubnets: FabricDocument["virtualSubnets"] = [];
  const list: NonNullable<FabricDocument["endpoints"]> = [];
  for (let v = 0; v < vsidCount; v++) {
    const tenant = Math.floor(v / VSIDS_PER_TENANT);
    // Every other tenant of each leaf group is routed.
    const routed = Math.floor(tenant / (LEAVES / 3)) % 2 === 0;
    const subnet = v % VSIDS_PER_TENANT;
    virtualSubnets.push({
      vsid: 0x10000 + v,
      name: `vs-${v}`,
      tenant: `t${tenant}`,
      ...(routed ? { gateway: { mac: mac(0x100000 + v), ips: [`10.${subnet}.0.1/16`] } } : {}),
      learning: v % 3 === 0,
    });
    for (let e = 0; e < PER_VSID && v * PER_VSID + e < endpoints; e++) {
      const n = v * PER_VSID + e;
      const leaf = vsidLeaves[v]?.[e % 3] as number;
      list.push({
        name: `ep-${n}`,
        vsid: 0x10000 + v,
        mac: mac(0x200000 + n),
        ips: [`10.${subnet}.${Math.floor((e + 2) / 256)}.${(e + 2) % 256}`],
        location: { switch: leafName(leaf), port: vsidPort.get(`${v}/${leaf}`) as number },
      });
    }
  }
  return {
    name: `bench-${endpoints}`,
    switches,
    tenants: Array.from({ length: tenantCount }, (_, t) => ({ name: `t${t}` })),
    virtualSubnets,
    endpoints: list,
    settings: { tenantMtu: 1500 },
  };
}

/**
 * A move of endpoint `index` (modulo their number) to another leaf of its VSID: where another
 * endpoint of the VSID is.
 */
export function moveToAnotherLeaf(
  document: FabricDocument,
  index: number,
): { name: string; location: { switch: string; port: number } } {
  const endpoints = document.endpoints ?? [];
  const endpoint = endpoints[index % endpoints.length];
  const other = endpoints.find(
    (e) => e.vsid === endpoint?.vsid && e.location.switch !== endpoint?.location.switch,
  );
  if (!endpoint || !other) throw new Error("no endpoint to move");
  const { switch: leaf, port } = other.location;
  if (leaf === undefined || port === undefined) throw new Error("endpoints here are on ports");
  return { name: endpoint.name, location: { switch: leaf, port } };
}
