/**
 * The v1model switch: parser → ingress → traffic manager (clone, digest, resubmit, multicast,
 * drop) → egress → egress clone, drop, deparser, recirculate — following simple_switch's
 * ingress_thread and egress_thread (targets/simple_switch/simple_switch.cpp), run to completion
 * for each injected frame. Faults inside the pipeline drop the packet and are reported, never
 * thrown to the caller.
 */
import { randomInt } from "node:crypto";
import { type CompiledAction, compileAction } from "../compile/actions.js";
import { type Calculation, compileCalculation } from "../compile/calculations.js";
import { compileChecksums } from "../compile/checksums.js";
import { type CompiledPipeline, compilePipeline, type TableState } from "../compile/control.js";
import { compileDeparser, type Deparser } from "../compile/deparser.js";
import { compileHeaderCodec } from "../compile/headers.js";
import { type CompiledParser, compileParser } from "../compile/parser.js";
import type { Resources } from "../compile/resources.js";
import { CounterArray } from "../core/counters.js";
import { type FieldSlot, PhvLayout } from "../core/layout.js";
import { type DigestListener, LearnList } from "../core/learning.js";
import { MeterArray, type MicrosClock, systemMicros } from "../core/meters.js";
import { PacketState, Phv, readSlot, writeSlot } from "../core/packet.js";
import { type CloneSession, ReplicationEngine } from "../core/pre.js";
import { RegisterArray } from "../core/registers.js";
import { type FieldValue, truncate, valueBytes } from "../core/values.js";
import { loadProgram, type Program } from "../program/load.js";
import { v1modelPrimitives } from "./primitives.js";

/** v1model instance types (simple_switch.cpp PktInstanceType). */
export const InstanceType = {
  NORMAL: 0,
  INGRESS_CLONE: 1,
  EGRESS_CLONE: 2,
  COALESCED: 3,
  RECIRC: 4,
  REPLICATION: 5,
  RESUBMIT: 6,
} as const;

export interface OutputPacket {
  port: number;
  frame: Uint8Array;
}

export interface SwitchOptions {
  /** bmv2 --drop-port (default 511). */
  dropPort?: number;
  /** Microsecond clock for meters and timestamps (tests inject one). */
  clock?: MicrosClock;
  /** Called for every log_msg and failed assert/assume. */
  log?: (message: string) => void;
  /** Called when a packet is dropped because of an internal fault (never for P4 drops). */
  onFault?: (error: unknown, port: number) => void;
  /** Bound on pipeline passes per injected frame (resubmit/recirculate loops); default 1024. */
  maxPasses?: number;
}

interface Fields {
  ingressPort: FieldSlot;
  packetLength: FieldSlot;
  instanceType: FieldSlot;
  egressSpec: FieldSlot;
  egressPort: FieldSlot;
  parserError?: FieldSlot;
  checksumError?: FieldSlot;
  mcastGrp?: FieldSlot;
  egressRid?: FieldSlot;
  ingressTimestamp?: FieldSlot;
  egressTimestamp?: FieldSlot;
  /** intrinsic_metadata.priority: simple_switch has one queue per port, so only 0 passes. */
  priority?: FieldSlot;
  /** queueing_metadata, used only when all four fields exist (check_queueing_metadata). */
  queueing?: {
    enqTimestamp: FieldSlot;
    enqQdepth: FieldSlot;
    deqTimedelta: FieldSlot;
    deqQdepth: FieldSlot;
    qid?: FieldSlot;
  };
}

/**
 * Copies waiting for egress, first in first out. When the program reads queue depths
 * (enq_qdepth, deq_qdepth), each port's depth is counted as copies come and go, so a group of
 * 100,000 replicas costs no scan per copy; otherwise nothing is counted.
 */
class EgressQueue {
  private readonly items: { port: number; p: PacketState }[] = [];
  private readonly depths: Map<number, number> | undefined;

  constructor(countDepths: boolean) {
    this.depths = countDepths ? new Map() : undefined;
  }

  get length(): number {
    return this.items.length;
  }

  push(port: number, p: PacketState): void {
    this.items.push({ port, p });
    if (this.depths) this.depths.set(port, this.depth(port) + 1);
  }

  shift(): { port: number; p: PacketState } | undefined {
    const e = this.items.shift();
    if (e && this.depths) this.depths.set(e.port, this.depth(e.port) - 1);
    return e;
  }

  /** Copies waiting for `port` (counted only when the program reads it). */
  depth(port: number): number {
    return this.depths?.get(port) ?? 0;
  }

