/**
 * An STF target behind P4Runtime (bmv2's simple_switch_grpc, or the softswitch's server):
 * table writes by P4Info name, the simple_switch_CLI commands as the P4Runtime entities PI
 * turns into the same bmv2 calls, packets through a packet I/O (the data-plane harness's veth
 * ports, or bmv2's pcap-file ports). Values are cut to their field's width as the bmv2 CLI does
 * (P4Runtime would refuse them).
 */

import type { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { EntityBuilder, type MatchValue } from "../../controller/p4rt/entities.js";
import type { P4InfoIndex } from "../../controller/p4rt/p4info.js";
import { encodeUnsigned } from "../../proto/bytestring.js";
import type { Entity } from "../../proto/gen/p4/v1/Entity.js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import type { DataplaneTarget, Output } from "../support/targets.js";
import type { CliCommandName } from "./stf-parser.js";
import { stfInteger } from "./stf-parser.js";
import {
  type CellRef,
  cellRef,
  type ResolvedAction,
  type ResolvedDefault,
  type ResolvedEntry,
  type ResolvedKey,
  type ResolvedMember,
} from "./stf-program.js";
import type { CounterCell, StfTarget } from "./stf-runner.js";
import { parseCliRates } from "./stf-softswitch.js";

const MICROS_PER_SECOND = 1_000_000;
/** Linux refuses to send a frame shorter than an Ethernet header on a veth. */
const MIN_VETH_FRAME = 14;

/** A frame the veth ports of the harness cannot carry; the test cannot run on this target. */
export class UnsendableFrame extends Error {
  constructor(readonly length: number) {
    super(`a ${length}-byte frame cannot be sent on a veth (minimum ${MIN_VETH_FRAME})`);
    this.name = "UnsendableFrame";
  }
}

const fit = (value: bigint, width: number) => BigInt.asUintN(width, value);

/** How frames reach the switch and what leaves it. */
export interface StfPacketIo {
  /** Sends a frame; resolves with what left because of it, when that is known at once. */
  send(port: number, frame: Uint8Array): Promise<Output[]>;
  /** Waits until the frames sent so far are processed (before the next control command). */
  settle(): Promise<void>;
  /** Once every frame is processed: what left that send did not return. */
  drain(): Promise<Output[]>;
}

/** The data-plane harness's ports (veth, or the softswitch in process). */
export function harnessIo(target: DataplaneTarget): StfPacketIo {
  return {
    async send(port, frame) {
      if (target.kind === "bmv2" && frame.length < MIN_VETH_FRAME) {
        throw new UnsendableFrame(frame.length);
      }
      return target.send(port, frame);
    },
    settle: async () => {},
    drain: async () => [],
  };
}

export class P4RuntimeStfTarget implements StfTarget {
  private readonly builder: EntityBuilder;
  private readonly received = new Map<number, Uint8Array[]>();
  private readonly nodes = new Map<number, { rid: number; ports: number[] }>();
  private nextNode = 0;
  /** Multicast groups (their node handles) and whether the switch has them yet. */
  private readonly groups = new Map<number, { nodes: number[]; written: boolean }>();
  /** Entries named `= ID`, for direct counters and meters. */
  private readonly entries = new Map<string, Entity>();
  private readonly groupsWritten = new Set<string>();
  private readonly valueSets = new Map<string, bigint[]>();

  constructor(
    private readonly client: P4RuntimeClient,
    index: P4InfoIndex,
    private readonly io: StfPacketIo,
  ) {
    this.builder = new EntityBuilder(index);
  }

  /** The harness target's own client, pipeline and ports. */
  static onHarness(target: DataplaneTarget): P4RuntimeStfTarget {
    const index = target.pipeline?.index;
    if (!index) throw new Error("the target runs no pipeline");
    return new P4RuntimeStfTarget(target.client, index, harnessIo(target));
  }

  async addEntry(e: ResolvedEntry): Promise<void> {
    const match: Record<string, MatchValue | undefined> = {};
    for (const k of e.keys) match[k.name] = matchValue(k);
    const t = e.target;
    const entity = this.builder.tableEntry(e.table.name, {
      match,
      target: "action" in t ? this.call(t) : t,
      // STF priority 0 is legal; P4Runtime needs > 0. Adding 1 keeps the order.
      ...(e.priority === undefined ? {} : { priority: e.priority + 1 }),
    });
    await this.insert(entity);
    if (e.id) this.entries.set(e.id, entity);
  }

  async addMember(m: ResolvedMember): Promise<void> {
    await this.insert(this.builder.actionProfileMember(m.profile, m.id, this.call(m)));
  }

  async setGroup(profile: string, id: number, members: readonly number[]): Promise<void> {
    const key = `${profile}/${id}`;
    const entity = this.builder.actionProfileGroup(
      profile,
      id,
      members.map((m) => ({ id: m })),
    );
    await this.write([{ type: this.groupsWritten.has(key) ? "MODIFY" : "INSERT", entity }]);
    this.groupsWritten.add(key);
  }

  async addValueSetMember(valueSet: string, value: bigint): Promise<void> {
    const set = this.builder.p4info.valueSets.get(valueSet);
    const members = this.valueSets.get(valueSet) ?? [];
    members.push(value);
    this.valueSets.set(valueSet, members);
    const fields = set.match ?? [];
    const width = fields.reduce((sum, f) => sum + f.bitwidth, 0);
    const entity: Entity = {
      value_set_entry: {
        value_set_id: set.preamble?.id,
        // A member is one value over the set's fields, most significant field first.
        members: members.map((v) => {
          let shift = width;
          return {
            match: fields.map((f) => {
              shift -= f.bitwidth;
              const part = fit(v >> BigInt(shift), f.bitwidth);
              return {
                field_id: f.id,
                exact: { value: encodeUnsigned(part, f.bitwidth, `${valueSet}.${f.name}`) },
              };
            }),
          };
        }),
      },
    };
    await this.modify(entity);
  }

  async readCounter(counter: string, cell: CellRef): Promise<CounterCell> {
    const entity =
      "entry" in cell
        ? this.builder.directCounterEntry(this.namedEntry(cell.entry))
        : this.builder.counterEntry(counter, cell.index);
    const [read] = await this.settled(() => this.client.readAll([entity]));
    const data = read?.counter_entry?.data ?? read?.direct_counter_entry?.data;
    if (!data) throw new Error(`${counter}: nothing read`);
    return { packets: BigInt(data.packet_count), bytes: BigInt(data.byte_count) };
  }

  async setDefault(e: ResolvedDefault): Promise<void> {
    await this.write([
      { type: "MODIFY", entity: this.builder.defaultEntry(e.table.name, this.call(e)) },
    ]);
  }

  async cli(name: CliCommandName, args: readonly string[]): Promise<void> {
    const n = (i: number) => Number(stfInteger(args[i] ?? ""));
    switch (name) {
      case "mirroring_add":
        await this.insert(this.builder.cloneSession(n(0), [{ port: n(1), instance: 0 }]));
        return;
      case "mirroring_add_mc":
        await this.insert(this.builder.cloneSession(n(0), this.replicas(n(1))));
        return;
      case "mirroring_delete":
        await this.write([{ type: "DELETE", entity: this.builder.cloneSession(n(0), []) }]);
        return;
      case "mc_mgrp_create":
        this.groups.set(n(0), { nodes: [], written: false });
        return;
      case "mc_node_create":
        this.nodes.set(this.nextNode++, {
          rid: n(0),
          ports: args.slice(1).map((p) => Number(stfInteger(p))),
        });
        return;
      case "mc_node_update": {
        const node = this.nodes.get(n(0));
        if (!node) throw new Error(`no multicast node ${n(0)}`);
        node.ports = args.slice(1).map((p) => Number(stfInteger(p)));
        for (const [mgid, group] of this.groups) {
          if (group.nodes.includes(n(0))) await this.writeGroup(mgid);
        }
        return;
      }
      case "mc_node_associate": {
        const group = this.groups.get(n(0));
        if (!group) throw new Error(`no multicast group ${n(0)}`);
        if (!this.nodes.has(n(1))) throw new Error(`no multicast node ${n(1)}`);
        group.nodes.push(n(1));
        await this.writeGroup(n(0));
        return;
      }
      case "register_write":
        await this.modify(
          this.builder.registerEntry(args[0] ?? "", n(1), stfInteger(args[2] ?? "")),
        );
        return;
      case "register_reset": {
        const register = this.builder.p4info.registers.get(args[0] ?? "");
        const updates = Array.from({ length: register.size }, (_, i) => ({
          type: "MODIFY" as const,
          entity: this.builder.registerEntry(args[0] ?? "", i, 0),
        }));
        await this.write(updates);
        return;
      }
      case "counter_write":
        await this.modify(
          this.builder.counterEntry(args[0] ?? "", n(1), {
            packets: stfInteger(args[2] ?? ""),
            bytes: stfInteger(args[3] ?? ""),
          }),
        );
        return;
      case "meter_set_rates": {
        const meter = args[0] ?? "";
        const rates = perSecond(args.slice(2));
        const cell = cellRef(args[1] ?? "");
        await this.modify(
          "entry" in cell
            ? this.builder.directMeterEntry(this.namedEntry(cell.entry), rates)
            : this.builder.meterEntry(meter, cell.index, rates),
        );
        return;
      }
      case "meter_array_set_rates": {
        const rates = perSecond(args.slice(1));
        const size = Number(this.builder.p4info.meters.get(args[0] ?? "").size);
        await this.write(
          Array.from({ length: size }, (_, i) => ({
            type: "MODIFY" as const,
            entity: this.builder.meterEntry(args[0] ?? "", i, rates),
          })),
        );
        return;
      }
      case "register_read":
      case "counter_read":
      case "meter_get_rates":
      case "mirroring_get":
        return;
    }
  }

  async packet(port: number, frame: Uint8Array): Promise<void> {
    this.collect(await this.io.send(port, frame));
  }

  async outputs(): Promise<Map<number, Uint8Array[]>> {
    this.collect(await this.io.drain());
    return this.received;
  }

  private collect(outputs: readonly Output[]): void {
    for (const out of outputs) {
      const list = this.received.get(out.port) ?? [];
      list.push(out.frame);
      this.received.set(out.port, list);
    }
  }

  /** Control-plane work happens after the frames before it are processed, as in the file. */
  private async settled<T>(work: () => Promise<T>): Promise<T> {
    await this.io.settle();
    return work();
  }

  private write(updates: Update[]): Promise<void> {
    return this.settled(() => this.client.write(updates));
  }

  private namedEntry(id: string): Entity {
    const entity = this.entries.get(id);
    if (!entity) throw new Error(`no entry named $${id}`);
    return entity;
  }

  private call(e: ResolvedAction) {
    const params: Record<string, bigint> = {};
    e.action.params.forEach((p, i) => {
      params[p.name] = fit(e.args[i] ?? 0n, p.width);
    });
    return { action: e.action.name, params };
  }

  private replicas(mgid: number): { port: number; instance: number }[] {
    const group = this.groups.get(mgid);
    if (!group) throw new Error(`no multicast group ${mgid}`);
    return group.nodes.flatMap((h) => {
      const node = this.nodes.get(h);
      return (node?.ports ?? []).map((port) => ({ port, instance: node?.rid ?? 0 }));
    });
  }

  private async writeGroup(mgid: number): Promise<void> {
    const group = this.groups.get(mgid);
    if (!group) return;
    const entity = this.builder.multicastGroup(mgid, this.replicas(mgid));
    await this.write([{ type: group.written ? "MODIFY" : "INSERT", entity }]);
    group.written = true;
  }

  private insert(entity: Entity): Promise<void> {
    return this.write([{ type: "INSERT", entity }]);
  }

  private modify(entity: Entity): Promise<void> {
    return this.write([{ type: "MODIFY", entity }]);
  }
}

/** The CLI's committed and peak `rate:burst` (per microsecond) as P4Runtime rates (per second). */
function perSecond(args: readonly string[]) {
  const [committed, peak] = parseCliRates(args);
  if (!committed || !peak) throw new Error("two rates needed (committed, peak)");
  return {
    cir: Math.round(committed.infoRate * MICROS_PER_SECOND),
    cburst: committed.burstSize,
    pir: Math.round(peak.infoRate * MICROS_PER_SECOND),
    pburst: peak.burstSize,
  };
}

/** A key as P4Runtime takes it: cut to the field (as the bmv2 CLI does), don't-care omitted. */
function matchValue(k: ResolvedKey): MatchValue | undefined {
  switch (k.kind) {
    case "exact":
    case "valid":
      return fit(k.value, k.width);
    case "lpm": {
      const keep = BigInt.asUintN(k.width, -1n << BigInt(k.width - k.prefixLength));
      return { value: fit(k.value, k.width) & keep, prefixLength: k.prefixLength };
    }
    case "ternary": {
      const mask = fit(k.mask, k.width);
      return { value: fit(k.value, k.width) & mask, mask };
    }
    case "range":
      return { low: fit(k.low, k.width), high: fit(k.high, k.width) };
    case "optional":
      return k.wildcard ? undefined : fit(k.value, k.width);
  }
}
