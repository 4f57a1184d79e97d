/**
 * Source MAC learning (p4/include/learning.p4): a learn_t digest sample says "MAC m of VSID v
 * was seen at an access port of this switch, or behind the remote NVE with PA p". The daemon
 * records it in the intent as an endpoint marked `learned: true` (so it survives restarts and
 * shows as learned in `get endpoints`), and the compiler turns it into entries like any other
 * endpoint. Declared endpoints are authoritative: learning never moves or shadows them.
 *
 * Ageing: a learned endpoint's learned_mac entry where its frames enter carries an idle
 * timeout (the daemon's `learnedAgeingSeconds`); the switch notifies when it went unmatched
 * that long, and the endpoint is removed from the intent (and so from every switch). A moved
 * endpoint has a new entry (and a new timer) at its new place, so a late notice about its old
 * place ages nothing. Declared endpoints never age.
 * What a sample or a notice means is decided here, purely; the daemon applies the edits.
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
  if (sample.from_nve === 0n ? !subnet.learnLocal : !subnet.learnRemote) {
    return {
      action: "ignore",
      level: "info",
      summary: `${what}: ${sample.from_nve === 0n ? "local" : "remote"} learning is off for the VSID`,
    };
  }
  const located = locate(fabric, switchName, sample, what);
  if ("summary" in located) return { action: "ignore", ...located };
  const { location } = located;

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

/**
 * Where a learn_t sample (or a learned_mac key, which has the same fields) of `switchName`
 * puts the station: an access port of that switch, or a remote NVE of the intent.
 */
function locate(
  fabric: Fabric,
  switchName: string,
  sample: LearnSample,
  what: string,
): { location: EndpointDoc["location"] } | { summary: string; level: "info" | "warn" } {
  const vsid = Number(sample.vsid);
  if (sample.from_nve === 0n) {
    const port = Number(sample.port);
    const mapping = fabric.switchByName
      .get(switchName)
      ?.accessPorts.find((p) => p.port === port)
      ?.vlans.find((v) => v.vsid === vsid);
    if (!mapping) {
      return {
        level: "warn",
        summary: `${what}: port ${switchName}:${port} does not carry the VSID; not learned`,
      };
    }
    return {
      location: {
        switch: switchName,
        port,
        ...(mapping.vlan === 0 ? {} : { vlan: mapping.vlan }),
      },
    };
  }
  const family = sample.pa_is_v6 === 1n ? 6 : 4;
  const paHex = canonicalHex(sample.pa);
  const owns = (node: { providerAddresses: { address: { family: number; hex: string } }[] }) =>
    node.providerAddresses.some((p) => p.address.family === family && p.address.hex === paHex);
  const nve = fabric.nves.find(owns);
  if (nve) return { location: { nve: nve.name } };
  const leaf = fabric.switches.find(owns);
  return leaf
    ? { level: "info", summary: `${what}: behind switch ${leaf.name}, which learns its own ports` }
    : {
        level: "warn",
        summary: `${what}: behind PA ${formatAddress(integerBytes(sample.pa, family === 4 ? 4 : 16))}, which is no NVE of the intent; not learned`,
      };
}

export type AgeingDecision =
  | {
      action: "age";
      endpoint: string;
      /** Where it was learned: an NVE's endpoints are seen by every switch of the VSID. */
      location: EndpointDoc["location"];
      summary: string;
    }
  | { action: "keep"; summary: string };

/**
 * What an idle-timeout notice of `switchName` for the learned_mac entry `key` means: the
 * learned endpoint it stands for ages out, unless the entry is not (or no longer) that of a
 * learned endpoint at that place (declared since, moved, already gone).
 */
export function decideAgeing(
  fabric: Fabric,
  document: FabricDocument,
  switchName: string,
  key: LearnSample,
): AgeingDecision {
  const vsid = Number(key.vsid);
  const mac = formatAddress(integerBytes(key.mac, 6));
  const what = `${mac} in VSID ${formatVsid(vsid)}`;
  const existing = (document.endpoints ?? []).find(
    (e) => Number(e.vsid) === vsid && parseMac(e.mac).text === mac,
  );
  if (!existing) return { action: "keep", summary: `${what}: no longer in the intent` };
  if (!existing.learned) {
    return { action: "keep", summary: `${what}: declared as ${existing.name}, never aged` };
  }
  const located = locate(fabric, switchName, key, what);
  if ("summary" in located || !sameLocation(existing.location, located.location)) {
    return {
      action: "keep",
      summary: `${what}: now at ${describeLocation(existing.location)}; the idle entry was its old place`,
    };
  }
  return {
    action: "age",
    endpoint: existing.name,
    location: existing.location,
    summary: `${what} aged out at ${describeLocation(existing.location)}`,
  };
}

/** The document without a learned endpoint (unchanged when it is gone or declared by now). */
export function removeLearned(
  document: FabricDocument,
  name: string,
  location: EndpointDoc["location"],
): FabricDocument {
  const endpoints = document.endpoints ?? [];
  const kept = endpoints.filter(
    (e) => !(e.name === name && e.learned && sameLocation(e.location, location)),
  );
  return kept.length === endpoints.length ? document : { ...document, endpoints: kept };
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
