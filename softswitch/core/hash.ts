/**
 * Hash algorithms bit-identical to bmv2's (src/bm_sim/calculations.cpp). Each takes the bytes
 * bmv2's BufBuilder would produce and returns the bmv2 output as a bigint (bmv2 returns uint64).
 * crc16 / crc32 are bmv2's table-driven CRCs with reflected input and output, which equal the
 * custom CRCs with bmv2's default configurations, so one implementation serves all of them.
 */
import { csum16 } from "../../common/checksum.js";

export interface CrcConfig {
  width: 16 | 32;
  polynomial: number;
  initialRemainder: number;
  finalXor: number;
  reflectData: boolean;
  reflectRemainder: boolean;
}

export type HashFn = (bytes: Uint8Array) => bigint;

function reflect(value: number, bits: number): number {
  // Swap halves, then quarters, ... (a per-packet cost: the CRC's output is reflected each time).
  let v = value >>> 0;
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = ((v >>> 16) | (v << 16)) >>> 0;
  return v >>> (32 - bits);
}

/** A CRC of 16 or 32 bits, computed the way bmv2's crc_custom does (MSB-first table). */
export class Crc {
  private readonly table: Uint32Array;
  private readonly reflect8 = new Uint8Array(256);

  constructor(readonly config: CrcConfig) {
    const { width, polynomial } = config;
    const top = width === 32 ? 0x80000000 : 0x8000;
    const mask = width === 32 ? 0xffffffff : 0xffff;
    this.table = new Uint32Array(256);
    for (let dividend = 0; dividend < 256; dividend++) {
      let remainder = (dividend << (width - 8)) >>> 0;
      for (let bit = 0; bit < 8; bit++) {
        remainder =
          remainder & top ? ((remainder << 1) ^ polynomial) & mask : (remainder << 1) & mask;
        remainder >>>= 0;
      }
      this.table[dividend] = remainder;
    }
    for (let b = 0; b < 256; b++) this.reflect8[b] = reflect(b, 8);
    if (config.reflectData && config.reflectRemainder) {
      const t0 = new Uint32Array(256);
      for (let b = 0; b < 256; b++) {
        t0[b] = reflect(this.table[this.reflect8[b] as number] as number, width);
      }
      this.reflectedTable = t0;
      if (width === 32) {
        // Slicing by 4: table k advances the register over k more zero bytes.
        const tables = [t0];
        for (let k = 1; k < 4; k++) {
          const prev = tables[k - 1] as Uint32Array;
          const next = new Uint32Array(256);
          for (let b = 0; b < 256; b++) {
            const x = prev[b] as number;
            next[b] = ((x >>> 8) ^ (t0[x & 0xff] as number)) >>> 0;
          }
          tables.push(next);
        }
        this.sliced = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
      }
    }
  }

  /** Reflected CRC-32 tables for four bytes per step. */
  private readonly sliced: [Uint32Array, Uint32Array, Uint32Array, Uint32Array] | undefined;

  /**
   * With data and remainder both reflected (crc16, crc32 and their default custom forms), the
   * same CRC runs LSB-first on the reflected register: no per-byte or final reflection.
   */
  private readonly reflectedTable: Uint32Array | undefined;

  compute(bytes: Uint8Array): number {
    const { width, initialRemainder, finalXor, reflectData, reflectRemainder } = this.config;
    const reflected = this.reflectedTable;
    if (reflected) {
      let r = reflect(initialRemainder, width);
      let i = 0;
      const sliced = this.sliced;
      if (sliced) {
        const [t0, t1, t2, t3] = sliced;
        for (; i + 4 <= bytes.length; i += 4) {
          r ^=
            (bytes[i] as number) |
            ((bytes[i + 1] as number) << 8) |
            ((bytes[i + 2] as number) << 16) |
            ((bytes[i + 3] as number) << 24);
          r =
            ((t3[r & 0xff] as number) ^
              (t2[(r >>> 8) & 0xff] as number) ^
              (t1[(r >>> 16) & 0xff] as number) ^
              (t0[r >>> 24] as number)) >>>
            0;
        }
      }
      for (; i < bytes.length; i++) {
        r = ((reflected[(r ^ (bytes[i] as number)) & 0xff] as number) ^ (r >>> 8)) >>> 0;
      }
      return (r ^ finalXor) >>> 0;
    }
    const shift = width - 8;
    const mask = width === 32 ? 0xffffffff : 0xffff;
    let remainder = initialRemainder >>> 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      const input = reflectData ? (this.reflect8[byte] as number) : byte;
      const index = (input ^ (remainder >>> shift)) & 0xff;
      remainder = ((this.table[index] as number) ^ ((remainder << 8) & mask)) >>> 0;
    }
    const out = reflectRemainder ? reflect(remainder, width) : remainder;
    return (out ^ finalXor) >>> 0;
  }
}

