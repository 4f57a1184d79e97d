/**
 * Semantic validation: what the schema cannot see because it needs the whole file. Unknown
 * names, duplicates, ports that do not map a VSID, links whose ends disagree, MTUs too small
 * for NVGRE's overhead, routes that would cross tenants (R18), NVEs with no common PA family.
 * Every problem is collected with its path; the result is the resolved Fabric model. The rules
 * of single endpoints, routes and VSID memberships live in rules.ts (a change is checked by them
 * alone: validate-change.ts).
 */
import { targetProfile } from "../targets/profiles.js";
import { parseInterfaceAddress, parseIp, parseMac, parsePrefix } from "./addresses.js";
import { type IntentPath, IssueList } from "./errors.js";
import type {
  AccessPort,
  Endpoint,
  Fabric,
  FabricPort,
  Nve,
  ProviderAddress,
  Switch,
  Tenant,
  UnderlayRoute,
  VirtualSubnet,
} from "./model.js";
import { type EndpointClaims, FabricRules, hint } from "./rules.js";
import {
  type FabricFile,
  formatVsid,
  type NveSpec,
  type ProviderAddressSpec,
  type SwitchSpec,
} from "./schema.js";

/** NVGRE overhead on the outer IP MTU: inner Ethernet 14 + GRE with key 8 + outer IP 20 / 40. */
export const NVGRE_OVERHEAD = { 4: 42, 6: 62 } as const;

export function validateFabric(file: FabricFile, source?: string): Fabric {
  const issues = new IssueList();
  const v = new Validator(file, issues);
  const fabric = v.run();
  issues.throwIfAny(source);
  return fabric;
}

/** The fabric while the Validator builds it: its lists and indexes still growing. */
type Building = Fabric & {
  switchByName: Map<string, Switch>;
  nveByName: Map<string, Nve>;
  subnetByVsid: Map<number, VirtualSubnet>;
  endpointByName: Map<string, Endpoint>;
  endpointByMac: Map<string, string>;
  endpointByCa: Map<string, string>;
  endpointByRoutedCa: Map<string, string>;
};

function emptyFabric(file: FabricFile): Building {
  return {
    name: file.name,
    settings: {
      encapTtl: file.settings.encapTtl,
      puntVendorVsid: file.settings.puntVendorVsid,
      tunnelFamily: file.settings.tunnelFamily === "ipv6" ? 6 : 4,
      tenantMtu: file.settings.tenantMtu,
    },
    switches: [],
    tenants: [],
    virtualSubnets: [],
    nves: [],
    endpoints: [],
    underlayRoutes: [],
    routes: [],
    switchByName: new Map(),
    nveByName: new Map(),
    subnetByVsid: new Map(),
    endpointByName: new Map(),
    endpointByMac: new Map(),
    endpointByCa: new Map(),
    endpointByRoutedCa: new Map(),
  };
}

class Validator extends FabricRules<Building> {
  /** PA text → who owns it, so a PA is never claimed twice. */
  private readonly paOwners = new Map<string, string>();

  constructor(
    private readonly file: FabricFile,
    issues: IssueList,
  ) {
    super(emptyFabric(file), issues);
  }

  run(): Fabric {
    // Order matters: later sections refer to earlier ones.
    this.tenants();
    this.subnets();
    this.switches();
    this.links();
    this.nves();
    this.endpoints();
    this.memberships();
    this.underlayRoutes();
    this.tenantRoutes();
    this.mtus();
    this.tunnelFamiliesOfAll();
    return this.fabric;
  }

  private tenants() {
    const seen = new Set<string>();
    this.file.tenants.forEach((spec, i) => {
      const path = ["tenants", i];
      if (seen.has(spec.name)) {
        this.add([...path, "name"], `tenant "${spec.name}" is defined twice`);
        return;
      }
      seen.add(spec.name);
      this.fabric.tenants.push({ name: spec.name, path } satisfies Tenant);
    });
  }

