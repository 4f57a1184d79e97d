/**
 * The softswitch as an STF target: table writes go straight to the SimpleSwitch objects, the
 * simple_switch_CLI commands map to the replication engine, registers, counters and meters, and
 * packets run to completion as they are injected. Refusals mirror the bmv2 CLI's (a const default
 * action, entries of a const table, unknown groups and nodes).
 */
import type { ActionCall, EntryAction, TableState } from "../../softswitch/compile/control.js";
import type { MatchParam } from "../../softswitch/core/match-table.js";
import type { MeterRate } from "../../softswitch/core/meters.js";
import type { ReplicationNode } from "../../softswitch/core/pre.js";
import { type FieldValue, truncate } from "../../softswitch/core/values.js";
import type { SimpleSwitch } from "../../softswitch/v1model/switch.js";
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

/** bmv2stf gives bmv2 `10000 - prio`; bmv2's lowest priority value wins. */
const BMV2_PRIORITY_BASE = 10000;

export class SoftswitchStfTarget implements StfTarget {
  private readonly received = new Map<number, Uint8Array[]>();
  /** Multicast nodes by handle (bmv2 hands them out from 0) and each group's nodes. */
  private readonly nodes = new Map<number, ReplicationNode>();
  private nextNode = 0;
  private readonly groups = new Map<number, number[]>();
  /** Entries named `= ID`, for direct counters and meters. */
  private readonly entries = new Map<string, { table: TableState; handle: number }>();
  /** STF member and group ids → the profile's handles, per profile. */
  private readonly memberHandles = new Map<string, Map<number, number>>();
  private readonly groupHandles = new Map<string, Map<number, number>>();

  constructor(readonly sw: SimpleSwitch) {}

  async addEntry(e: ResolvedEntry): Promise<void> {
    const table = this.sw.table(e.table.name);
    if (table.immutable) throw new Error(`table "${e.table.name}" has const entries`);
    const action = this.entryAction(table, e);
    const handle = table.entries.add(
      e.keys.map(matchParam),
      action,
      e.priority === undefined ? 0 : BMV2_PRIORITY_BASE - e.priority,
    );
    if (action.kind !== "action") table.profile?.reference(action.kind, this.handleOf(action), 1);
    if (e.id) this.entries.set(e.id, { table, handle });
  }

  async setDefault(e: ResolvedDefault): Promise<void> {
    const table = this.sw.table(e.table.name);
    if (table.defaultConst) throw new Error(`table "${e.table.name}": default action is const`);
    if (table.spec.type !== "simple") throw new Error(`table "${e.table.name}" is indirect`);
    table.defaultEntry = { kind: "action", ...this.call(e) };
  }

  async addMember(m: ResolvedMember): Promise<void> {
    const profile = this.profile(m.profile);
    const ids = this.ids(this.memberHandles, m.profile);
    if (ids.has(m.id)) throw new Error(`member ${m.id} exists`);
    ids.set(m.id, profile.addMember(this.call(m)));
  }

  async setGroup(profileName: string, id: number, members: readonly number[]): Promise<void> {
    const profile = this.profile(profileName);
    const ids = this.ids(this.groupHandles, profileName);
    let handle = ids.get(id);
    if (handle === undefined) {
      handle = profile.createGroup();
      ids.set(id, handle);
    }
    for (const m of [...profile.groupMembers(handle)]) profile.removeMemberFromGroup(handle, m);
    const memberIds = this.ids(this.memberHandles, profileName);
    for (const m of members) {
      const member = memberIds.get(m);
      if (member === undefined) throw new Error(`no member ${m} in "${profileName}"`);
      profile.addMemberToGroup(handle, member);
    }
  }

  async addValueSetMember(valueSet: string, value: bigint): Promise<void> {
    const set = this.sw.valueSets.get(valueSet);
    if (!set) throw new Error(`no value set "${valueSet}"`);
    set.values.add(BigInt.asUintN(set.bitwidth, value));
  }

