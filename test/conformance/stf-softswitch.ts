/**
 * The softswitch as an STF target: table writes go straight to the SimpleSwitch objects, the
 * simple_switch_CLI commands map to the replication engine, registers, counters and meters, and
 * packets run to completion as they are injected. Refusals mirror the bmv2 CLI's (a const default
 * action, entries of an indirect or const table, unknown groups and nodes).
 */
import type { TableState } from "../../softswitch/pipeline/control.js";
import { type FieldValue, truncate } from "../../softswitch/pipeline/values.js";
import type { MatchParam } from "../../softswitch/runtime/match-table.js";
import type { Replica } from "../../softswitch/runtime/pre.js";
import type { SimpleSwitch } from "../../softswitch/runtime/switch.js";
import type { CliCommandName } from "./stf-parser.js";
import { stfInteger } from "./stf-parser.js";
import type { ResolvedDefault, ResolvedEntry, ResolvedKey } from "./stf-program.js";
import type { StfTarget } from "./stf-runner.js";

/** bmv2stf gives bmv2 `10000 - prio`; bmv2's lowest priority value wins. */
const BMV2_PRIORITY_BASE = 10000;

export class SoftswitchStfTarget implements StfTarget {
  private readonly received = new Map<number, Uint8Array[]>();
  /** Multicast nodes by handle (bmv2 hands them out from 0) and each group's nodes. */
  private readonly nodes = new Map<number, Replica[]>();
  private nextNode = 0;
  private readonly groups = new Map<number, number[]>();
  constructor(readonly sw: SimpleSwitch) {}

  async addEntry(e: ResolvedEntry): Promise<void> {
    const table = this.simpleTable(e.table.name);
    const action = this.sw.actions.get(e.action.id);
    if (!action) throw new Error(`unknown action id ${e.action.id}`);
    table.entries.add(
      e.keys.map(matchParam),
      { kind: "action", action, data: actionData(e) },
      e.priority === undefined ? 0 : BMV2_PRIORITY_BASE - e.priority,
    );
  }

  async setDefault(e: ResolvedDefault): Promise<void> {
    const table = this.sw.table(e.table.name);
    if (table.defaultConst) throw new Error(`table "${e.table.name}": default action is const`);
    if (table.spec.type !== "simple") throw new Error(`table "${e.table.name}" is indirect`);
    const action = this.sw.actions.get(e.action.id);
    if (!action) throw new Error(`unknown action id ${e.action.id}`);
    table.defaultEntry = { kind: "action", action, data: actionData(e) };
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
        pre.setGroup(n(0), []);
        return;
      case "mc_node_create":
      case "mc_node_update": {
        const ports = args.slice(1).map((p) => Number(stfInteger(p)));
        const handle = name === "mc_node_create" ? this.nextNode++ : n(0);
        if (name === "mc_node_update" && !this.nodes.has(handle)) {
          throw new Error(`no multicast node ${handle}`);
        }
        const rid = name === "mc_node_create" ? n(0) : (this.nodes.get(handle)?.[0]?.rid ?? 0);
        this.nodes.set(
          handle,
          ports.map((port) => ({ rid, port })),
        );
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
      case "meter_array_set_rates": {
        const array = this.sw.meters.get(args[0] ?? "");
        if (!array) throw new Error(`no meter array "${args[0]}"`);
        const rateArgs = name === "meter_set_rates" ? args.slice(2) : args.slice(1);
        const rates = rateArgs.map((r) => {
          const [rate, burst] = r.split(":");
          return { infoRate: Number(rate), burstSize: Number(burst) };
        });
        const indexes =
          name === "meter_set_rates" ? [n(1)] : Array.from({ length: array.size }, (_, i) => i);
        for (const i of indexes) {
          if (!array.meter(i).setRates(rates)) throw new Error(`invalid meter rates ${rateArgs}`);
        }
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

  private simpleTable(name: string): TableState {
    const table = this.sw.table(name);
    if (table.spec.type !== "simple") throw new Error(`table "${name}" is indirect`);
    if (table.immutable) throw new Error(`table "${name}" has const entries`);
    return table;
  }

  private register(name: string | undefined) {
    const reg = this.sw.registers.get(name ?? "");
    if (!reg) throw new Error(`no register array "${name}"`);
    return reg;
  }

  private syncGroups(): void {
    for (const [mgid, handles] of this.groups) {
      this.sw.pre.setGroup(
        mgid,
        handles.flatMap((h) => this.nodes.get(h) ?? []),
      );
    }
  }
}

/** Action data in the switch's representation, truncated to each parameter's width as bmv2 does. */
function actionData(e: ResolvedDefault): FieldValue[] {
  return e.args.map((v, i) => truncate(v, e.action.params[i]?.width ?? 0));
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
  }
}