  private subnets() {
    const tenants = new Set(this.fabric.tenants.map((t) => t.name));
    const names = new Map<string, number>();
    this.file.virtualSubnets.forEach((spec, i) => {
      const path = ["virtualSubnets", i];
      if (this.fabric.subnetByVsid.has(spec.vsid)) {
        this.add([...path, "vsid"], `VSID ${formatVsid(spec.vsid)} is defined twice`);
        return;
      }
      if (names.has(spec.name)) {
        this.add(
          [...path, "name"],
          `virtual subnet name "${spec.name}" is already used by VSID ${formatVsid(names.get(spec.name) ?? 0)}`,
        );
      }
      names.set(spec.name, spec.vsid);
      if (!tenants.has(spec.tenant)) {
        this.add([...path, "tenant"], `unknown tenant "${spec.tenant}"${hint(tenants)}`);
      }
      const gateway = spec.gateway && {
        mac: parseMac(spec.gateway.mac),
        addresses: spec.gateway.ips.map((text) => parseInterfaceAddress(text)),
      };
      if (gateway) {
        const seenGw = new Set<string>();
        gateway.addresses.forEach((gw, j) => {
          if (seenGw.has(gw.address.text)) {
            this.add(
              [...path, "gateway", "ips", j],
              `gateway address ${gw.address.text} is listed twice`,
            );
          }
          seenGw.add(gw.address.text);
        });
      }
      const learning = spec.learning;
      const subnet: VirtualSubnet = {
        vsid: spec.vsid,
        name: spec.name,
        path,
        tenant: spec.tenant,
        gateway,
        flood:
          spec.flood === "head-end"
            ? { mode: "head-end" }
            : { mode: "multicast", group: parseIp(spec.flood.multicastGroup) },
        sourceGuard: spec.sourceGuard,
        paValidation: spec.paValidation,
        learnLocal: typeof learning === "boolean" ? learning : learning.local,
        learnRemote: typeof learning === "boolean" ? learning : learning.remote,
        mtu: spec.mtu ?? this.file.settings.tenantMtu,
        endpoints: [],
        switches: [],
        nves: [],
      };
      this.fabric.virtualSubnets.push(subnet);
      this.fabric.subnetByVsid.set(spec.vsid, subnet);
    });
  }

  private providerAddresses(
    specs: ProviderAddressSpec[],
    path: IntentPath,
    owner: string,
  ): ProviderAddress[] {
    const pinned = new Map<string, string>();
    return specs.map((spec, j) => {
      const at = [...path, j];
      const address = parseIp(typeof spec === "string" ? spec : spec.address);
      const vsids = typeof spec === "string" ? [] : (spec.vsids ?? []);
      const claimed = this.paOwners.get(address.text);
      if (claimed) this.add(at, `provider address ${address.text} is already used by ${claimed}`);
      else this.paOwners.set(address.text, owner);
      vsids.forEach((vsid, k) => {
        if (!this.knownVsid([...at, "vsids", k], vsid)) return;
        const key = `${vsid}/${address.family}`;
        const other = pinned.get(key);
        if (other) {
          this.add(
            [...at, "vsids", k],
            `VSID ${formatVsid(vsid)} already has the IPv${address.family} PA ${other} on ${owner}`,
          );
        }
        pinned.set(key, address.text);
      });
      return { address, vsids };
    });
  }

  private nodeName(path: IntentPath, name: string): boolean {
    if (this.fabric.switchByName.has(name) || this.fabric.nveByName.has(name)) {
      this.add(path, `name "${name}" is already used by another switch or NVE`);
      return false;
    }
    return true;
  }