  async readCounter(counter: string, cell: CellRef): Promise<CounterCell> {
    if ("entry" in cell) {
      const { table, handle } = this.namedEntry(cell.entry);
      const entry = table.entries.get(handle);
      if (!entry) throw new Error(`entry $${cell.entry} is gone`);
      return { packets: BigInt(entry.packets), bytes: BigInt(entry.bytes) };
    }
    const array = this.sw.counters.get(counter);
    if (!array) throw new Error(`no counter array "${counter}"`);
    return array.read(cell.index);
  }

  async cli(name: CliCommandName, args: readonly string[]): Promise<void> {
    const n = (i: number) => Number(stfInteger(args[i] ?? ""));
    const pre = this.sw.pre;
    switch (name) {
      case "mirroring_add":
        pre.setCloneSession(n(0), { egressPort: n(1) });
        return;
      case "mirroring_add_mc":
        pre.setCloneSession(n(0), { mgid: n(1) });
        return;
      case "mirroring_delete":
        if (!pre.deleteCloneSession(n(0))) throw new Error(`no mirroring session ${n(0)}`);
        return;
      case "mc_mgrp_create":
        if (this.groups.has(n(0))) throw new Error(`group ${n(0)} exists`);
        this.groups.set(n(0), []);
        pre.setGroupNodes(n(0), []);
        return;
      case "mc_node_create":
      case "mc_node_update": {
        const ports = args.slice(1).map((p) => Number(stfInteger(p)));
        const handle = name === "mc_node_create" ? this.nextNode++ : n(0);
        if (name === "mc_node_update" && !this.nodes.has(handle)) {
          throw new Error(`no multicast node ${handle}`);
        }
        const rid = name === "mc_node_create" ? n(0) : (this.nodes.get(handle)?.rid ?? 0);
        this.nodes.set(handle, { rid, ports });
        this.syncGroups();
        return;
      }
      case "mc_node_associate": {
        const group = this.groups.get(n(0));
        if (!group) throw new Error(`no multicast group ${n(0)}`);
        if (!this.nodes.has(n(1))) throw new Error(`no multicast node ${n(1)}`);
        group.push(n(1));
        this.syncGroups();
        return;
      }
      case "register_write":
        this.register(args[0]).set(n(1), stfInteger(args[2] ?? ""));
        return;
      case "register_reset":
        this.register(args[0]).reset();
        return;
      case "register_read":
        this.register(args[0]).get(n(1));
        return;
      case "counter_write": {
        const counter = this.sw.counters.get(args[0] ?? "");
        if (!counter) throw new Error(`no counter array "${args[0]}"`);
        counter.write(n(1), {
          packets: stfInteger(args[2] ?? ""),
          bytes: stfInteger(args[3] ?? ""),
        });
        return;
      }
      case "meter_set_rates":
        for (const meter of this.meters(args[0] ?? "", cellRef(args[1] ?? ""))) {
          setRates(meter, args.slice(2));
        }
        return;
      case "meter_array_set_rates": {
        const array = this.sw.meters.get(args[0] ?? "");
        if (!array) throw new Error(`no meter array "${args[0]}"`);
        for (const meter of array.meters) setRates(meter, args.slice(1));
        return;
      }
      case "mirroring_get":
      case "counter_read":
      case "meter_get_rates":
        // Reads: bmv2stf never checks what the CLI prints.
        return;
    }
  }

  async packet(port: number, frame: Uint8Array): Promise<void> {
    for (const out of this.sw.process(port, frame)) {
      const list = this.received.get(out.port) ?? [];
      list.push(out.frame);
      this.received.set(out.port, list);
    }
  }

  async outputs(): Promise<Map<number, Uint8Array[]>> {
    return this.received;
  }