/** bmv2's default configurations: crc16 = crc16_custom default, crc32 = crc32_custom default. */
export const CRC16_DEFAULT: CrcConfig = {
  width: 16,
  polynomial: 0x8005,
  initialRemainder: 0,
  finalXor: 0,
  reflectData: true,
  reflectRemainder: true,
};
export const CRC32_DEFAULT: CrcConfig = {
  width: 32,
  polynomial: 0x04c11db7,
  initialRemainder: 0xffffffff,
  finalXor: 0xffffffff,
  reflectData: true,
  reflectRemainder: true,
};

/** bmv2 xor16: XOR of big-endian 16-bit words; a trailing byte is the high byte of a word. */
export function xor16(bytes: Uint8Array): number {
  let acc = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) acc ^= ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (bytes.length & 1) acc ^= (bytes[bytes.length - 1] as number) << 8;
  return acc;
}

/** bmv2 identity: the first 8 bytes, big-endian. */
export function identity(bytes: Uint8Array): bigint {
  let acc = 0n;
  const n = Math.min(8, bytes.length);
  for (let i = 0; i < n; i++) acc = (acc << 8n) | BigInt(bytes[i] as number);
  return acc;
}

/** Names bmv2 accepts (calculations.cpp REGISTER_HASH) that this target implements. */
export type HashAlgorithm =
  | "crc16"
  | "crc32"
  | "crc16_custom"
  | "crc32_custom"
  | "csum16"
  | "cksum16"
  | "xor16"
  | "identity";

const ALGORITHMS: readonly string[] = [
  "crc16",
  "crc32",
  "crc16_custom",
  "crc32_custom",
  "csum16",
  "cksum16",
  "xor16",
  "identity",
];

export function isSupportedAlgorithm(name: string): name is HashAlgorithm {
  return ALGORITHMS.includes(name);
}

/**
 * A named hash instance. Custom CRCs carry their own configuration, which the control plane may
 * change (bmv2 set_crc16_custom_parameters); each instance is independent, as in bmv2.
 */
export class Hasher {
  private crc?: Crc;
  readonly fn: HashFn;
  /** The same output as a number, for algorithms of at most 32 bits (all but identity). */
  readonly numberFn: ((bytes: Uint8Array) => number) | undefined;

  constructor(readonly algorithm: HashAlgorithm) {
    switch (algorithm) {
      case "crc16":
      case "crc16_custom":
        this.crc = new Crc(CRC16_DEFAULT);
        break;
      case "crc32":
      case "crc32_custom":
        this.crc = new Crc(CRC32_DEFAULT);
        break;
    }
    this.fn = this.select();
    this.numberFn = this.selectNumber();
  }

  private selectNumber(): ((bytes: Uint8Array) => number) | undefined {
    switch (this.algorithm) {
      case "csum16":
      case "cksum16":
        return csum16;
      case "xor16":
        return xor16;
      case "identity":
        return undefined;
      default:
        return (b) => (this.crc as Crc).compute(b);
    }
  }

  private select(): HashFn {
    switch (this.algorithm) {
      case "csum16":
      case "cksum16":
        return (b) => BigInt(csum16(b));
      case "xor16":
        return (b) => BigInt(xor16(b));
      case "identity":
        return identity;
      default:
        return (b) => BigInt((this.crc as Crc).compute(b));
    }
  }

  /** Reconfigures a custom CRC (crc16_custom / crc32_custom only). */
  setCrcConfig(config: Omit<CrcConfig, "width">): void {
    if (this.algorithm !== "crc16_custom" && this.algorithm !== "crc32_custom") {
      throw new Error(`hash ${this.algorithm} has no CRC parameters`);
    }
    const width = this.algorithm === "crc16_custom" ? 16 : 32;
    this.crc = new Crc({ ...config, width });
  }
}