  private switches() {
    const sessions = new Map<string, string>();
    const routerMacs = new Map<string, string>();
    this.file.switches.forEach((spec, i) => {
      const path = ["switches", i];
      if (!this.nodeName([...path, "name"], spec.name)) return;
      const session = `${spec.p4runtime.address}#${spec.p4runtime.deviceId}`;
      const other = sessions.get(session);
      if (other) {
        this.add(
          [...path, "p4runtime"],
          `switch ${other} already uses P4Runtime ${spec.p4runtime.address} device ${spec.p4runtime.deviceId}`,
        );
      }
      sessions.set(session, spec.name);
      const routerMac = parseMac(spec.routerMac);
      const macOwner = routerMacs.get(routerMac.text);
      if (macOwner)
        this.add([...path, "routerMac"], `router MAC ${routerMac.text} is already ${macOwner}'s`);
      routerMacs.set(routerMac.text, spec.name);
      const target = targetProfile(spec.target);
      const cpuPort = spec.cpuPort ?? target.defaultCpuPort;
      this.targetPorts(spec, path, cpuPort);
      const sw: Switch = {
        kind: "switch",
        name: spec.name,
        path,
        role: spec.role,
        p4runtime: spec.p4runtime,
        routerMac,
        target: target.name,
        cpuPort,
        providerAddresses: this.providerAddresses(
          spec.providerAddresses,
          [...path, "providerAddresses"],
          `switch ${spec.name}`,
        ),
        ...this.ports(spec, path, cpuPort),
      };
      if (sw.role === "leaf" && sw.providerAddresses.length === 0) {
        this.add(
          [...path, "providerAddresses"],
          `leaf ${sw.name} needs at least one provider address to terminate NVGRE`,
        );
      }
      if (sw.role === "spine" && sw.accessPorts.length > 0) {
        this.add(
          [...(sw.accessPorts[0]?.path ?? path)],
          `spine ${sw.name} cannot have access ports (tenant ports belong on leaves)`,
        );
      }
      this.fabric.switches.push(sw);
      this.fabric.switchByName.set(sw.name, sw);
    });
  }

  /** Every port of the switch, the CPU port included, exists on its target. */
  private targetPorts(spec: SwitchSpec, path: IntentPath, cpuPort: number) {
    const target = targetProfile(spec.target);
    const problem = (at: IntentPath, port: number) => {
      const reason = target.portProblem(port);
      if (reason) this.add(at, `${reason} (target ${target.name})`);
    };
    problem([...path, spec.cpuPort === undefined ? "target" : "cpuPort"], cpuPort);
    spec.ports.forEach((port, j) => {
      problem([...path, "ports", j, "port"], port.port);
    });
  }

  private ports(spec: SwitchSpec, path: IntentPath, cpuPort: number) {
    const accessPorts: AccessPort[] = [];
    const fabricPorts: FabricPort[] = [];
    const seen = new Set<number>();
    spec.ports.forEach((port, j) => {
      const at = [...path, "ports", j];
      if (seen.has(port.port)) {
        this.add([...at, "port"], `port ${port.port} is listed twice on ${spec.name}`);
        return;
      }
      seen.add(port.port);
      if (port.port === cpuPort) {
        this.add([...at, "port"], `port ${port.port} is ${spec.name}'s CPU port`);
        return;
      }
      if (port.kind === "fabric") {
        fabricPorts.push({
          port: port.port,
          path: at,
          mtu: port.mtu,
          vlan: port.vlan,
          peer: port.peer,
        });
        return;
      }
      const vlans: AccessPort["vlans"] = [];
      if (port.untagged !== undefined && this.knownVsid([...at, "untagged"], port.untagged)) {
        vlans.push({ vlan: 0, vsid: port.untagged });
      }
      const vlanSeen = new Set<number>();
      (port.vlans ?? []).forEach((mapping, k) => {
        const mp = [...at, "vlans", k];
        if (vlanSeen.has(mapping.vlan)) {
          this.add([...mp, "vlan"], `VLAN ${mapping.vlan} is mapped twice on port ${port.port}`);
          return;
        }
        vlanSeen.add(mapping.vlan);
        if (this.knownVsid([...mp, "vsid"], mapping.vsid)) vlans.push(mapping);
      });
      if (port.untagged === undefined && (port.vlans ?? []).length === 0) {
        this.add(at, `access port ${port.port} maps nothing: give it "untagged" and/or "vlans"`);
      }
      // The egress VLAN of a frame is looked up by (port, VSID): one VLAN per VSID per port.
      const byVsid = new Map<number, number>();
      for (const mapping of vlans) {
        const other = byVsid.get(mapping.vsid);
        if (other !== undefined) {
          this.add(
            at,
            `VSID ${formatVsid(mapping.vsid)} is mapped from both ${vlanName(other)} and ${vlanName(mapping.vlan)} on port ${port.port}; a VSID has one VLAN per port`,
          );
        }
        byVsid.set(mapping.vsid, mapping.vlan);
      }
      accessPorts.push({ port: port.port, path: at, vlans });
    });
    return { accessPorts, fabricPorts };
  }