  private call(a: ResolvedAction): ActionCall {
    const action = this.sw.actions.get(a.action.id);
    if (!action) throw new Error(`unknown action id ${a.action.id}`);
    // Action data in the switch's representation, cut to each parameter's width as bmv2 does.
    const data: FieldValue[] = a.args.map((v, i) => truncate(v, a.action.params[i]?.width ?? 0));
    return { action, data };
  }

  private entryAction(table: TableState, e: ResolvedEntry): EntryAction {
    const t = e.target;
    if ("action" in t) {
      if (table.profile) throw new Error(`table "${e.table.name}" is indirect`);
      return { kind: "action", ...this.call(t) };
    }
    const profile = table.spec.action_profile;
    if (!table.profile || !profile) throw new Error(`table "${e.table.name}" is not indirect`);
    if ("member" in t) {
      const member = this.ids(this.memberHandles, profile).get(t.member);
      if (member === undefined) throw new Error(`no member ${t.member}`);
      return { kind: "member", member };
    }
    const group = this.ids(this.groupHandles, profile).get(t.group);
    if (group === undefined) throw new Error(`no group ${t.group}`);
    return { kind: "group", group };
  }

  private handleOf(a: EntryAction): number {
    if (a.kind === "member") return a.member;
    if (a.kind === "group") return a.group;
    return -1;
  }

  private profile(name: string) {
    for (const t of this.sw.tables.values()) {
      if (t.spec.action_profile === name && t.profile) return t.profile;
    }
    throw new Error(`no action profile "${name}"`);
  }

  private ids(byProfile: Map<string, Map<number, number>>, profile: string): Map<number, number> {
    let ids = byProfile.get(profile);
    if (!ids) {
      ids = new Map();
      byProfile.set(profile, ids);
    }
    return ids;
  }

  private namedEntry(id: string) {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no entry named $${id}`);
    return entry;
  }

  /** A meter array's cell, or the direct meter of a named entry. */
  private meters(name: string, cell: CellRef) {
    if ("entry" in cell) {
      const { table, handle } = this.namedEntry(cell.entry);
      if (table.spec.direct_meters !== name) throw new Error(`"${name}" is not this entry's meter`);
      return [table.directMeter(handle)];
    }
    const array = this.sw.meters.get(name);
    if (!array) throw new Error(`no meter array "${name}"`);
    return [array.meter(cell.index)];
  }

  private register(name: string | undefined) {
    const reg = this.sw.registers.get(name ?? "");
    if (!reg) throw new Error(`no register array "${name}"`);
    return reg;
  }

  private syncGroups(): void {
    for (const [mgid, handles] of this.groups) {
      this.sw.pre.setGroupNodes(
        mgid,
        handles.map((h) => this.nodes.get(h) ?? { rid: 0, ports: [] }),
      );
    }
  }
}

/** simple_switch_CLI rates: `rate:burst` committed then peak, rates in units per microsecond. */
export function parseCliRates(args: readonly string[]): MeterRate[] {
  return args.map((r) => {
    const [rate, burst] = r.split(":");
    return { infoRate: Number(rate), burstSize: Number(burst) };
  });
}

function setRates(
  meter: { setRates(rates: readonly MeterRate[]): boolean },
  args: readonly string[],
) {
  if (!meter.setRates(parseCliRates(args)))
    throw new Error(`invalid meter rates ${args.join(" ")}`);
}

function matchParam(k: ResolvedKey): MatchParam {
  switch (k.kind) {
    case "exact":
      return { kind: "exact", value: k.value };
    case "valid":
      return { kind: "valid", value: k.value !== 0n };
    case "lpm":
      return { kind: "lpm", value: k.value, prefixLength: k.prefixLength };
    case "ternary":
      return { kind: "ternary", value: k.value, mask: k.mask };
    case "range":
      return { kind: "range", low: k.low, high: k.high };
    case "optional":
      return { kind: "optional", value: k.value, wildcard: k.wildcard };
  }
}