  clear(): void {
    this.items.length = 0;
    this.depths?.clear();
  }
}

export class SimpleSwitch {
  readonly program: Program;
  readonly layout: PhvLayout;
  readonly pre = new ReplicationEngine();
  readonly tables = new Map<string, TableState>();
  readonly counters = new Map<string, CounterArray>();
  readonly meters = new Map<string, MeterArray>();
  readonly registers = new Map<string, RegisterArray>();
  readonly calculations = new Map<string, Calculation>();
  readonly learnLists = new Map<number, LearnList>();
  readonly actions = new Map<number, CompiledAction>();
  readonly dropPort: number;
  private readonly parser: CompiledParser;
  private readonly ingress: CompiledPipeline;
  private readonly egress: CompiledPipeline;
  private readonly deparser: Deparser;
  private readonly fields: Fields;
  private readonly fieldLists = new Map<number, FieldSlot[]>();
  private readonly learnSamplers = new Map<number, (p: PacketState) => Uint8Array>();
  private readonly digestListeners: DigestListener[] = [];
  private readonly clock: MicrosClock;
  /** Timestamps count from the switch's start, as bmv2's get_ts does. */
  private readonly started: number;
  private readonly options: SwitchOptions;
  /** simple_switch's egress_spec during egress: drop_port + 1, truncated to the field. */
  private readonly egressSpecAtEgress: FieldValue;

  /** Loads and compiles a program (JSON text, parsed JSON, or a loaded Program). */
  constructor(input: string | Program | object, options: SwitchOptions = {}) {
    this.options = options;
    this.program = isProgram(input) ? input : loadProgram(input);
    this.dropPort = options.dropPort ?? 511;
    this.clock = options.clock ?? systemMicros;
    this.started = this.clock();
    const program = this.program;
    this.layout = new PhvLayout(program);
    const codecs = this.layout.headers.map(compileHeaderCodec);
    // Direct arrays have no cells of their own: their state lives in the bound table's entries.
    for (const c of program.spec.counter_arrays) {
      if (!c.is_direct) this.counters.set(c.name, new CounterArray(c.name, c.size ?? 0));
    }
    for (const m of program.spec.meter_arrays) {
      if (!m.is_direct) {
        this.meters.set(
          m.name,
          new MeterArray(m.name, m.size ?? 0, m.type, m.rate_count, this.clock),
        );
      }
    }
    for (const r of program.spec.register_arrays) {
      this.registers.set(r.name, new RegisterArray(r.name, r.size, r.bitwidth));
    }
    for (const c of program.spec.calculations) {
      this.calculations.set(c.name, compileCalculation(c, this.layout, codecs));
    }
    const res: Resources = {
      program,
      layout: this.layout,
      codecs,
      counters: this.counters,
      meters: this.meters,
      registers: this.registers,
      calculations: this.calculations,
      primitives: v1modelPrimitives(this.dropPort),
      random: (lo, hi) => lo + BigInt(randomInt(0, Number(hi - lo) + 1)),
      log: options.log ?? (() => {}),
    };
    for (const a of program.spec.actions) this.actions.set(a.id, compileAction(a, res));
    const checksums = compileChecksums(res);
    this.parser = compileParser(res, (p) => checksums.verify(p));
    const pipeline = (name: string) =>
      compilePipeline(
        program.pipelines.get(name) as NonNullable<ReturnType<typeof program.pipelines.get>>,
        res,
        this.actions,
        this.tables,
        this.clock,
      );
    this.ingress = pipeline("ingress");
    this.egress = pipeline("egress");
    this.deparser = compileDeparser(res, checksums);
    const L = this.layout;
    // Stamps (timestamps, queueing metadata) cost a clock read or a queue scan per packet: they
    // are written only when the program reads them somewhere (field aliases aside).
    const { field_aliases: _aliases, ...referencing } = program.spec;
    const text = JSON.stringify(referencing);
    const read = (field: FieldSlot | undefined) => {
      const [h, f] = field ? field.name.split(".") : [];
      return field && text.includes(JSON.stringify([h, f]).slice(1)) ? field : undefined;
    };
    this.fields = {
      ingressPort: L.field("standard_metadata", "ingress_port"),
      packetLength: L.field("standard_metadata", "packet_length"),
      instanceType: L.field("standard_metadata", "instance_type"),
      egressSpec: L.field("standard_metadata", "egress_spec"),
      egressPort: L.field("standard_metadata", "egress_port"),
      parserError: L.optionalField("standard_metadata", "parser_error"),
      checksumError: L.optionalField("standard_metadata", "checksum_error"),
      mcastGrp:
        L.optionalField("intrinsic_metadata", "mcast_grp") ??
        L.optionalField("standard_metadata", "mcast_grp"),
      egressRid:
        L.optionalField("intrinsic_metadata", "egress_rid") ??
        L.optionalField("standard_metadata", "egress_rid"),
      ingressTimestamp: read(L.optionalField("intrinsic_metadata", "ingress_global_timestamp")),
      egressTimestamp: read(L.optionalField("intrinsic_metadata", "egress_global_timestamp")),
      priority: L.optionalField("intrinsic_metadata", "priority"),
      queueing: queueingFields(L, read),
    };
    this.egressQueue = new EgressQueue(this.fields.queueing !== undefined);
    this.egressSpecAtEgress = truncate(this.dropPort + 1, this.fields.egressSpec.width);
    for (const fl of program.spec.field_lists) {
      this.fieldLists.set(
        fl.id,
        fl.elements
          .filter((e) => e.type === "field")
          .map((e) => {
            const [h, f] = e.value as [string, string];
            return L.field(h, f, `field list "${fl.name}"`);
          }),
      );
    }
    for (const ll of program.spec.learn_lists) {
      const slots = ll.elements.map((e) => {
        const [h, f] = e.value as [string, string];
        return L.field(h, f, `learn list "${ll.name}"`);
      });
      this.learnSamplers.set(ll.id, (p) => concatFields(p, slots));
      this.learnLists.set(
        ll.id,
        new LearnList(
          ll.id,
          ll.name,
          (m) => this.emitDigest(m),
          () => this.clock() / 1000,
        ),
      );
    }
  }

