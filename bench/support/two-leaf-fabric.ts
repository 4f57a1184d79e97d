/**
 * The controller benchmarks' fabric: two leaves joined by a fabric link, `vsids` VSIDs on trunk
 * ports 1–8 of each, any number of endpoints spread over both leaves, ports and VSIDs (so a
 * move between leaves changes entries on both switches).
 */
export const vsids = 50;
export const trunkPorts = 8;

/** Two leaves, `vsids` VSIDs on trunk ports 1–8 of each, `count` endpoints spread over them. */
export function fabricText(addresses: string[], count: number): string {
  const vlans = Array.from(
    { length: vsids },
    (_, i) => `{ vlan: ${100 + i}, vsid: ${0x5000 + i} }`,
  ).join(", ");
  const leaves = addresses.map(
    (address, i) => `  - name: leaf${i + 1}
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${i + 1} }
    routerMac: "02:00:00:00:0a:0${i + 1}"
    providerAddresses: [10.0.0.${i + 1}]
    ports:
${Array.from({ length: trunkPorts }, (_, p) => `      - { port: ${p + 1}, kind: access, vlans: [${vlans}] }`).join("\n")}
      - { port: 20, kind: fabric, peer: { switch: leaf${2 - i}, port: 20 }, mtu: 9000 }`,
  );
  const subnets = Array.from(
    { length: vsids },
    (_, i) => `  - { vsid: ${0x5000 + i}, name: net-${i}, tenant: t }`,
  );
  const endpoints = Array.from({ length: count }, (_, j) => {
    const v = j % vsids;
    const n = Math.floor(j / vsids);
    const mac = `02:00:${((j >> 16) & 0xff).toString(16).padStart(2, "0")}:${((j >> 8) & 0xff).toString(16).padStart(2, "0")}:${(j & 0xff).toString(16).padStart(2, "0")}:01`;
    return `  - { name: ep-${j}, vsid: ${0x5000 + v}, mac: "${mac}", ips: [10.${v}.${n >> 8}.${n & 0xff}], location: { switch: leaf${(j % 2) + 1}, port: ${1 + (n % trunkPorts)}, vlan: ${100 + v} } }`;
  });
  return `switches:\n${leaves.join("\n")}\ntenants: [{ name: t }]\nvirtualSubnets:\n${subnets.join("\n")}\nendpoints:\n${endpoints.join("\n")}\n`;
}
