/**
 * The controller benchmarks' fabric: two leaves joined by a fabric link, `vsids` VSIDs on trunk
 * ports 1–8 of each, any number of endpoints spread over both leaves, ports and VSIDs (so a
 * move between leaves changes entries on both switches).
 *
 * A leaf knows every endpoint of every VSID it carries, and the P4 program's tables hold 65,536
 * entries; so past SHARED_ENDPOINTS the rest go to VSIDs that only one leaf carries (50 more on
 * each, source guard off), which keeps each leaf within its tables up to 100,000 endpoints.
 * Moves take endpoints of the shared VSIDs (movedEndpoint).
 */
export const vsids = 50;
export const trunkPorts = 8;
/** Endpoints in the VSIDs both leaves carry; any beyond live in one leaf's own VSIDs. */
export const SHARED_ENDPOINTS = 20_000;

const mac = (j: number) =>
  `02:00:${((j >> 16) & 0xff).toString(16).padStart(2, "0")}:${((j >> 8) & 0xff).toString(16).padStart(2, "0")}:${(j & 0xff).toString(16).padStart(2, "0")}:01`;

/** VSID, VLAN and first IPv4 octets of shared VSID i (0 ≤ i < vsids) or of leaf l's own. */
function vsidOf(i: number, leaf?: number) {
  const block = leaf === undefined ? 0 : leaf + 1;
  return { vsid: 0x5000 + 0x1000 * block + i, vlan: 100 + 100 * block + i, net: 50 * block + i };
}

/** Two leaves, `vsids` VSIDs on trunk ports 1–8 of each, `count` endpoints spread over them. */
export function fabricText(addresses: string[], count: number): string {
  const own = count > SHARED_ENDPOINTS;
  const leafVsids = (leaf: number) => [
    ...Array.from({ length: vsids }, (_, i) => vsidOf(i)),
    ...(own ? Array.from({ length: vsids }, (_, i) => vsidOf(i, leaf)) : []),
  ];
  const leaves = addresses.map((address, l) => {
    const vlans = leafVsids(l)
      .map(({ vlan, vsid }) => `{ vlan: ${vlan}, vsid: ${vsid} }`)
      .join(", ");
    return `  - name: leaf${l + 1}
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${l + 1} }
    routerMac: "02:00:00:00:0a:0${l + 1}"
    providerAddresses: [10.0.0.${l + 1}]
    ports:
${Array.from({ length: trunkPorts }, (_, p) => `      - { port: ${p + 1}, kind: access, vlans: [${vlans}] }`).join("\n")}
      - { port: 20, kind: fabric, peer: { switch: leaf${2 - l}, port: 20 }, mtu: 9000 }`;
  });
  const subnets = Array.from(
    { length: vsids },
    (_, i) => `  - { vsid: ${vsidOf(i).vsid}, name: net-${i}, tenant: t }`,
  );
  if (own) {
    for (const l of [0, 1]) {
      for (let i = 0; i < vsids; i++) {
        subnets.push(
          `  - { vsid: ${vsidOf(i, l).vsid}, name: leaf${l + 1}-net-${i}, tenant: t, sourceGuard: false }`,
        );
      }
    }
  }
  const endpoints = Array.from({ length: count }, (_, j) => {
    const shared = j < SHARED_ENDPOINTS;
    // Shared VSIDs: alternate leaves; beyond: leaf by parity, in that leaf's own VSIDs.
    const k = shared ? j : j - SHARED_ENDPOINTS;
    const leaf = (shared ? j : k) % 2;
    const i = (shared ? k : k >> 1) % vsids;
    const n = Math.floor((shared ? k : k >> 1) / vsids);
    const v = shared ? vsidOf(i) : vsidOf(i, leaf);
    return `  - { name: ep-${j}, vsid: ${v.vsid}, mac: "${mac(j)}", ips: [10.${v.net}.${n >> 8}.${n & 0xff}], location: { switch: leaf${leaf + 1}, port: ${1 + (n % trunkPorts)}, vlan: ${v.vlan} } }`;
  });
  return `switches:\n${leaves.join("\n")}\ntenants: [{ name: t }]\nvirtualSubnets:\n${subnets.join("\n")}\nendpoints:\n${endpoints.join("\n")}\n`;
}

/** The i-th benchmark move: an endpoint of a shared VSID, to the other leaf's port. */
export function movedEndpoint(i: number, count: number) {
  const j = (i * 7919) % Math.min(count, SHARED_ENDPOINTS);
  const v = vsidOf(j % vsids);
  // Across leaves and ports, so each move changes entries on both switches.
  return {
    name: `ep-${j}`,
    location: {
      switch: `leaf${((j + i + 1) % 2) + 1}`,
      port: 1 + ((i + 3) % trunkPorts),
      vlan: v.vlan,
    },
  };
}
