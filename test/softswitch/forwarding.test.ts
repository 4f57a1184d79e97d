/**
 * End-to-end on the p4c-compiled fixture test/fixtures/p4/forwarding.p4 (built by `make p4`
 * into test/fixtures/build/, committed). Until the compiled fixture is committed it can only be
 * made with p4c: skipped, naming p4c, where p4c is absent; failing where p4c is present.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InProcessPorts } from "../../softswitch/ports/in-process.js";
import { SimpleSwitch } from "../../softswitch/v1model/switch.js";
import { repoRoot } from "../../topologies/repo.js";
import { skipUnless } from "../../topologies/toolchain.js";

const jsonPath = join(repoRoot, "test/fixtures/build/forwarding.json");
const skip = existsSync(jsonPath) ? false : skipUnless("p4c-bm2-ss");

const mac = (...b: number[]) => Uint8Array.from(b);
const DST = mac(0, 0, 0, 0, 0, 0xbb);
const SRC = mac(0, 0, 0, 0, 0, 0xaa);

function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...dst, ...src, type >> 8, type & 0xff, ...payload]);
}

/** A 20-byte IPv4 header with its checksum computed here, independently of the switch. */
function ipv4(src: number[], dst: number[], ttl: number, protocol: number): Uint8Array {
  const h = [0x45, 0, 0, 20, 0, 1, 0, 0, ttl, protocol, 0, 0, ...src, ...dst];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ((h[i] as number) << 8) | (h[i + 1] as number);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const c = ~sum & 0xffff;
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return Uint8Array.from(h);
}

// Skips are set per test so the runner counts them in its summary.
describe("forwarding.p4 fixture", () => {
  const load = () => new SimpleSwitch(readFileSync(jsonPath, "utf8"));

  it("bridges on an exact L2 hit, counts it, and drops on a miss", { skip }, () => {
    const sw = load();
    const ports = new InProcessPorts(sw);
    const l2 = sw.table("MyIngress.l2");
    const handle = l2.entries.add([{ kind: "exact", value: 0xbb }], {
      kind: "action",
      action: sw.action("MyIngress.forward"),
      data: [3],
    });
    const frame = ethernet(DST, SRC, 0x88b5, Uint8Array.from([1, 2, 3]));
    assert.deepEqual(ports.inject(1, frame), [{ port: 3, frame }]);
    assert.equal(l2.entries.get(handle)?.packets, 1);
    assert.equal(l2.entries.get(handle)?.bytes, frame.length);
    assert.deepEqual(ports.inject(1, ethernet(SRC, DST, 0x88b5, new Uint8Array(0))), []);
  });

  it("routes on the longest prefix, decrements TTL and rewrites the checksum", { skip }, () => {
    const sw = load();
    const ports = new InProcessPorts(sw);
    sw.table("MyIngress.routes").entries.add(
      [{ kind: "lpm", value: 0x0a000000, prefixLength: 8 }],
      {
        kind: "action",
        action: sw.action("MyIngress.route"),
        data: [0x0000000000cc, 7],
      },
    );
    const inFrame = ethernet(DST, SRC, 0x0800, ipv4([10, 0, 0, 1], [10, 9, 9, 9], 64, 17));
    const expected = ethernet(
      mac(0, 0, 0, 0, 0, 0xcc),
      DST,
      0x0800,
      ipv4([10, 0, 0, 1], [10, 9, 9, 9], 63, 17),
    );
    assert.deepEqual(ports.inject(2, inFrame), [{ port: 7, frame: expected }]);
  });

  it("never throws on truncated frames", { skip }, () => {
    const sw = load();
    const ports = new InProcessPorts(sw);
    for (let n = 0; n < 40; n++)
      assert.doesNotThrow(() => ports.inject(1, new Uint8Array(n).fill(0x08)));
  });
});
