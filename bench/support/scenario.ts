/**
 * What every bench programs and sends, so the targets compared in one run see the same entries
 * and the same traffic: a leaf (ToR NVE) at a realistic scale, built with the data-plane tests'
 * own helpers, and frames built by Scapy (the tests' reference), for the two NVGRE paths and for
 * the plain L2 program.
 *
 *   encap: an untagged tenant frame on access port 3 → NVGRE over IPv4 out of the uplink
 *   decap: NVGRE over IPv4 from a remote NVE on port 1 → the tenant frame out of port 3
 *   l2:    a frame on port 1 whose destination MAC the L2 program forwards to port 2
 */
import { join } from "node:path";
import { loadNvgrePipeline } from "../../controller/nvgre-build.js";
import type { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { EntityBuilder } from "../../controller/p4rt/entities.js";
import { loadPipeline, type Pipeline } from "../../controller/p4rt/pipeline.js";
import {
  addAccess,
  addNve,
  addSourcePa,
  addVsid,
  leafBase,
  PA4,
  SPINE_MAC,
  SWITCH_MAC,
} from "../../topologies/leaf.js";
import { Batch, caFamily } from "../../topologies/leaf-program.js";
import { repoRoot } from "../../topologies/repo.js";
import { py, Scapy } from "../../topologies/scapy.js";

export const l2Build = {
  json: join(repoRoot, "test/fixtures/build/l2_switch.json"),
  p4info: join(repoRoot, "test/fixtures/build/l2_switch.p4info.bin"),
};

/** Scale of the leaf: tenants, MACs and remote NVEs a ToR carries. */
export const SCALE = { vsids: 1000, macsPerVsid: 10, nves: 256 } as const;
/** Distinct flows in the traffic (UDP source ports), so per-flow hashing is exercised. */
export const FLOWS = 64;

const BENCH_VSID = 0x5001;
const VM_LOCAL = "02:00:00:00:0a:01";
const VM_REMOTE = "02:00:00:00:0b:01";
const NVE1 = "198.51.100.2";
const L2_DST = "02:00:00:00:00:02";

const mac = (n: number) =>
  [0x02, (n >> 32) & 0xff, (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join(":");

/**
 * Programs the NVGRE leaf: the base entries, SCALE.vsids VSIDs (each on its own VLAN of access
 * port 4, the bench VSID untagged on port 3), SCALE.nves remote NVEs, SCALE.macsPerVsid remote
 * MACs per VSID, and the bench endpoints. Returns the number of entries written.
 */
export async function programNvgreLeaf(
  client: P4RuntimeClient,
  pipeline: Pipeline,
): Promise<number> {
  let written = 0;
  const commit = async (batch: Batch, count: number) => {
    await batch.commit();
    written += count;
  };
  const base = leafBase(new Batch({ client, pipeline }));
  addVsid(base, { vsid: BENCH_VSID, index: 1 });
  addAccess(base, 3, BENCH_VSID);
  addSourcePa(base, BENCH_VSID, { v4: PA4 });
  for (let n = 1; n <= SCALE.nves; n++) addNve(base, n, `198.51.100.${n % 254 || 254}`);
  base.entry("mac", { vsid: BENCH_VSID, dst_mac: VM_LOCAL }, "bridge_to_port", { port: 3 });
  base.entry("mac", { vsid: BENCH_VSID, dst_mac: VM_REMOTE }, "bridge_to_nve", { nve_id: 2 });
  await commit(base, 0);
  for (let v = 0; v < SCALE.vsids; v++) {
    const vsid = 0x10000 + v;
    const batch = new Batch({ client, pipeline });
    addVsid(batch, { vsid, index: 2 + v });
    addAccess(batch, 4, vsid, 100 + v);
    addSourcePa(batch, vsid, { v4: PA4 });
    for (let m = 0; m < SCALE.macsPerVsid; m++) {
      batch.entry(
        "mac",
        { vsid, dst_mac: mac(v * SCALE.macsPerVsid + m + 0x100) },
        "bridge_to_nve",
        {
          nve_id: 1 + ((v + m) % SCALE.nves),
        },
      );
    }
    await commit(batch, 5 + SCALE.macsPerVsid);
  }
  return written;
}

/** Local endpoints per VSID in `programLeafEndpoints` (each VSID on its own VLAN of port 4). */
const ENDPOINTS_PER_VSID = 100;

/**
 * Programs a leaf with `endpoints` local endpoints besides the bench's own, source guard on in
 * every VSID, as the controller compiles an endpoint: a source_guard entry (half of them for the
 * endpoint's IPv4 address exactly, half for any address: two mask combinations, as the compiler
 * makes), a mac entry and an arp_responder entry each. The bench endpoint's entries come last.
 * One source_guard entry per endpoint, not the compiler's three, so 64,000 fit the 65,536-entry
 * table. Returns the number of entries written.
 */
export async function programLeafEndpoints(
  client: P4RuntimeClient,
  pipeline: Pipeline,
  endpoints: number,
): Promise<number> {
  const family = (name: string) => ({ value: caFamily(name), mask: 3 });
  const exactCa = (ip: string) => ({ value: ip, mask: (1n << 128n) - 1n });
  const any = { value: 0, mask: 0 };
  const guard = (batch: Batch, vsid: number, port: number, src: string, ip?: string) =>
    batch.entry(
      "source_guard",
      {
        vsid,
        port,
        src_mac: src,
        ca_family: ip ? family("IPV4") : any,
        src_ca: ip ? exactCa(ip) : any,
      },
      "permit_source",
      {},
      10,
    );
  let written = 0;
  const base = leafBase(new Batch({ client, pipeline }));
  addVsid(base, { vsid: BENCH_VSID, index: 1, sourceGuard: true });
  addAccess(base, 3, BENCH_VSID);
  addSourcePa(base, BENCH_VSID, { v4: PA4 });
  for (let n = 1; n <= SCALE.nves; n++) addNve(base, n, `198.51.100.${n % 254 || 254}`);
  await base.commit();
  for (let first = 0; first < endpoints; first += ENDPOINTS_PER_VSID) {
    const v = first / ENDPOINTS_PER_VSID;
    const vsid = 0x10000 + v;
    const batch = new Batch({ client, pipeline });
    addVsid(batch, { vsid, index: 2 + v, sourceGuard: true });
    addAccess(batch, 4, vsid, 100 + v);
    for (let i = first; i < Math.min(first + ENDPOINTS_PER_VSID, endpoints); i++) {
      const m = mac(0x10_0000 + i);
      const ip = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
      guard(batch, vsid, 4, m, i % 2 === 0 ? ip : undefined);
      batch.entry("mac", { vsid, dst_mac: m }, "bridge_to_port", { port: 4 });
      batch.entry("arp_responder", { vsid, ip }, "arp_reply", { mac: m });
      written += 3;
    }
    await batch.commit();
  }
  const last = new Batch({ client, pipeline });
  guard(last, BENCH_VSID, 3, VM_LOCAL, "10.1.0.1");
  last.entry("mac", { vsid: BENCH_VSID, dst_mac: VM_LOCAL }, "bridge_to_port", { port: 3 });
  last.entry("mac", { vsid: BENCH_VSID, dst_mac: VM_REMOTE }, "bridge_to_nve", { nve_id: 2 });
  await last.commit();
  return written + 3;
}

/** Programs the L2 program with `entries` MACs, one of them L2_DST → port 2. */
export async function programL2(
  client: P4RuntimeClient,
  pipeline: Pipeline,
  entries: number,
): Promise<void> {
  const builder = new EntityBuilder(pipeline.index);
  const updates = [];
  for (let n = 0; n < entries; n++) {
    const dst = n === 0 ? L2_DST : mac(0x1000000 + n);
    updates.push({
      type: "INSERT" as const,
      entity: builder.tableEntry("L2Ingress.mac_table", {
        match: { "hdr.ethernet.dst": dst },
        target: { action: "L2Ingress.forward", params: { port: 2 + (n % 4) } },
      }),
    });
  }
  await client.write(updates);
}

export interface Traffic {
  /** Port the frames enter on, the port they must leave on, and the frames. */
  inPort: number;
  outPort: number;
  frames: Buffer[];
}

const tenantFrame = (src: string, dst: string, sport: number) =>
  `Ether(src=${py(src)}, dst=${py(dst)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=${sport}, dport=53)/Raw(b"x"*64)`;

/** The three traffic mixes, FLOWS frames each. */
export async function buildTraffic(): Promise<{ encap: Traffic; decap: Traffic; l2: Traffic }> {
  const scapy = new Scapy();
  try {
    const sports = Array.from({ length: FLOWS }, (_, i) => 10000 + i);
    const encap = await scapy.frames(sports.map((s) => tenantFrame(VM_LOCAL, VM_REMOTE, s)));
    const decap = await scapy.frames(
      sports.map(
        (s) =>
          `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(NVE1)}, ${py(PA4)}, ${BENCH_VSID}, ${s & 0xff}, ${tenantFrame(VM_REMOTE, VM_LOCAL, s)}, ttl=60)`,
      ),
    );
    const l2 = await scapy.frames(sports.map((s) => tenantFrame(VM_LOCAL, L2_DST, s)));
    return {
      encap: { inPort: 3, outPort: 1, frames: encap },
      decap: { inPort: 1, outPort: 3, frames: decap },
      l2: { inPort: 1, outPort: 2, frames: l2 },
    };
  } finally {
    await scapy.close();
  }
}

export const nvgrePipeline = () => loadNvgrePipeline();
export const l2Pipeline = () => loadPipeline(l2Build);