  /** Both ends of every switch-to-switch link name each other and agree on the MTU. */
  private links() {
    for (const sw of this.fabric.switches) {
      for (const port of sw.fabricPorts) {
        if (!port.peer) continue;
        const at = [...port.path, "peer"];
        const peer = this.fabric.switchByName.get(port.peer.switch);
        if (!peer) {
          this.add(
            [...at, "switch"],
            `unknown switch "${port.peer.switch}"${hint(this.fabric.switchByName.keys())}`,
          );
          continue;
        }
        if (peer === sw) {
          this.add(
            [...at, "switch"],
            `port ${port.port} of ${sw.name} cannot peer with its own switch`,
          );
          continue;
        }
        const far = peer.fabricPorts.find((p) => p.port === port.peer?.port);
        if (!far) {
          this.add([...at, "port"], `${peer.name} has no fabric port ${port.peer.port}`);
          continue;
        }
        if (far.peer?.switch !== sw.name || far.peer.port !== port.port) {
          const says = far.peer ? `${far.peer.switch}:${far.peer.port}` : "no peer";
          this.add(
            at,
            `${peer.name}:${far.port} names ${says} as its peer, not ${sw.name}:${port.port}`,
          );
          continue;
        }
        if (far.mtu !== port.mtu) {
          this.add(
            [...port.path, "mtu"],
            `MTU ${port.mtu} differs from ${far.mtu} at the other end (${peer.name}:${far.port})`,
          );
        }
      }
    }
  }

  private externalFabricPort(path: IntentPath, switchName: string, portNumber: number): boolean {
    const sw = this.fabric.switchByName.get(switchName);
    if (!sw) {
      this.add(
        [...path, "switch"],
        `unknown switch "${switchName}"${hint(this.fabric.switchByName.keys())}`,
      );
      return false;
    }
    const port = sw.fabricPorts.find((p) => p.port === portNumber);
    if (!port) {
      this.add([...path, "port"], `${switchName} has no fabric port ${portNumber}`);
      return false;
    }
    if (port.peer) {
      this.add(
        [...path, "port"],
        `${switchName}:${portNumber} is a link to ${port.peer.switch}, not to a host or router outside the fabric`,
      );
      return false;
    }
    return true;
  }

  private nves() {
    this.file.nves.forEach((spec: NveSpec, i) => {
      const path = ["nves", i];
      if (!this.nodeName([...path, "name"], spec.name)) return;
      const attachment =
        spec.attachment &&
        this.externalFabricPort(
          [...path, "attachment"],
          spec.attachment.switch,
          spec.attachment.port,
        )
          ? {
              switch: spec.attachment.switch,
              port: spec.attachment.port,
              mac: parseMac(spec.attachment.mac),
            }
          : undefined;
      const nve: Nve = {
        kind: "nve",
        name: spec.name,
        path,
        providerAddresses: this.providerAddresses(
          spec.providerAddresses,
          [...path, "providerAddresses"],
          `NVE ${spec.name}`,
        ),
        attachment,
        vsids: [],
      };
      const declared = new Set<number>();
      spec.vsids.forEach((vsid, k) => {
        const at = [...path, "vsids", k];
        if (!this.knownVsid(at, vsid)) return;
        if (declared.has(vsid)) this.add(at, `VSID ${formatVsid(vsid)} is listed twice`);
        else nve.vsids.push(vsid);
        declared.add(vsid);
      });
      this.fabric.nves.push(nve);
      this.fabric.nveByName.set(nve.name, nve);
    });
  }