  get errorCodes(): ReadonlyMap<string, number> {
    return this.parser.errorCodes;
  }

  get valueSets() {
    return this.parser.valueSets;
  }

  table(name: string): TableState {
    const t = this.tables.get(name);
    if (!t) throw new Error(`unknown table "${name}"`);
    return t;
  }

  /** The compiled action with this name (bmv2 JSON action names). */
  action(name: string): CompiledAction {
    for (const a of this.actions.values()) if (a.name === name) return a;
    throw new Error(`unknown action "${name}"`);
  }

  onDigest(listener: DigestListener): void {
    this.digestListeners.push(listener);
  }

  /** Sends buffered digests whose timeout has passed. */
  pollDigests(): void {
    for (const l of this.learnLists.values()) l.poll();
  }

  private emitDigest(message: Parameters<DigestListener>[0]): void {
    for (const l of this.digestListeners) l(message);
  }

  /** Processes one frame received on `port` to completion; returns what leaves, in order. */
  process(port: number, frame: Uint8Array): OutputPacket[] {
    const out: OutputPacket[] = [];
    let first: PacketState | undefined;
    // The queues are reused from frame to frame; a nested call (a listener injecting while a
    // frame runs) gets queues of its own.
    const outer = !this.running;
    const ingressQueue = outer ? this.ingressQueue : [];
    const egressQueue = outer
      ? this.egressQueue
      : new EgressQueue(this.fields.queueing !== undefined);
    // Both are empty unless the last frame stopped half-way (a fault, the pass limit).
    if (ingressQueue.length > 0) ingressQueue.length = 0;
    if (egressQueue.length > 0) egressQueue.clear();
    this.running = true;
    try {
      first = this.newPacket(port, frame);
      ingressQueue.push(first);
      let passes = 0;
      const maxPasses = this.options.maxPasses ?? 1024;
      while (ingressQueue.length > 0 || egressQueue.length > 0) {
        if (++passes > maxPasses) break;
        const next = ingressQueue.shift();
        if (next) {
          this.runIngress(next, ingressQueue, egressQueue);
          continue;
        }
        const e = egressQueue.shift() as { port: number; p: PacketState };
        this.runEgress(e.port, e.p, ingressQueue, egressQueue, out);
      }
    } catch (error) {
      this.options.onFault?.(error, port);
    } finally {
      if (outer) this.running = false;
    }
    if (first) this.spare = first.phv;
    return out;
  }

  private running = false;
  private readonly ingressQueue: PacketState[] = [];
  private readonly egressQueue: EgressQueue;

