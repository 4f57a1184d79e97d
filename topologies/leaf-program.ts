/**
 * Programming a data-plane target by P4 name through the project's P4Runtime client, in
 * batches (one Write per commit), and reading its counters back through P4Runtime.
 */
import { loadNvgreEnums } from "../controller/nvgre-build.js";
import type { P4RuntimeClient } from "../controller/p4rt/client.js";
import { type ActionCall, EntityBuilder, type MatchValue } from "../controller/p4rt/entities.js";
import { type P4Enums, p4Enum } from "../controller/p4rt/enums.js";
import type { Pipeline } from "../controller/p4rt/pipeline.js";
import type { P4Value } from "../controller/p4rt/values.js";
import type { Entity, Entity__Output } from "../proto/gen/p4/v1/Entity.js";
import type { Update } from "../proto/gen/p4/v1/Update.js";

/** What programming needs of a target (benches pass a bare client and pipeline). */
/** What programming needs of a running target (tests pass their DataplaneTarget). */
export interface Programmable {
  readonly client: P4RuntimeClient;
  readonly pipeline: Pipeline | undefined;
}

export function builderFor(target: Programmable): EntityBuilder {
  if (!target.pipeline) throw new Error("the target has no pipeline");
  return new EntityBuilder(target.pipeline.index);
}

/** Updates collected by name and written in one batch by commit(). */
export class Batch {
  readonly builder: EntityBuilder;
  private updates: Update[] = [];

  constructor(private readonly target: Programmable) {
    this.builder = builderFor(target);
  }

  /** A table entry; `params` of the action, `priority` for ternary tables. */
  entry(
    table: string,
    match: Record<string, MatchValue | undefined>,
    action: string,
    params: Record<string, P4Value> = {},
    priority?: number,
  ): this {
    return this.insert(
      this.builder.tableEntry(table, {
        match,
        target: { action, params },
        ...(priority ? { priority } : {}),
      }),
    );
  }

  /** A table entry whose action comes from an action profile / selector group. */
  groupEntry(table: string, match: Record<string, MatchValue>, group: number): this {
    return this.insert(this.builder.tableEntry(table, { match, target: { group } }));
  }

  defaultAction(table: string, call: ActionCall): this {
    this.updates.push({ type: "MODIFY", entity: this.builder.defaultEntry(table, call) });
    return this;
  }

  insert(entity: Entity): this {
    this.updates.push({ type: "INSERT", entity });
    return this;
  }

  modify(entity: Entity): this {
    this.updates.push({ type: "MODIFY", entity });
    return this;
  }

  delete(entity: Entity): this {
    this.updates.push({ type: "DELETE", entity });
    return this;
  }

  async commit(): Promise<void> {
    const updates = this.updates;
    this.updates = [];
    await this.target.client.write(updates);
  }
}

export interface CounterValue {
  packets: number;
  bytes: number;
}

/** Cells of an indirect counter, read in one Read request. */
export async function readCounters(
  target: Programmable,
  counter: string,
  indexes: number[],
): Promise<CounterValue[]> {
  const builder = builderFor(target);
  const entities = await target.client.readAll(
    indexes.map((index) => builder.counterEntry(counter, index)),
  );
  const byIndex = counterCells(entities);
  return indexes.map((index) => {
    const value = byIndex.get(index);
    if (!value) throw new Error(`counter ${counter}[${index}] was not returned by the switch`);
    return value;
  });
}

export async function readCounter(
  target: Programmable,
  counter: string,
  index: number,
): Promise<CounterValue> {
  return (await readCounters(target, counter, [index]))[0] as CounterValue;
}

/** Every cell of a counter (for sums over all reasons). */
export async function readAllCounters(
  target: Programmable,
  counter: string,
): Promise<Map<number, CounterValue>> {
  const builder = builderFor(target);
  return counterCells(await target.client.readAll([builder.counterEntry(counter)]));
}

function counterCells(entities: Entity__Output[]): Map<number, CounterValue> {
  const cells = new Map<number, CounterValue>();
  for (const entity of entities) {
    const entry = entity.counter_entry;
    if (!entry) continue;
    cells.set(Number(entry.index?.index ?? 0), {
      packets: Number(entry.data?.packet_count ?? 0),
      bytes: Number(entry.data?.byte_count ?? 0),
    });
  }
  return cells;
}

/**
 * The program's drop and punt reason codes and CA family codes (member name → value), from the
 * enums `make p4` wrote beside the P4Info (p4/build/nvgre.enums.json): the counters "drops" and
 * "egress_drops" are indexed by drop reason.
 */
let enums: P4Enums | undefined;

function members(enumName: string): Map<string, number> {
  enums ??= loadNvgreEnums();
  return new Map(p4Enum(enums, enumName).members.map((m) => [m.name, m.value]));
}

function code(enumName: string, name: string): number {
  const value = members(enumName).get(name);
  if (value === undefined) throw new Error(`${enumName} has no member ${name}`);
  return value;
}

export const puntReason = (name: string) => code("PuntReason_t", name);
/** The source guard's ca_family code of a CA family ("IPV4" covers ARP, "IPV6"). */
export const caFamily = (name: string) => code("CaFamily_t", name);

/** A ternary match on all `bits` bits of a field: `value` exactly. */
export const exactTernary = (value: number | string, bits: number): MatchValue => ({
  value,
  mask: (1n << BigInt(bits)) - 1n,
});

export function allDropReasons(): ReadonlyMap<string, number> {
  return members("DropReason_t");
}
