/**
 * An STF target behind P4Runtime (bmv2's simple_switch_grpc through the data-plane harness of
 * test/support/targets.ts): table writes by P4Info name, the simple_switch_CLI commands as the
 * P4Runtime entities PI turns into the same bmv2 calls, packets on the harness's ports.
 * Values are cut to their field's width as the bmv2 CLI does (P4Runtime would refuse them).
 */
import { EntityBuilder, type MatchValue } from "../../controller/p4rt/entities.js";
import type { Entity } from "../../proto/gen/p4/v1/Entity.js";
import type { DataplaneTarget } from "../support/targets.js";
import type { CliCommandName } from "./stf-parser.js";
import { stfInteger } from "./stf-parser.js";
import type { ResolvedDefault, ResolvedEntry } from "./stf-program.js";
import type { StfTarget } from "./stf-runner.js";

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

export class P4RuntimeStfTarget implements StfTarget {
  private readonly builder: EntityBuilder;
  private readonly received = new Map<number, Uint8Array[]>();
  private readonly nodes = new Map<number, { rid: number; ports: number[] }>();
  private nextNode = 0;
  /** Multicast groups (their node handles) and whether the switch has them yet. */
  private readonly groups = new Map<number, { nodes: number[]; written: boolean }>();

  constructor(readonly target: DataplaneTarget) {
    const index = target.pipeline?.index;
    if (!index) throw new Error("the target runs no pipeline");
    this.builder = new EntityBuilder(index);
  }

  async addEntry(e: ResolvedEntry): Promise<void> {
    const match: Record<string, MatchValue> = {};
    for (const k of e.keys) {
      if (k.kind === "exact" || k.kind === "valid") match[k.name] = fit(k.value, k.width);
      else if (k.kind === "lpm") {
        const keep = BigInt.asUintN(k.width, -1n << BigInt(k.width - k.prefixLength));
        match[k.name] = { value: fit(k.value, k.width) & keep, prefixLength: k.prefixLength };
      } else if (k.kind === "ternary") {
        const mask = fit(k.mask, k.width);
        match[k.name] = { value: fit(k.value, k.width) & mask, mask };
      }
    }
    await this.insert(
      this.builder.tableEntry(e.table.name, {
        match,
        target: this.call(e),
        // STF priority 0 is legal; P4Runtime needs > 0. Adding 1 keeps the order.
        ...(e.priority === undefined ? {} : { priority: e.priority + 1 }),
      }),
    );
  }

  async setDefault(e: ResolvedDefault): Promise<void> {
    await this.target.client.write([
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
        await this.target.client.write([
          { type: "DELETE", entity: this.builder.cloneSession(n(0), []) },
        ]);
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
        await this.target.client.write(updates);
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
      case "meter_set_rates":
      case "meter_array_set_rates": {
        const rateArgs = name === "meter_set_rates" ? args.slice(2) : args.slice(1);
        const [committed, peak] = rateArgs.map((r) => {
          const [rate, burst] = r.split(":");
          return { rate: Number(rate) * MICROS_PER_SECOND, burst: Number(burst) };
        });
        if (!committed || !peak) throw new Error("two rates needed (committed, peak)");
        const rates = {
          cir: committed.rate,
          cburst: committed.burst,
          pir: peak.rate,
          pburst: peak.burst,
        };
        const meter = this.builder.p4info.meters.get(args[0] ?? "");
        const indexes =
          name === "meter_set_rates"
            ? [n(1)]
            : Array.from({ length: Number(meter.size) }, (_, i) => i);
        await this.target.client.write(
          indexes.map((i) => ({
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
    if (frame.length < MIN_VETH_FRAME) throw new UnsendableFrame(frame.length);
    for (const out of await this.target.send(port, frame)) {
      const list = this.received.get(out.port) ?? [];
      list.push(out.frame);
      this.received.set(out.port, list);
    }
  }

  async outputs(): Promise<Map<number, Uint8Array[]>> {
    return this.received;
  }

  private call(e: ResolvedDefault) {
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
    await this.target.client.write([{ type: group.written ? "MODIFY" : "INSERT", entity }]);
    group.written = true;
  }

  private insert(entity: Entity): Promise<void> {
    return this.target.client.write([{ type: "INSERT", entity }]);
  }

  private modify(entity: Entity): Promise<void> {
    return this.target.client.write([{ type: "MODIFY", entity }]);
  }
}