  private newPacket(port: number, frame: Uint8Array): PacketState {
    const p = new PacketState(this.freshPhv(), frame);
    this.setField(p, this.fields.ingressPort, port);
    this.setField(p, this.fields.packetLength, frame.length);
    this.setField(p, this.fields.instanceType, InstanceType.NORMAL);
    const stamp = this.fields.ingressTimestamp;
    if (stamp) this.setField(p, stamp, this.clock() - this.started);
    return p;
  }

  /**
   * The vector of a frame entering the switch. Nothing keeps a packet's vector after process()
   * (outputs are deparsed bytes; clones, resubmits and replicas get vectors of their own), so
   * one is reused from frame to frame, reset in place: no allocation and no garbage per frame.
   */
  private freshPhv(): Phv {
    if (this.spare) {
      const phv = this.spare;
      this.spare = undefined;
      phv.reset();
      return phv;
    }
    return new Phv(this.layout);
  }

  private spare: Phv | undefined;

  private setField(p: PacketState, field: FieldSlot | undefined, value: FieldValue): void {
    if (field) writeSlot(p.phv, field.slot, field.width, truncate(value, field.width));
  }

  private getNumber(p: PacketState, field: FieldSlot | undefined): number {
    return field ? Number(readSlot(p.phv, field.slot, field.width)) : 0;
  }

  /** bmv2 copy_field_list_and_set_type: metadata reset, listed fields copied, instance type set. */
  private preserve(from: PacketState, to: PacketState, fieldList: number, type: number): void {
    to.phv.resetMetadata();
    for (const f of this.fieldLists.get(fieldList) ?? []) {
      writeSlot(to.phv, f.slot, f.width, readSlot(from.phv, f.slot, f.width));
    }
    this.setField(to, this.fields.instanceType, type);
  }

  private runIngress(p: PacketState, ingressQueue: PacketState[], egressQueue: EgressQueue): void {
    this.parser.parse(p);
    this.setField(p, this.fields.parserError, p.parserError);
    this.setField(p, this.fields.checksumError, p.checksumError ? 1 : 0);
    this.ingress.apply(p);
    p.exited = false;
    const egressSpec = this.getNumber(p, this.fields.egressSpec);
    const mgid = this.getNumber(p, this.fields.mcastGrp);
    const ingressPort = this.getNumber(p, this.fields.ingressPort);

    if (p.cloneSession !== 0) {
      const session = this.pre.cloneSession(p.cloneSession & 0x7fff);
      p.cloneSession = 0;
      if (session) {
        const copy = new PacketState(new Phv(this.layout), p.frame);
        copy.packetLength = p.ingressLength;
        copy.ingressLength = p.ingressLength;
        this.setField(copy, this.fields.ingressPort, ingressPort);
        this.parser.parse(copy);
        this.preserve(p, copy, p.cloneFieldList, InstanceType.INGRESS_CLONE);
        this.sendClone(copy, session, egressQueue);
      }
    }
    if (p.learnList > 0) {
      const sampler = this.learnSamplers.get(p.learnList);
      if (sampler) this.learnLists.get(p.learnList)?.add(sampler(p));
    }
    if (p.resubmitFieldList !== 0) {
      const copy = new PacketState(new Phv(this.layout), p.frame);
      copy.ingressLength = p.ingressLength;
      this.preserve(p, copy, p.resubmitFieldList, InstanceType.RESUBMIT);
      copy.packetLength = p.ingressLength;
      this.setField(copy, this.fields.packetLength, p.ingressLength);
      ingressQueue.push(copy);
      return;
    }
    if (mgid !== 0) {
      this.setField(p, this.fields.instanceType, InstanceType.REPLICATION);
      this.multicast(p, mgid, egressQueue);
      return;
    }
    if (egressSpec === this.dropPort) return;
    this.setField(p, this.fields.instanceType, InstanceType.NORMAL);
    this.enqueue(egressSpec, p, egressQueue);
  }

  /** simple_switch enqueue: drops a packet asking for a priority queue it lacks, stamps queueing metadata. */
  private enqueue(port: number, p: PacketState, egressQueue: EgressQueue): void {
    if (this.getNumber(p, this.fields.priority) !== 0) return;
    const q = this.fields.queueing;
    if (q) {
      this.setField(p, q.enqTimestamp, this.clock() - this.started);
      // Each injected frame runs to completion, so the queue holds only what this frame made.
      this.setField(p, q.enqQdepth, egressQueue.depth(port));
    }
    egressQueue.push(port, p);
  }

