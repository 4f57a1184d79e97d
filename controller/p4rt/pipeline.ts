/**
 * A compiled P4 program as P4Runtime ships it: the P4Info, the target's device config (bmv2
 * JSON, which the softswitch reads too) and a cookie derived from both, so a switch already
 * running this exact pipeline is never sent it again.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ForwardingPipelineConfig } from "../../proto/gen/p4/v1/ForwardingPipelineConfig.js";
import type { P4RuntimeClient } from "./client.js";
import { P4InfoIndex } from "./p4info.js";

export interface Pipeline {
  index: P4InfoIndex;
  p4infoBytes: Buffer;
  deviceConfig: Buffer;
  /** First 8 bytes of SHA-256 over P4Info and device config: changes whenever either does. */
  cookie: bigint;
}

/** Reads a compiled program; the caller names its files (the product's own: ../nvgre-build.ts). */
export function loadPipeline(paths: { json: string; p4info: string }): Pipeline {
  return pipelineOf(paths.p4info, readFileSync(paths.json));
}

/** A pipeline from its binary P4Info file and the target's device config (see controller/targets). */
export function pipelineOf(p4infoPath: string, deviceConfig: Buffer): Pipeline {
  const p4infoBytes = readFileSync(p4infoPath);
  const digest = createHash("sha256").update(p4infoBytes).update(deviceConfig).digest();
  return {
    index: P4InfoIndex.fromBinaryFile(p4infoPath),
    p4infoBytes,
    deviceConfig,
    cookie: digest.readBigUInt64BE(0),
  };
}

export function forwardingPipelineConfig(pipeline: Pipeline): ForwardingPipelineConfig {
  return {
    p4info: pipeline.index.p4info,
    p4_device_config: pipeline.deviceConfig,
    cookie: { cookie: pipeline.cookie.toString() },
  };
}

/**
 * Pushes the pipeline only when the switch's cookie differs (a restarted controller must not
 * disturb a switch that already runs it). Returns whether it was pushed.
 */
export async function ensurePipeline(
  client: P4RuntimeClient,
  pipeline: Pipeline,
): Promise<boolean> {
  if ((await client.pipelineCookie()) === pipeline.cookie) return false;
  await client.setPipeline(forwardingPipelineConfig(pipeline), "VERIFY_AND_COMMIT");
  return true;
}
