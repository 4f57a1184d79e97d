/**
 * MAC addresses, IP addresses and prefixes as the fabric file writes them, parsed once into the
 * forms the compiler needs: canonical text (for messages and the store), the integer value
 * (for prefix containment) and canonical hex (P4Runtime's shortest big-endian bytes, as text,
 * so compiled entries never re-parse an address).
 */
import ipaddr from "ipaddr.js";

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  text: string;
  value: bigint;
  /** Lowercase hex without leading zeros ("0" for the zero address). */
  hex: string;
}

export interface IpPrefix {
  family: IpFamily;
  /** Canonical "address/length". */
  text: string;
  /** The network address (host bits zero). */
  value: bigint;
  length: number;
  hex: string;
}

export interface MacAddress {
  /** Canonical text: lowercase, colon-separated. */
  text: string;
  value: bigint;
  hex: string;
}

/** A malformed address; the message says what was expected. */
export class AddressSyntaxError extends Error {
  override readonly name = "AddressSyntaxError";
}

const macPattern = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/;

/** Canonical hex of an unsigned integer, as P4Runtime's canonical bytestring spells it. */
export function canonicalHex(value: bigint | number): string {
  return value.toString(16);
}

export function parseMac(text: string): MacAddress {
  if (!macPattern.test(text)) {
    throw new AddressSyntaxError(
      `"${text}" is not a MAC address (six hex pairs, e.g. 02:00:00:00:00:01)`,
    );
  }
  // The pattern fixed where the separators are, so the canonical text only swaps them; no
  // regular-expression rewriting (this runs for every endpoint on every intent edit).
  const canonical = text.toLowerCase().replaceAll("-", ":");
  const value = BigInt(`0x${canonical.replaceAll(":", "")}`);
  return { text: canonical, value, hex: canonicalHex(value) };
}

/** True for group (multicast/broadcast) MACs: the I/G bit, the lowest bit of the first byte. */
export function isGroupMac(mac: MacAddress): boolean {
  return ((mac.value >> 40n) & 1n) === 1n;
}

/** A dotted quad in the one form ipaddr.js prints (no leading zeros); octets checked apart. */
const dottedQuadPattern =
  /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/**
 * The dotted quad's value, or undefined for anything else. ipaddr.js's check, parse and print
 * take 8 times as long (bench/address-parsing), paid for the IPv4 CAs of every endpoint when a
 * fabric is validated whole (a cold start); whatever this does not take goes to ipaddr.js, which
 * accepts or refuses it.
 */