  private endpoints() {
    const claims: EndpointClaims = {
      macs: this.fabric.endpointByMac,
      cas: this.fabric.endpointByCa,
      routedCas: this.fabric.endpointByRoutedCa,
    };
    this.file.endpoints.forEach((spec, i) => {
      const path = ["endpoints", i];
      if (this.fabric.endpointByName.has(spec.name)) {
        this.add([...path, "name"], `endpoint "${spec.name}" is defined twice`);
        return;
      }
      const endpoint = this.endpoint(spec, path, claims);
      if (!endpoint) return;
      this.fabric.endpoints.push(endpoint);
      this.fabric.endpointByName.set(endpoint.name, endpoint);
      this.fabric.subnetByVsid.get(endpoint.vsid)?.endpoints.push(endpoint);
    });
  }

  private memberships() {
    for (const sw of this.fabric.switches) {
      const vsids = new Set(sw.accessPorts.flatMap((p) => p.vlans.map((m) => m.vsid)));
      for (const vsid of vsids) this.fabric.subnetByVsid.get(vsid)?.switches.push(sw);
    }
    for (const subnet of this.fabric.virtualSubnets) subnet.nves = this.subnetNves(subnet);
  }

  private underlayRoutes() {
    const seen = new Set<string>();
    this.file.underlay.routes.forEach((spec, i) => {
      const path = ["underlay", "routes", i];
      const prefix = parsePrefix(spec.prefix);
      const key = `${spec.switch}/${prefix.text}`;
      if (seen.has(key)) {
        this.add([...path, "prefix"], `${prefix.text} is routed twice at ${spec.switch}`);
        return;
      }
      seen.add(key);
      const ok = spec.nextHops.every((hop, j) =>
        this.externalFabricPort([...path, "nextHops", j], spec.switch, hop.port),
      );
      if (!ok) return;
      const route: UnderlayRoute = {
        path,
        switch: spec.switch,
        prefix,
        nextHops: spec.nextHops.map((hop) => ({ port: hop.port, mac: parseMac(hop.mac) })),
      };
      this.fabric.underlayRoutes.push(route);
    });
  }

  private tenantRoutes() {
    const tenants = new Set(this.fabric.tenants.map((t) => t.name));
    const seen = new Set<string>();
    this.file.routes.forEach((spec, i) => {
      const route = this.tenantRoute(spec, ["routes", i], tenants, seen);
      if (route) this.fabric.routes.push(route);
    });
  }

  /** Every fabric link carries the largest tenant packet plus NVGRE's overhead, never fragmented (R12). */
  private mtus() {
    const tenantMtu = Math.max(
      this.file.settings.tenantMtu,
      ...this.fabric.virtualSubnets.map((s) => s.mtu),
    );
    const anyV6 = [...this.fabric.switches, ...this.fabric.nves].some((node) =>
      node.providerAddresses.some((pa) => pa.address.family === 6),
    );
    const overhead = anyV6 ? NVGRE_OVERHEAD[6] : NVGRE_OVERHEAD[4];
    const needed = tenantMtu + overhead;
    for (const sw of this.fabric.switches) {
      for (const port of sw.fabricPorts) {
        if (port.mtu < needed) {
          this.add(
            [...port.path, "mtu"],
            `${port.mtu} is too small: tenant packets of up to ${tenantMtu} bytes plus NVGRE over IPv${anyV6 ? 6 : 4} (${overhead} bytes${anyV6 ? ", the fabric has IPv6 PAs" : ""}) need at least ${needed}`,
          );
        }
      }
    }
  }

  private tunnelFamiliesOfAll() {
    for (const subnet of this.fabric.virtualSubnets) this.tunnelFamilies(subnet);
  }
}

function vlanName(vlan: number): string {
  return vlan === 0 ? "untagged frames" : `VLAN ${vlan}`;
}
