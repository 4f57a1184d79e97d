/**
 * Reads the frames the switch punts to the controller (packet_in payloads): Ethernet with at
 * most one 802.1Q tag, IPv4 or IPv6, and NVGRE (GRE `20 00 65 58` + key) down to the tenant
 * frame inside. Only what the punt handlers need is decoded; the bytes stay views of the
 * payload. Anything else is a PuntFrameError naming the layer and what is wrong with it.
 */
import ipaddr from "ipaddr.js";

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const IP_PROTO_GRE = 47;
const GRE_PROTO_TEB = 0x6558;
/** C=0 R=0 K=1 S=0, version 0: the only GRE flags NVGRE allows (RFC 7637 §3.2, R1). */
const GRE_FLAGS_NVGRE = 0x2000;
const ETHERNET_BYTES = 14;
const VLAN_BYTES = 4;

export class PuntFrameError extends Error {
  override readonly name = "PuntFrameError";
  constructor(
    /** The layer that could not be read, e.g. `outer IPv4`. */
    readonly layer: string,
    readonly detail: string,
  ) {
    super(`${layer}: ${detail}`);
  }
}

export interface EthernetView {
  dst: Buffer;
  src: Buffer;
  /** The 802.1Q VLAN id, when the frame is tagged. */
  vlan?: number;
  etherType: number;
  /** Bytes from the start of the frame to the Ethernet payload. */
  headerLength: number;
  payload: Buffer;
}

export interface IpView {
  family: 4 | 6;
  src: Buffer;
  dst: Buffer;
  /** IPv4 protocol, or the IPv6 fixed header's next header. */
  protocol: number;
  headerLength: number;
  /** IPv4 only: the DF bit, the fragment offset (in bytes) and MF. IPv6: 0 / false. */
  dontFragment: boolean;
  fragmentOffset: number;
  moreFragments: boolean;
  /** The whole IP packet as punted, from its first header byte (it may be truncated). */
  packet: Buffer;
  /** The IP payload (after the fixed header, and IPv4 options). */
  payload: Buffer;
}

export interface NvgreView {
  vsid: number;
  flowId: number;
  /** The tenant frame behind the GRE key. */
  inner: Buffer;
}

export function parseEthernet(frame: Buffer, layer: string): EthernetView {
  if (frame.length < ETHERNET_BYTES) {
    throw new PuntFrameError(layer, `${frame.length} bytes, shorter than an Ethernet header`);
  }
  let etherType = frame.readUInt16BE(12);
  let headerLength = ETHERNET_BYTES;
  let vlan: number | undefined;
  if (etherType === ETHERTYPE_VLAN) {
    if (frame.length < ETHERNET_BYTES + VLAN_BYTES) {
      throw new PuntFrameError(layer, "802.1Q tag truncated");
    }
    vlan = frame.readUInt16BE(14) & 0x0fff;
    etherType = frame.readUInt16BE(16);
    headerLength += VLAN_BYTES;
  }
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    ...(vlan === undefined ? {} : { vlan }),
    etherType,
    headerLength,
    payload: frame.subarray(headerLength),
  };
}

/** The IP packet of an Ethernet payload; undefined when the EtherType is neither IPv4 nor IPv6. */
export function parseIp(etherType: number, bytes: Buffer, layer: string): IpView | undefined {
  if (etherType === ETHERTYPE_IPV4) return parseIpv4(bytes, `${layer} IPv4`);
  if (etherType === ETHERTYPE_IPV6) return parseIpv6(bytes, `${layer} IPv6`);
  return undefined;
}

function parseIpv4(bytes: Buffer, layer: string): IpView {
  if (bytes.length < 20) throw new PuntFrameError(layer, `${bytes.length} bytes, header is 20`);
  const version = (bytes[0] as number) >> 4;
  const headerLength = ((bytes[0] as number) & 0x0f) * 4;
  if (version !== 4) throw new PuntFrameError(layer, `version ${version}`);
  if (headerLength < 20 || bytes.length < headerLength) {
    throw new PuntFrameError(layer, `header length ${headerLength} in ${bytes.length} bytes`);
  }
  const flagsAndOffset = bytes.readUInt16BE(6);
  return {
    family: 4,
    src: bytes.subarray(12, 16),
    dst: bytes.subarray(16, 20),
    protocol: bytes[9] as number,
    headerLength,
    dontFragment: (flagsAndOffset & 0x4000) !== 0,
    moreFragments: (flagsAndOffset & 0x2000) !== 0,
    fragmentOffset: (flagsAndOffset & 0x1fff) * 8,
    packet: bytes,
    payload: bytes.subarray(headerLength),
  };
}

