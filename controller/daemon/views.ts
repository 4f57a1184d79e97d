/**
 * `nvgre-ctl get KIND`: flat rows of the validated intent (learned endpoints included, marked),
 * the same for the table a person reads and the JSON a script parses.
 */
import type { Fabric, Switch } from "../intent/model.js";
import { formatVsid } from "../intent/schema.js";
import type { GetKind, GetResponse } from "./protocol.js";

type Rows = GetResponse["rows"];

export function rowsOf(kind: GetKind, fabric: Fabric, connected: (sw: Switch) => boolean): Rows {
  switch (kind) {
    case "switches":
      return fabric.switches.map((sw) => ({
        name: sw.name,
        role: sw.role,
        address: sw.p4runtime.address,
        deviceId: sw.p4runtime.deviceId,
        routerMac: sw.routerMac.text,
        providerAddresses: sw.providerAddresses.map((p) => p.address.text),
        accessPorts: sw.accessPorts.map((p) => String(p.port)),
        fabricPorts: sw.fabricPorts.map((p) => String(p.port)),
        connected: connected(sw),
      }));
    case "vsids":
      return fabric.virtualSubnets.map((s) => ({
        vsid: s.vsid,
        name: s.name,
        tenant: s.tenant,
        gateway: s.gateway
          ? `${s.gateway.mac.text} ${s.gateway.addresses.map((a) => a.prefix.text.replace(/^[^/]*/, a.address.text)).join(" ")}`
          : null,
        flood: s.flood.mode === "head-end" ? "head-end" : `multicast ${s.flood.group.text}`,
        learning:
          s.learnLocal && s.learnRemote
            ? "both"
            : s.learnLocal
              ? "local"
              : s.learnRemote
                ? "remote"
                : "off",
        sourceGuard: s.sourceGuard,
        paValidation: s.paValidation,
        mtu: s.mtu,
        endpoints: s.endpoints.length,
      }));
    case "endpoints":
      return fabric.endpoints.map((e) => ({
        name: e.name,
        vsid: e.vsid,
        mac: e.mac.text,
        ips: e.ips.map((ip) => ip.text),
        location:
          e.location.kind === "nve"
            ? `nve ${e.location.nve}`
            : `${e.location.switch}:${e.location.port}${e.location.vlan ? ` vlan ${e.location.vlan}` : ""}`,
        learned: e.learned,
      }));
    case "nves":
      return fabric.nves.map((n) => ({
        name: n.name,
        providerAddresses: n.providerAddresses.map((p) => p.address.text),
        attachment: n.attachment
          ? `${n.attachment.switch}:${n.attachment.port} (${n.attachment.mac.text})`
          : null,
        vsids: fabric.virtualSubnets
          .filter((s) => s.nves.includes(n))
          .map((s) => formatVsid(s.vsid)),
      }));
    case "routes":
      return [
        ...fabric.routes.map((r) => ({
          kind: "tenant",
          scope: r.tenant,
          prefix: r.prefix.text,
          nextHop:
            r.nextHop.kind === "endpoint"
              ? `endpoint ${r.nextHop.endpoint}`
              : r.nextHop.kind === "vsid"
                ? `on-link in ${formatVsid(r.nextHop.vsid)}`
                : `nve ${r.nextHop.nve} ${formatVsid(r.nextHop.vsid)} ${r.nextHop.mac.text}`,
        })),
        ...fabric.underlayRoutes.map((r) => ({
          kind: "underlay",
          scope: r.switch,
          prefix: r.prefix.text,
          nextHop: r.nextHops.map((h) => `port ${h.port} ${h.mac.text}`).join(", "),
        })),
      ];
  }
}
