/**
 * Source MAC learning (p4/include/learning.p4): a learn_t digest sample says "MAC m of VSID v
 * was seen at an access port of this switch, or behind the remote NVE with PA p". The daemon
 * records it in the intent as an endpoint marked `learned: true` (so it survives restarts and
 * shows as learned in `get endpoints`), and the compiler turns it into entries like any other
 * endpoint. Declared endpoints are authoritative: learning never moves or shadows them.
 * What a sample means is decided here, purely; the daemon applies the edits.
 */

import { canonicalHex, parseMac } from "../intent/addresses.js";
import type { Fabric } from "../intent/model.js";
import type { FabricDocument } from "../intent/schema.js";
import { formatVsid } from "../intent/schema.js";
import { formatAddress, integerBytes } from "./punt/frame.js";

type EndpointDoc = NonNullable<FabricDocument["endpoints"]>[number];

/** One learn_t sample as PacketIoCodec decodes it (member name → value). */
export interface LearnSample {
  vsid: bigint;
  mac: bigint;
  port: bigint;
  from_nve: bigint;
  pa_is_v6: bigint;
  pa: bigint;
}

export type LearnDecision =
  | { action: "record"; endpoint: EndpointDoc; summary: string }
  | { action: "ignore"; summary: string; level: "info" | "warn" };

/** The name a learned endpoint gets: unique per (VSID, MAC), stable across moves. */
export function learnedEndpointName(vsid: number, mac: string): string {
  return `learned-${vsid.toString(16)}-${mac.replaceAll(":", "")}`;
}

function describeLocation(location: EndpointDoc["location"]): string {
  if (location.nve) return `NVE ${location.nve}`;
  return `${location.switch}:${location.port}${location.vlan ? ` VLAN ${location.vlan}` : ""}`;
}

function sameLocation(a: EndpointDoc["location"], b: EndpointDoc["location"]): boolean {
  return a.nve === b.nve && a.switch === b.switch && a.port === b.port && a.vlan === b.vlan;
}

/**
 * What to do with one sample raised by `switchName`, given the validated fabric and the
 * document it came from (whose endpoints are matched by VSID and canonical MAC).
 */
export function decideLearning(
  fabric: Fabric,
  document: FabricDocument,
  switchName: string,
  sample: LearnSample,
): LearnDecision {
  const vsid = Number(sample.vsid);
  const mac = formatAddress(integerBytes(sample.mac, 6));
  const what = `${mac} in VSID ${formatVsid(vsid)}`;
  const subnet = fabric.subnetByVsid.get(vsid);
  if (!subnet) {
    return {
      action: "ignore",
      level: "warn",
      summary: `${what}: the VSID is not in the intent; not learned`,
    };
  }
  let location: EndpointDoc["location"];
  if (sample.from_nve === 0n) {
    if (!subnet.learnLocal) {
      return {
        action: "ignore",
        level: "info",
        summary: `${what}: local learning is off for the VSID`,
      };
    }
    const port = Number(sample.port);
    const mapping = fabric.switchByName
      .get(switchName)
      ?.accessPorts.find((p) => p.port === port)
      ?.vlans.find((v) => v.vsid === vsid);
    if (!mapping) {
      return {
        action: "ignore",
        level: "warn",
        summary: `${what}: port ${switchName}:${port} does not carry the VSID; not learned`,
      };
    }
    location = { switch: switchName, port, ...(mapping.vlan === 0 ? {} : { vlan: mapping.vlan }) };
  } else {
    if (!subnet.learnRemote) {
      return {
        action: "ignore",
        level: "info",
        summary: `${what}: remote learning is off for the VSID`,
      };
    }
    const family = sample.pa_is_v6 === 1n ? 6 : 4;
    const paHex = canonicalHex(sample.pa);
    const owns = (node: { providerAddresses: { address: { family: number; hex: string } }[] }) =>
      node.providerAddresses.some((p) => p.address.family === family && p.address.hex === paHex);
    const nve = fabric.nves.find(owns);
    if (!nve) {
      const leaf = fabric.switches.find(owns);
      return leaf
        ? {
            action: "ignore",
            level: "info",
            summary: `${what}: behind switch ${leaf.name}, which learns its own ports`,
          }
        : {
            action: "ignore",
            level: "warn",
            summary: `${what}: behind PA ${formatAddress(integerBytes(sample.pa, family === 4 ? 4 : 16))}, which is no NVE of the intent; not learned`,
          };
    }
    location = { nve: nve.name };
  }

  const endpoints = document.endpoints ?? [];
  const existing = endpoints.find((e) => Number(e.vsid) === vsid && parseMac(e.mac).text === mac);
  if (existing && !existing.learned) {
    return sameLocation(existing.location, location)
      ? { action: "ignore", level: "info", summary: `${what}: declared as ${existing.name}` }
      : {
          action: "ignore",
          level: "warn",
          summary: `${what}: seen at ${describeLocation(location)}, but ${existing.name} is declared at ${describeLocation(existing.location)}; the intent wins (move it with \`nvgre-ctl endpoint move\`)`,
        };
  }
  if (existing && sameLocation(existing.location, location)) {
    return {
      action: "ignore",
      level: "info",
      summary: `${what}: already learned at ${describeLocation(location)}`,
    };
  }
  const endpoint: EndpointDoc = {
    name: existing?.name ?? learnedEndpointName(vsid, mac),
    vsid,
    mac,
    ips: existing?.ips ?? [],
    location,
    learned: true,
  };
  return {
    action: "record",
    endpoint,
    summary: existing
      ? `${what} moved from ${describeLocation(existing.location)} to ${describeLocation(location)}`
      : `learned ${what} at ${describeLocation(location)}`,
  };
}

/** The document with a learned endpoint added, or replacing the one of the same name. */
export function recordLearned(document: FabricDocument, endpoint: EndpointDoc): FabricDocument {
  const endpoints = document.endpoints ?? [];
  const index = endpoints.findIndex((e) => e.name === endpoint.name);
  return {
    ...document,
    endpoints: index < 0 ? [...endpoints, endpoint] : endpoints.with(index, endpoint),
  };
}