  private sendClone(copy: PacketState, session: CloneSession, egressQueue: EgressQueue): void {
    if (session.truncateLength) copy.truncateLength = session.truncateLength;
    if (session.mgid !== undefined) this.multicast(copy, session.mgid, egressQueue);
    if (session.egressPort !== undefined) this.enqueue(session.egressPort, copy, egressQueue);
  }

  private multicast(p: PacketState, mgid: number, egressQueue: EgressQueue): void {
    for (const node of this.pre.nodes(mgid)) {
      for (const port of node.ports) {
        this.setField(p, this.fields.egressRid, node.rid);
        this.enqueue(port, copyPacket(p), egressQueue);
      }
    }
  }

  private runEgress(
    port: number,
    p: PacketState,
    ingressQueue: PacketState[],
    egressQueue: EgressQueue,
    out: OutputPacket[],
  ): void {
    const stamp = this.fields.egressTimestamp;
    if (stamp) this.setField(p, stamp, this.clock() - this.started);
    const q = this.fields.queueing;
    if (q) {
      const enqueued = this.getNumber(p, q.enqTimestamp);
      this.setField(p, q.deqTimedelta, this.clock() - this.started - enqueued);
      this.setField(p, q.deqQdepth, egressQueue.depth(port));
      this.setField(p, q.qid, 0);
    }
    this.setField(p, this.fields.egressPort, port);
    // simple_switch sets egress_spec to drop_port + 1 (truncated to the field) before egress.
    writeSlot(
      p.phv,
      this.fields.egressSpec.slot,
      this.fields.egressSpec.width,
      this.egressSpecAtEgress,
    );
    this.setField(p, this.fields.packetLength, p.packetLength);
    this.egress.apply(p);
    p.exited = false;

    if (p.cloneSession !== 0) {
      const session = this.pre.cloneSession(p.cloneSession & 0x7fff);
      const fieldList = p.cloneFieldList;
      p.cloneSession = 0;
      p.cloneFieldList = 0;
      if (session) {
        const copy = copyPacket(p);
        this.preserve(p, copy, fieldList, InstanceType.EGRESS_CLONE);
        this.sendClone(copy, session, egressQueue);
      }
    }
    if (this.getNumber(p, this.fields.egressSpec) === this.dropPort) return;
    let frame = this.deparser(p);
    if (p.recirculateFieldList !== 0) {
      const copy = new PacketState(new Phv(this.layout), frame);
      this.preserve(p, copy, p.recirculateFieldList, InstanceType.RECIRC);
      this.setField(copy, this.fields.packetLength, frame.length);
      ingressQueue.push(copy);
      return;
    }
    if (frame.length > p.truncateLength) frame = frame.subarray(0, p.truncateLength);
    out.push({ port, frame });
  }
}

function isProgram(input: unknown): input is Program {
  return typeof input === "object" && input !== null && "spec" in input && "headerTypes" in input;
}

/**
 * bmv2 clone_with_phv: same headers, metadata and payload; fresh per-packet registers and no
 * truncation (a new bmv2 Packet starts with truncated_length unset).
 */
function copyPacket(p: PacketState): PacketState {
  const copy = new PacketState(p.phv.clone(), p.frame);
  copy.payload = p.payload;
  copy.packetLength = p.packetLength;
  copy.ingressLength = p.ingressLength;
  return copy;
}

function queueingFields(
  L: PhvLayout,
  read: (field: FieldSlot | undefined) => FieldSlot | undefined,
): Fields["queueing"] {
  const enqTimestamp = L.optionalField("queueing_metadata", "enq_timestamp");
  const enqQdepth = L.optionalField("queueing_metadata", "enq_qdepth");
  const deqTimedelta = L.optionalField("queueing_metadata", "deq_timedelta");
  const deqQdepth = L.optionalField("queueing_metadata", "deq_qdepth");
  if (!enqTimestamp || !enqQdepth || !deqTimedelta || !deqQdepth) return undefined;
  const qid = L.optionalField("queueing_metadata", "qid");
  if (![enqTimestamp, enqQdepth, deqTimedelta, deqQdepth, qid].some((f) => read(f))) {
    return undefined;
  }
  return { enqTimestamp, enqQdepth, deqTimedelta, deqQdepth, ...(qid ? { qid } : {}) };
}

/** A digest sample: each field's value, byte-padded, concatenated (bmv2 LearnSampleBuilder). */
function concatFields(p: PacketState, fields: readonly FieldSlot[]): Uint8Array {
  const parts = fields.map((f) =>
    valueBytes(readSlot(p.phv, f.slot, f.width), (f.width + 7) >>> 3),
  );
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
