/**
 * The switch targets a fabric file can name (`switches[].target`) and what differs between them
 * for the controller. Plain data, imported by the intent (validation, defaults) and by the
 * P4Runtime side (which pipeline and device config to push, how to write replicas).
 *
 *   softswitch, bmv2   the v1model program (p4/nvgre.p4); device config = bmv2 JSON
 *   tofino             the TNA program (p4/tna/), Tofino 1; device config for bf_switchd
 *   tofino2            the T2NA profile of it, Tofino 2
 */

export const targetNames = ["softswitch", "bmv2", "tofino", "tofino2"] as const;
export type TargetName = (typeof targetNames)[number];

/** A switch without `target` runs the v1model program, as before targets existed. */
export const defaultTarget: TargetName = "bmv2";

/** What a target's P4Runtime server cannot do; the controller never sends it these. */
export type TargetLack = "value-set-writes" | "register-writes" | "atomic-batches";

export interface TargetProfile {
  name: TargetName;
  /** The P4 architecture its program is compiled for: names its build directory. */
  arch: "v1model" | "tna" | "t2na";
  /** The CPU port when the fabric file gives none. */
  defaultCpuPort: number;
  /** Why `port` cannot be a port of this target, or undefined when it can. */
  portProblem(port: number): string | undefined;
  /**
   * How multicast / clone replicas carry their port: P4Runtime 1.4's `port` bytestring, or the
   * `egress_port` uint32 that every PI release reads (the one bf_switchd links may predate 1.4).
   */
  replicaPort: "bytes" | "uint32";
  /**
   * Clone / mirror session the program punts MTU drops through (R12); the controller makes it a
   * session to the CPU port. v1model: CPU_CLONE_SESSION_ID of p4/v1model/arch.p4; TNA:
   * CPU_MIRROR_SESSION of p4/tna/arch.p4. Tofino 2's mirror ids are 8 bits, so not 511 there.
   * P4 constants reach no P4Info; test/controller/targets/targets.test.ts checks they agree.
   */
  cpuCloneSession: number;
  lacks: ReadonlySet<TargetLack>;
}

/**
 * Tofino device ports are 9 bits: pipe (2 bits) << 7 | port within the pipe (0–71; 72–127 do
 * not exist). The PCIe CPU port is SKU-specific: Tofino 1 has it at pipe 2 port 64 (320) on
 * 4-pipe parts and the Tofino model, at pipe 1 port 64 (192) on 2-pipe parts (32-port boxes);
 * Tofino 2 at port 0. Ethernet CPU ports are 64–67 (Tofino 1) and 2–5 (Tofino 2).
 */
function tofinoPortProblem(port: number): string | undefined {
  if (!Number.isInteger(port) || port < 0 || port > 511)
    return `${port} is not a Tofino device port (9 bits: 0–511)`;
  const pipe = port >> 7;
  const local = port & 0x7f;
  if (local > 71)
    return `${port} is pipe ${pipe} port ${local}, which does not exist: a Tofino pipe has ports 0–71`;
  return undefined;
}

/** bmv2 / softswitch: the compiler checks the v1model program's 9-bit port field. */
function v1modelPortProblem(): undefined {
  return undefined;
}

// PI on bf_switchd rejects atomic write batches (DATAPLANE_ATOMIC, ROLLBACK_ON_ERROR), has no
// P4Runtime value sets (parser value sets are BF-RT only) and keeps registers to BF-RT too.
const tofinoLacks: ReadonlySet<TargetLack> = new Set([
  "value-set-writes",
  "register-writes",
  "atomic-batches",
]);

/** The softswitch follows bmv2's simple_switch: everything but the name is the same. */
const simpleSwitch: Omit<TargetProfile, "name"> = {
  arch: "v1model",
  defaultCpuPort: 510,
  portProblem: v1modelPortProblem,
  replicaPort: "bytes",
  cpuCloneSession: 511,
  lacks: new Set(["atomic-batches"]),
};

export const targetProfiles: Readonly<Record<TargetName, TargetProfile>> = {
  softswitch: { name: "softswitch", ...simpleSwitch },
  bmv2: { name: "bmv2", ...simpleSwitch },
  tofino: {
    name: "tofino",
    arch: "tna",
    defaultCpuPort: 320,
    portProblem: tofinoPortProblem,
    replicaPort: "uint32",
    cpuCloneSession: 511,
    lacks: tofinoLacks,
  },
  tofino2: {
    name: "tofino2",
    arch: "t2na",
    defaultCpuPort: 0,
    portProblem: tofinoPortProblem,
    replicaPort: "uint32",
    cpuCloneSession: 250,
    lacks: tofinoLacks,
  },
};

export function targetProfile(name: TargetName | undefined): TargetProfile {
  return targetProfiles[name ?? defaultTarget];
}
