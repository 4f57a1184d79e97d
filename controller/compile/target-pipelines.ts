/**
 * The pipeline (P4Info + device config + cookie) and canonical codec each target gets. The
 * v1model program serves softswitch and bmv2 switches; Tofino switches get the TNA / T2NA
 * build, packed for bf_switchd (device-config.ts). Every target's P4Info carries the same
 * controller-facing names, so one compiled fabric serves them all; the codec per target maps
 * those names to its P4Info's ids and writes replicas the way its server reads them.
 *
 * Tofino builds (bf-p4c output) live in p4/build/tna and p4/build/t2na:
 *   nvgre.p4info.bin   bfrt.json   pipe/context.json        committed (make p4)
 *   pipe/tofino.bin (Tofino 1) or pipe/tofino2.bin (Tofino 2)  not committed: written by
 *                                                               `make p4` where bf-p4c exists
 * A switch whose target's build is incomplete is refused with the missing file named; the other
 * switches are unaffected.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packagePath } from "../../common/package-path.js";
import { PacketIoCodec } from "../p4rt/packet-io.js";
import { loadPipeline, type Pipeline, pipelineOf } from "../p4rt/pipeline.js";
import { tofinoP4DeviceConfig } from "../targets/device-config.js";
import {
  type TargetLack,
  type TargetName,
  type TargetProfile,
  targetProfile,
} from "../targets/profiles.js";
import { CanonicalCodec, COLLECTION_KINDS, splitCollection } from "./canonical.js";
import { codecFor } from "./compile.js";

/** bf-p4c's program name (the .p4 file's) and pipe name (the Pipeline instance's directory). */
export const TOFINO_PROGRAM_NAME = "nvgre";
export const TOFINO_PIPE_NAME = "pipe";

/** The committed Tofino build directories, by architecture. */
export const tofinoBuildDirs = {
  tna: packagePath("p4/build/tna"),
  t2na: packagePath("p4/build/t2na"),
};

export type TofinoArch = keyof typeof tofinoBuildDirs;

/** The files of one bf-p4c build that the controller reads. */
export function tofinoBuildFiles(arch: TofinoArch, dir: string = tofinoBuildDirs[arch]) {
  return {
    p4info: join(dir, `${TOFINO_PROGRAM_NAME}.p4info.bin`),
    bfrtJson: join(dir, "bfrt.json"),
    contextJson: join(dir, TOFINO_PIPE_NAME, "context.json"),
    binary: join(dir, TOFINO_PIPE_NAME, arch === "tna" ? "tofino.bin" : "tofino2.bin"),
  };
}

export class TargetBuildMissingError extends Error {
  override readonly name = "TargetBuildMissingError";
  constructor(
    readonly target: TargetName,
    readonly path: string,
  ) {
    super(
      `target ${target}: ${path} is missing; compile p4/tna with bf-p4c (make p4 on a machine with the Tofino compiler) or point the daemon's targetBuilds.${targetProfile(target).arch} at a build`,
    );
  }
}

/** A Tofino pipeline from a bf-p4c build directory: the P4Info and bf_switchd's device config. */
export function loadTofinoPipeline(target: TargetName, dir?: string): Pipeline {
  const profile = targetProfile(target);
  if (profile.arch === "v1model") throw new Error(`target ${target} is not a Tofino target`);
  const files = tofinoBuildFiles(profile.arch, dir);
  for (const path of Object.values(files)) {
    if (!existsSync(path)) throw new TargetBuildMissingError(target, path);
  }
  const deviceConfig = tofinoP4DeviceConfig({
    programName: TOFINO_PROGRAM_NAME,
    binary: readFileSync(files.binary),
    contextJson: readFileSync(files.contextJson),
    pipe: { name: TOFINO_PIPE_NAME, bfrtJson: readFileSync(files.bfrtJson) },
  });
  return pipelineOf(files.p4info, deviceConfig);
}

/**
 * What one target's switches are written and read with. bf-p4c derives table and extern ids
 * from pipe-prefixed names, so a Tofino switch's entries, digests, packet-ins and reads are
 * encoded and decoded with its own P4Info, never the compiler's (v1model) one.
 */
export interface TargetPipeline {
  profile: TargetProfile;
  pipeline: Pipeline;
  codec: CanonicalCodec;
  packetIo: PacketIoCodec;
}

/**
 * Pipelines by target, loaded on first use and kept: the daemon asks once per switch session.
 * softswitch and bmv2 share the v1model pipeline (and its codec, the one the compiler uses).
 */
export class TargetPipelines {
  private readonly loaded = new Map<string, TargetPipeline>();

  constructor(
    private readonly v1model: { json: string; p4info: string },
    /** Tofino build directories overriding p4/build/tna and p4/build/t2na. */
    private readonly tofinoDirs: Partial<Record<TofinoArch, string>> = {},
  ) {}

  of(target: TargetName | undefined): TargetPipeline {
    const profile = targetProfile(target);
    const cached = this.loaded.get(profile.arch);
    if (cached) return { ...cached, profile };
    // softswitch and bmv2 share the compiler's pipeline and codec; Tofino targets load theirs.
    let pipeline: Pipeline;
    let codec: CanonicalCodec;
    if (profile.arch === "v1model") {
      pipeline = loadPipeline(this.v1model);
      codec = codecFor(pipeline.index);
    } else {
      pipeline = loadTofinoPipeline(profile.name, this.tofinoDirs[profile.arch]);
      codec = new CanonicalCodec(pipeline.index, profile.replicaPort);
    }
    const entry: TargetPipeline = {
      profile,
      pipeline,
      codec,
      packetIo: new PacketIoCodec(pipeline.index),
    };
    this.loaded.set(profile.arch, entry);
    return entry;
  }

  /** The cookie a switch of this target should run; undefined while its build is missing. */
  cookieOf(target: TargetName | undefined): bigint | undefined {
    try {
      return this.of(target).pipeline.cookie;
    } catch (error) {
      if (error instanceof TargetBuildMissingError) return undefined;
      throw error;
    }
  }
}

/** What only some targets take: P4Runtime register and value-set writes. */
const kindLacks: Record<string, TargetLack> = {
  register: "register-writes",
  value_set: "value-set-writes",
};

export class TargetUnsupportedError extends Error {
  override readonly name = "TargetUnsupportedError";
  constructor(
    readonly target: TargetName,
    readonly collections: string[],
  ) {
    super(
      `target ${target} cannot take ${collections.join(", ")} over P4Runtime; nothing was written`,
    );
  }
}

/**
 * Refuses (before any write) desired state holding entities the target lacks, so a Tofino
 * switch is never sent a register or value-set write that bf_switchd's PI would reject half-way.
 */
export function checkWritable(profile: TargetProfile, collections: Iterable<string>): void {
  const refused: string[] = [];
  for (const collection of collections) {
    const { kind } = splitCollection(collection);
    // Every target's P4Runtime server takes the kinds the canonical form encodes.
    if (COLLECTION_KINDS.has(kind)) continue;
    const lack = kindLacks[kind];
    if (!lack || profile.lacks.has(lack)) refused.push(collection);
  }
  if (refused.length > 0) throw new TargetUnsupportedError(profile.name, refused);
}
