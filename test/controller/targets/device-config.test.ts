/**
 * bf_switchd's p4_device_config, byte for byte: the expected bytes are built by Python's struct
 * (Debian's /usr/bin/python3) from the layout bf-drivers' PI reads in _pi_update_device_start —
 * u32 little-endian length-prefixed program name, tofino.bin, context.json, pipe name (0 = none)
 * and bf-rt.json — wrapped in p4.tmp.P4DeviceConfig { bytes device_data = 3 }.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  loadTofinoPipeline,
  TargetBuildMissingError,
  TargetPipelines,
} from "../../../controller/compile/target-pipelines.js";
import { nvgreBuild } from "../../../controller/nvgre-build.js";
import {
  DeviceConfigError,
  tofinoDeviceData,
  tofinoP4DeviceConfig,
} from "../../../controller/targets/device-config.js";
import { debianPython } from "../../../topologies/scapy.js";

/** The reference packer, independent of the code under test: struct.pack and a varint. */
const referencePacker = `
import struct, sys
def read(path): return open(path, "rb").read() if path else None
name = sys.argv[1].encode()
binary, context, pipe, bfrt = (read(p) for p in sys.argv[2:6])
def chunk(b): return struct.pack("<I", len(b)) + b
data = chunk(name) + chunk(binary) + chunk(context)
if pipe is None:
    data += struct.pack("<I", 0)
else:
    data += chunk(pipe) + chunk(bfrt)
def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])
sys.stdout.write((bytes([3 << 3 | 2]) + varint(len(data)) + data).hex())
`;

const dir = mkdtempSync(join(tmpdir(), "nvgre-devcfg-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function files(sizes: { binary: number; context: number; bfrt: number }) {
  const sub = mkdtempSync(join(dir, "case-"));
  const paths = {
    binary: join(sub, "tofino.bin"),
    context: join(sub, "context.json"),
    pipe: join(sub, "pipe-name"),
    bfrt: join(sub, "bfrt.json"),
  };
  const contents = {
    binary: randomBytes(sizes.binary),
    context: Buffer.from(`{"program_name":"nvgre","pad":"${"x".repeat(sizes.context)}"}`),
    bfrt: Buffer.from(`{"schema_version":"1.0.0","pad":"${"y".repeat(sizes.bfrt)}"}`),
  };
  writeFileSync(paths.binary, contents.binary);
  writeFileSync(paths.context, contents.context);
  writeFileSync(paths.bfrt, contents.bfrt);
  writeFileSync(paths.pipe, "pipe");
  return { paths, contents };
}

function reference(
  name: string,
  paths: { binary: string; context: string },
  pipe?: { pipe: string; bfrt: string },
) {
  const result = spawnSync(
    debianPython,
    ["-c", referencePacker, name, paths.binary, paths.context, pipe?.pipe ?? "", pipe?.bfrt ?? ""],
    { encoding: "utf8" },
  );
  assert.equal(result.status, 0, result.stderr);
  return Buffer.from(result.stdout, "hex");
}

describe("Tofino device config for bf_switchd (p4.tmp.P4DeviceConfig)", () => {
  test("program, binary, context and pipe + bf-rt.json: the bytes struct.pack builds", () => {
    // 300 KiB of binary: device_data's varint length takes 3 bytes.
    const { paths, contents } = files({ binary: 300 * 1024, context: 5000, bfrt: 700 });
    const packed = tofinoP4DeviceConfig({
      programName: "nvgre",
      binary: contents.binary,
      contextJson: contents.context,
      pipe: { name: "pipe", bfrtJson: contents.bfrt },
    });
    assert.deepEqual(packed, reference("nvgre", paths, paths));
  });

  test("without a pipe name: a zero length closes device_data (PI reads a fourth length always)", () => {
    const { paths, contents } = files({ binary: 17, context: 3, bfrt: 0 });
    const packed = tofinoP4DeviceConfig({
      programName: "nvgre",
      binary: contents.binary,
      contextJson: contents.context,
    });
    assert.deepEqual(packed, reference("nvgre", paths));
    const data = tofinoDeviceData({
      programName: "nvgre",
      binary: contents.binary,
      contextJson: contents.context,
    });
    assert.deepEqual(data.subarray(data.length - 4), Buffer.alloc(4));
  });

  test("names PI cannot take are refused, naming which", () => {
    const parts = { binary: Buffer.alloc(1), contextJson: Buffer.alloc(1) };
    assert.throws(
      () => tofinoDeviceData({ ...parts, programName: "p".repeat(101) }),
      (e: unknown) => e instanceof DeviceConfigError && /program name is 101 bytes/.test(e.message),
    );
    assert.throws(
      () =>
        tofinoDeviceData({
          ...parts,
          programName: "nvgre",
          pipe: { name: "", bfrtJson: Buffer.alloc(1) },
        }),
      (e: unknown) => e instanceof DeviceConfigError && e.field === "pipe name",
    );
  });

  test("a bf-p4c build directory becomes the pipeline pushed to a Tofino switch", () => {
    const build = mkdtempSync(join(dir, "build-"));
    mkdirSync(join(build, "pipe"));
    // A real P4Info stands in for bf-p4c's (the loader only needs a P4Info).
    writeFileSync(join(build, "nvgre.p4info.bin"), readFileSync(nvgreBuild.p4info));
    const binary = randomBytes(4096);
    writeFileSync(join(build, "pipe/tofino.bin"), binary);
    writeFileSync(join(build, "pipe/context.json"), '{"context":1}');
    writeFileSync(join(build, "bfrt.json"), '{"bfrt":1}');
    const pipeline = loadTofinoPipeline("tofino", build);
    assert.deepEqual(
      pipeline.deviceConfig,
      reference(
        "nvgre",
        { binary: join(build, "pipe/tofino.bin"), context: join(build, "pipe/context.json") },
        { pipe: writePipeName(build), bfrt: join(build, "bfrt.json") },
      ),
    );
    // Tofino 2 reads tofino2.bin, which this build lacks: the missing file is named.
    assert.throws(
      () => loadTofinoPipeline("tofino2", build),
      (e: unknown) => e instanceof TargetBuildMissingError && e.path.endsWith("pipe/tofino2.bin"),
    );
  });

  test("an absent Tofino build is named when a Tofino switch needs it; v1model switches still load", () => {
    const empty = mkdtempSync(join(dir, "empty-"));
    const pipelines = new TargetPipelines(nvgreBuild, { tna: empty, t2na: empty });
    assert.equal(pipelines.of("softswitch").profile.arch, "v1model");
    assert.equal(pipelines.of(undefined).pipeline, pipelines.of("bmv2").pipeline);
    assert.throws(() => pipelines.of("tofino"), /nvgre\.p4info\.bin is missing/);
    assert.equal(pipelines.cookieOf("tofino2"), undefined);
  });
});

function writePipeName(build: string): string {
  const path = join(build, "pipe-name");
  writeFileSync(path, "pipe");
  return path;
}