function dottedQuadValue(text: string): number | undefined {
  const quad = dottedQuadPattern.exec(text);
  if (!quad) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(quad[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function parseIp(text: string): IpAddress {
  const quad = dottedQuadValue(text);
  if (quad !== undefined) return { family: 4, text, value: BigInt(quad), hex: canonicalHex(quad) };
  const address = parseIpaddr(text, text);
  const value = bytesToBigInt(address.toByteArray());
  return {
    family: address.kind() === "ipv4" ? 4 : 6,
    text: address.toString(),
    value,
    hex: canonicalHex(value),
  };
}

/** "address/length"; the host bits must be zero so the prefix means one thing. */
export function parsePrefix(text: string): IpPrefix {
  const slash = text.indexOf("/");
  if (slash < 0) throw new AddressSyntaxError(`"${text}" is not a prefix (address/length)`);
  const address = parseIp(text.slice(0, slash));
  const length = parseLength(text.slice(slash + 1), address.family, text);
  const bits = address.family === 4 ? 32 : 128;
  if ((address.value & ~prefixMask(length, bits)) !== 0n) {
    throw new AddressSyntaxError(
      `"${text}" has host bits set; the network is ${format(address.value & prefixMask(length, bits), address.family)}/${length}`,
    );
  }
  return prefixOf(address, length);
}

/** The /32 or /128 of one address. */
export function hostPrefix(address: IpAddress): IpPrefix {
  return prefixOf(address, address.family === 4 ? 32 : 128);
}

function prefixOf(network: IpAddress, length: number): IpPrefix {
  return {
    family: network.family,
    text: `${network.text}/${length}`,
    value: network.value,
    length,
    hex: network.hex,
  };
}

/** "address/length" naming an interface address: the address and the prefix it sits in. */
export function parseInterfaceAddress(text: string): { address: IpAddress; prefix: IpPrefix } {
  const slash = text.indexOf("/");
  if (slash < 0) {
    throw new AddressSyntaxError(`"${text}" needs a prefix length (e.g. 10.0.1.1/24)`);
  }
  const address = parseIp(text.slice(0, slash));
  const length = parseLength(text.slice(slash + 1), address.family, text);
  const bits = address.family === 4 ? 32 : 128;
  const network = address.value & prefixMask(length, bits);
  return {
    address,
    prefix: {
      family: address.family,
      text: `${format(network, address.family)}/${length}`,
      value: network,
      length,
      hex: canonicalHex(network),
    },
  };
}

export function prefixContains(prefix: IpPrefix, address: IpAddress): boolean {
  const bits = prefix.family === 4 ? 32 : 128;
  return (
    prefix.family === address.family &&
    (address.value & prefixMask(prefix.length, bits)) === prefix.value
  );
}

export function isMulticastIp(address: IpAddress): boolean {
  return address.family === 4 ? address.value >> 28n === 0xen : address.value >> 120n === 0xffn;
}

/** Addresses that can never be a provider or customer address of a station. */
export function isUnusableHostIp(address: IpAddress): boolean {
  if (address.value === 0n || isMulticastIp(address)) return true;
  if (address.family === 4) return address.value >> 24n === 127n || address.value === 0xffffffffn;
  return address.value === 1n; // ::1
}

function prefixMask(length: number, bits: number): bigint {
  return ((1n << BigInt(length)) - 1n) << BigInt(bits - length);
}

function parseLength(text: string, family: IpFamily, whole: string): number {
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(text) || Number(text) > max) {
    throw new AddressSyntaxError(`"${whole}": prefix length must be 0..${max}`);
  }
  return Number(text);
}

function parseIpaddr(text: string, whole: string): ipaddr.IPv4 | ipaddr.IPv6 {
  // ipaddr.js also accepts classful ("10.1") and zoned ("fe80::1%eth0") forms; a fabric file
  // must say exactly one address.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes("%") && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  throw new AddressSyntaxError(`"${whole}" is not an IPv4 (dotted quad) or IPv6 address`);
}

function bytesToBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function format(value: bigint, family: IpFamily): string {
  const length = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = length - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

const hostNamePattern =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * A gRPC target as the fabric file gives a switch's P4Runtime address: `host:port`, `[v6]:port`;
 * the host a valid IPv4 address when it is written as digits and dots, the port 1–65535.
 */
export function parseServiceAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) {
    throw new AddressSyntaxError(
      `"${text}" is not host:port (IPv6 as [addr]:port, e.g. 127.0.0.1:9559)`,
    );
  }
  const v6 = match[1];
  const host = (v6 ?? match[2]) as string;
  const port = Number(match[3]);
  const problems: string[] = [];
  if (v6 !== undefined && !ipaddr.IPv6.isValid(v6)) problems.push(`"${v6}" is not an IPv6 address`);
  else if (/^[\d.]+$/.test(host) && !ipaddr.IPv4.isValidFourPartDecimal(host)) {
    problems.push(`"${host}" is not an IPv4 address (four numbers 0–255)`);
  } else if (v6 === undefined && !hostNamePattern.test(host)) {
    problems.push(`"${host}" is not a host name or IP address`);
  }
  if (port < 1 || port > 65535) problems.push(`port ${match[3]} is outside 1–65535`);
  if (problems.length > 0) {
    throw new AddressSyntaxError(`"${text}" is not a usable address: ${problems.join("; ")}`);
  }
  return { host, port };
}
