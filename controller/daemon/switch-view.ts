/**
 * What the punt handler needs to know about a switch (punt/handler.ts PuntSwitchView),
 * answered from the validated fabric: VLANs of access ports, the far end of fabric ports
 * (a peer switch's router MAC, an attached NVE host's MAC, or a static underlay next hop's),
 * and the switch's own PAs.
 */
import type { Fabric, Switch } from "../intent/model.js";
import { integerBytes } from "./punt/frame.js";
import type { PuntSwitchView } from "./punt/handler.js";

export function switchView(fabric: Fabric, sw: Switch): PuntSwitchView {
  return {
    accessVlan(port, vsid) {
      const mapping = sw.accessPorts
        .find((p) => p.port === port)
        ?.vlans.find((v) => v.vsid === vsid);
      if (!mapping) return undefined;
      return mapping.vlan === 0 ? null : mapping.vlan;
    },
    fabricPort(port) {
      const link = sw.fabricPorts.find((p) => p.port === port);
      if (!link) return undefined;
      const neighbour =
        (link.peer && fabric.switchByName.get(link.peer.switch)?.routerMac.value) ??
        fabric.nves.find((n) => n.attachment?.switch === sw.name && n.attachment.port === port)
          ?.attachment?.mac.value ??
        fabric.underlayRoutes
          .filter((r) => r.switch === sw.name)
          .flatMap((r) => r.nextHops)
          .find((hop) => hop.port === port)?.mac.value;
      if (neighbour === undefined) return undefined;
      return {
        routerMac: integerBytes(sw.routerMac.value, 6),
        neighbourMac: integerBytes(neighbour, 6),
        ...(link.vlan === undefined ? {} : { vlan: link.vlan }),
      };
    },
    providerAddress(family) {
      const pa = sw.providerAddresses.find((p) => p.address.family === family);
      return pa ? integerBytes(pa.address.value, family === 4 ? 4 : 16) : undefined;
    },
    isProviderAddress(address) {
      const family = address.length === 4 ? 4 : 6;
      const value = BigInt(`0x${address.toString("hex")}`);
      return sw.providerAddresses.some(
        (p) => p.address.family === family && p.address.value === value,
      );
    },
  };
}