function parseIpv6(bytes: Buffer, layer: string): IpView {
  if (bytes.length < 40) throw new PuntFrameError(layer, `${bytes.length} bytes, header is 40`);
  const version = (bytes[0] as number) >> 4;
  if (version !== 6) throw new PuntFrameError(layer, `version ${version}`);
  return {
    family: 6,
    src: bytes.subarray(8, 24),
    dst: bytes.subarray(24, 40),
    protocol: bytes[6] as number,
    headerLength: 40,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    packet: bytes,
    payload: bytes.subarray(40),
  };
}

/**
 * The NVGRE header of an IP packet's payload; undefined when the packet is not GRE.
 * GRE that is not NVGRE (other flags, protocol or version) is an error: this switch only
 * ever builds NVGRE, so anything else in a punt means the frame is not what it seems.
 */
export function parseNvgre(ip: IpView, layer: string): NvgreView | undefined {
  if (ip.protocol !== IP_PROTO_GRE) return undefined;
  const gre = ip.payload;
  if (gre.length < 8) throw new PuntFrameError(layer, `GRE header truncated (${gre.length} bytes)`);
  const flags = gre.readUInt16BE(0);
  const protocol = gre.readUInt16BE(2);
  if (flags !== GRE_FLAGS_NVGRE || protocol !== GRE_PROTO_TEB) {
    throw new PuntFrameError(
      layer,
      `GRE ${gre.subarray(0, 4).toString("hex")} is not NVGRE (expected 20006558)`,
    );
  }
  const key = gre.readUInt32BE(4);
  return { vsid: key >>> 8, flowId: key & 0xff, inner: gre.subarray(8) };
}

/** What an MTU punt carries: a tenant frame in NVGRE, or a routed underlay IP packet. */
export type PuntedPacket =
  | {
      kind: "nvgre";
      outer: IpView;
      nvgre: NvgreView;
      tenantEthernet: EthernetView;
      /** The tenant's IP packet; undefined when the tenant frame is not IP (ARP, …). */
      tenantIp: IpView | undefined;
      /** Bytes the tunnel adds in front of the tenant IP packet (outer IP + GRE + inner Ethernet). */
      overhead: number;
    }
  | { kind: "underlay"; ethernet: EthernetView; ip: IpView };

/**
 * Reads a frame punted for MTU: the frame as it would have left the port (mtu.p4), outer
 * headers included. Non-IP frames are never MTU-checked, so they are an error here.
 */
export function parsePuntedFrame(frame: Buffer): PuntedPacket {
  const ethernet = parseEthernet(frame, "outer Ethernet");
  const ip = parseIp(ethernet.etherType, ethernet.payload, "outer");
  if (!ip) {
    throw new PuntFrameError(
      "outer Ethernet",
      `EtherType 0x${ethernet.etherType.toString(16).padStart(4, "0")} is not IP`,
    );
  }
  const nvgre = parseNvgre(ip, "outer GRE");
  if (!nvgre) return { kind: "underlay", ethernet, ip };
  const tenantEthernet = parseEthernet(nvgre.inner, "tenant Ethernet");
  const tenantIp = parseIp(tenantEthernet.etherType, tenantEthernet.payload, "tenant");
  return {
    kind: "nvgre",
    outer: ip,
    nvgre,
    tenantEthernet,
    tenantIp,
    overhead:
      ip.headerLength + (ip.payload.length - nvgre.inner.length) + tenantEthernet.headerLength,
  };
}

/** An unsigned integer as `length` big-endian bytes (a MAC, an IPv4 or IPv6 address). */
export function integerBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, "0"), "hex");
}

/** The conventional text of an address for logs and events. */
export function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join(".");
  if (bytes.length === 6) return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
  // IPv6 in RFC 5952 form: ipaddr.js does the zero compression.
  return ipaddr.fromByteArray([...bytes]).toString();
}
