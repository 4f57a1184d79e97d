/**
 * The API tests' fabric: leaf1 with two access ports in VSID 0x5001 and endpoint web-1 on
 * port 1, at the address and device id the daemon reaches the switch by.
 */
export function oneLeafFabric(address: string, deviceId: number): string {
  return `version: 1
name: api-contract
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "02:00:00:00:01:01", ips: [10.1.1.10], location: { switch: leaf1, port: 1 } }
`;
}
