/**
 * Table entries of one table, written and read as PI does it (device_mgr.cpp table_insert,
 * table_modify, table_delete, construct_match_key, validate_action, table_read_one): the same
 * checks in the same order, so the same fault gets the same code and, with more said about
 * what is wrong, the same message. P4Runtime priorities (higher wins) are stored the way PI
 * stores them in bmv2 (2^31 - 1 - priority, lower wins), so ties and overlaps resolve alike.
 * Each write is planned (everything validated) before anything is changed.
 */
import type { ActionProfileActionSet__Output } from "../../proto/gen/p4/v1/ActionProfileActionSet.js";
import type { FieldMatch } from "../../proto/gen/p4/v1/FieldMatch.js";
import type { TableAction } from "../../proto/gen/p4/v1/TableAction.js";
import type { TableEntry, TableEntry__Output } from "../../proto/gen/p4/v1/TableEntry.js";
import type { CompiledAction } from "../compile/actions.js";
import type { EntryAction } from "../compile/control.js";
import type { MatchParam, TableEntry as StoredEntry } from "../core/match-table.js";
import type { MeterRate } from "../core/meters.js";
import { type FieldValue, toBigInt, truncate, zeroOf } from "../core/values.js";
import { actionCall, actionMessage } from "./action-data.js";
import type { ActionProfileManager } from "./action-profiles.js";
import { decodeBits, decodeField, encodeField } from "./bytes.js";
import { Code, invalidArgument, invalidP4Id, P4RuntimeError } from "./errors.js";
import { configureMeter, meterConfigOf, meterRates } from "./meter-config.js";
import type {
  MatchFieldModel,
  PipelineModel,
  TableActionModel,
  TableModel,
} from "./pipeline-model.js";

/** PI's pivot between P4Runtime and bmv2 priorities (BM_MAX_PRIORITY, INT_MAX). */
const BM_MAX_PRIORITY = 0x7fff_ffff;

/** What P4Runtime keeps with an entry beyond the target's key and action. */
interface EntryInfo {
  controllerMetadata: string;
  metadata: Buffer;
  idleTimeoutNs: string;
  /** Target group created for a one-shot action set. */
  oneShotGroup?: number;
}

/**
 * The EntryInfo of nearly every entry (no metadata, no idle timeout): shared, and not stored per
 * entry, which keeps 100,000 entries' worth of objects and map slots out of memory.
 */
const BLANK_INFO: EntryInfo = Object.freeze({
  controllerMetadata: "0",
  metadata: Buffer.alloc(0),
  idleTimeoutNs: "0",
});

/** Counter and meter data given with an entry, validated, applied once it has a handle. */
interface DirectData {
  rates: MeterRate[] | undefined | null;
  counts: { packets: number; bytes: number } | undefined;
}

/** A validated table action, ready to install. */
type ActionPlan =
  | { kind: "set"; action: EntryAction }
  | { kind: "oneshot"; set: ActionProfileActionSet__Output };

export interface Key {
  match: MatchParam[];
  /** bmv2 priority (0 for tables without priorities). */
  priority: number;
}

function maxOf(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

function isZero(v: FieldValue): boolean {
  return typeof v === "bigint" ? v === 0n : v === 0;
}

export class TableEntries {
  private readonly info = new Map<number, EntryInfo>();
  private defaultInfo: EntryInfo = BLANK_INFO;
  /** A client set the default entry (RECONCILE_AND_COMMIT replays it). */
  private defaultSet = false;
  /** The program's default action, restored by a MODIFY of the default entry without action. */
  private readonly initialDefault: EntryAction | undefined;
  /** The P4Info action of each of the table's compiled actions, for reads. */
  private readonly actionsByCompiled: Map<CompiledAction, TableActionModel>;
  /** Per match field (P4Info order): how errors name it, its match type as requests spell it. */
  private readonly fieldNames: { what: string; type: string }[];

  constructor(
    readonly model: TableModel,
    private readonly pipeline: PipelineModel,
    private readonly profile: ActionProfileManager | undefined,
  ) {
    this.initialDefault = model.state.defaultEntry;
    this.actionsByCompiled = new Map([...model.actions.values()].map((a) => [a.compiled, a]));
    this.fieldNames = model.fields.map((f) => ({
      what: `${model.name} field ${f.name}`,
      type: f.kind.toLowerCase(),
    }));
  }

  private get table() {
    return this.model.state.entries;
  }

  // ---- writes ------------------------------------------------------------------------------

  insert(e: TableEntry__Output): void {
    if (e.is_default_action) throw invalidArgument("Cannot use INSERT for default entry");
    if (!e.action) throw invalidArgument("'action' field must be set");
    const key = this.key(e);
    this.validateAction(e);
    const plan = this.planAction(e.action);
    const direct = this.directResources(e);
    this.checkTtl(e);
    if (this.model.isConst) {
      throw new P4RuntimeError(
        Code.UNKNOWN,
        "Error when adding match entry to target",
        `table "${this.model.name}" is const, its entries come from the program`,
      );
    }
    if (this.table.find(key.match, key.priority) !== undefined) {
      throw new P4RuntimeError(
        Code.ALREADY_EXISTS,
        "Match entry exists, use MODIFY if you wish to change action",
      );
    }
    if (this.table.size >= this.table.maxSize) {
      throw new P4RuntimeError(
        Code.RESOURCE_EXHAUSTED,
        "Error when adding match entry to target",
        `table "${this.model.name}" is full (${this.table.maxSize} entries)`,
      );
    }
    const { action, oneShotGroup } = this.install(plan);
    const handle = this.table.add(key.match, action, key.priority);
    // Only ageing tables read lastHit (idle timeouts, time_since_last_hit): no clock for others.
    if (this.model.supportsIdleTimeout) {
      (this.table.get(handle) as StoredEntry<EntryAction>).lastHit = this.model.state.clock();
    }
    this.setInfo(handle, e, oneShotGroup);
    if (direct) this.applyDirect(handle, direct);
  }

  modify(e: TableEntry__Output): void {
    const key = this.key(e);
    this.validateAction(e);
    const plan = e.action ? this.planAction(e.action) : undefined;
    if (!plan && !e.is_default_action) {
      throw invalidArgument("'action' field must be set for non-default entries");
    }
    const direct = this.directResources(e);
    this.checkTtl(e);
    if (e.is_default_action) {
      const { action } = plan ? this.install(plan) : { action: this.initialDefault };
      this.model.state.defaultEntry = action;
      this.defaultInfo = plan ? this.infoOf(e) : BLANK_INFO;
      this.defaultSet = plan !== undefined;
      return;
    }
    const handle = this.findHandle(key);
    const old = this.table.get(handle) as StoredEntry<EntryAction>;
    const oldInfo = this.info.get(handle);
    const { action, oneShotGroup } = this.install(plan as ActionPlan);
    this.release(old.action, oldInfo);
    this.table.modify(handle, action);
    this.setInfo(handle, e, oneShotGroup);
    if (direct) this.applyDirect(handle, direct);
  }

  delete(e: TableEntry__Output): void {
    if (e.is_default_action) throw invalidArgument("Cannot use DELETE for default entry");
    const handle = this.findHandle(this.key(e));
    const old = this.table.get(handle) as StoredEntry<EntryAction>;
    this.table.delete(handle);
    this.release(old.action, this.info.get(handle));
    this.info.delete(handle);
    this.model.state.directMeters.delete(handle);
  }

  /**
   * The handle of the entry a DirectCounterEntry / DirectMeterEntry names ("default" for the
   * default entry); PI: INVALID_ARGUMENT "Cannot map table entry to handle".
   */
  handleOf(e: TableEntry__Output): number | "default" {
    const key = this.key(e);
    if (e.is_default_action) return "default";
    const handle = this.model.isConst ? undefined : this.table.find(key.match, key.priority);
    if (handle === undefined) {
      throw invalidArgument(
        "Cannot map table entry to handle",
        `no such entry in "${this.model.name}"`,
      );
    }
    return handle;
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The entries a read of this table with `request` as filter returns. */
  read(request: TableEntry__Output): Iterable<TableEntry> {
    if (request.is_default_action) {
      if (request.time_since_last_hit) {
        throw invalidArgument(
          "Default table entries do not support entry ageing, do not set 'time_since_last_hit' in your ReadRequest",
        );
      }
      return [this.defaultMessage()];
    }
    if (request.time_since_last_hit && !this.model.supportsIdleTimeout) {
      throw invalidArgument(
        "Do not set time_since_last_hit for a ReadRequest if the table does not support idle timeout; yes, that includes wildcard reads",
      );
    }
    let entries: Iterable<StoredEntry<EntryAction>>;
    if (request.match.length > 0) {
      const key = this.key(request);
      const handle = this.table.find(key.match, key.priority);
      const entry = handle === undefined ? undefined : this.table.get(handle);
      entries = entry ? [entry] : [];
    } else {
      entries = this.table.all();
    }
    const with_ = {
      counters: request.counter_data !== null,
      meters: request.meter_config !== null,
      elapsed: request.time_since_last_hit !== null,
    };
    return this.messages(entries, with_);
  }

  /**
   * Built as the reply is sent (server.ts), not all at once: a large table's read would
   * otherwise hold the switch for seconds, arbitration and writes waiting behind it.
   */
  private *messages(
    entries: Iterable<StoredEntry<EntryAction>>,
    with_: { counters: boolean; meters: boolean; elapsed: boolean },
  ): Generator<TableEntry> {
    for (const entry of entries) yield this.entryMessage(entry, with_);
  }

  /** Every entry written by clients, as INSERTs that rebuild them (RECONCILE_AND_COMMIT). */
  exportEntries(): TableEntry[] {
    if (this.model.isConst) return [];
    const with_ = { counters: true, meters: true, elapsed: false };
    return [...this.table.all()].map((e) => this.entryMessage(e, with_));
  }

  /** The default entry as a MODIFY, if a client set it. */
  exportDefault(): TableEntry | undefined {
    return this.defaultSet ? this.defaultMessage() : undefined;
  }

  /** The key fields of an entry (table id, match, priority), as notices and direct reads use. */
  keyMessage(entry: StoredEntry<EntryAction>): TableEntry {
    return {
      table_id: this.model.id,
      match: this.matchMessage(entry.match),
      ...(this.model.needsPriority ? { priority: BM_MAX_PRIORITY - entry.priority } : {}),
    };
  }

  /** Microseconds since the data plane last matched the entry (or since it was added). */
  idleMicros(entry: StoredEntry<EntryAction>): number {
    return Math.max(0, Math.round(this.model.state.clock() - entry.lastHit));
  }

  entries(): IterableIterator<StoredEntry<EntryAction>> {
    return this.table.all();
  }

  entryInfo(handle: number): EntryInfo {
    return this.info.get(handle) ?? BLANK_INFO;
  }

  private entryMessage(
    entry: StoredEntry<EntryAction>,
    with_: { counters: boolean; meters: boolean; elapsed: boolean },
  ): TableEntry {
    const info = this.entryInfo(entry.handle);
    const message: TableEntry = {
      ...this.keyMessage(entry),
      action: this.actionOf(entry.action),
      ...(this.model.isConst ? { is_const: true } : {}),
    };
    message.controller_metadata = info.controllerMetadata;
    message.metadata = info.metadata;
    message.idle_timeout_ns = info.idleTimeoutNs;
    if (with_.counters && this.model.directCounter) {
      message.counter_data = {
        packet_count: String(entry.packets),
        byte_count: String(entry.bytes),
      };
    }
    if (with_.meters && this.model.directMeter) {
      const meter = this.model.state.directMeters.get(entry.handle);
      const config = meter && meterConfigOf(meter);
      if (config) message.meter_config = config;
    }
    if (with_.elapsed) {
      message.time_since_last_hit = { elapsed_ns: String(this.idleMicros(entry) * 1000) };
    }
    return message;
  }

  private defaultMessage(): TableEntry {
    const action = this.model.profile ? undefined : this.model.state.defaultEntry;
    return {
      table_id: this.model.id,
      is_default_action: true,
      ...(action ? { action: this.actionOf(action) } : {}),
      controller_metadata: this.defaultInfo.controllerMetadata,
      metadata: this.defaultInfo.metadata,
    };
  }

  private actionOf(action: EntryAction): TableAction {
    if (action.kind === "action") {
      const model = this.actionsByCompiled.get(action.action);
      if (!model) {
        throw new P4RuntimeError(
          Code.INTERNAL,
          `table "${this.model.name}" holds action "${action.action.name}", which the P4Info does not list for it`,
        );
      }
      return { action: actionMessage(model.action, action) };
    }
    const profile = this.profile as ActionProfileManager;
    if (action.kind === "member") {
      return { action_profile_member_id: profile.memberIdOfHandle(action.member) ?? 0 };
    }
    const set = profile.oneShotSet(action.group);
    if (set) return { action_profile_action_set: set };
    return { action_profile_group_id: profile.groupIdOfHandle(action.group) ?? 0 };
  }

  // ---- validation --------------------------------------------------------------------------

  /** PI construct_match_key: the entry's match as the target's match parameters. */
  key(e: TableEntry__Output): Key {
    if (e.is_default_action) {
      if (e.match.length > 0) throw invalidArgument("Non-empty key for default entry");
      if (e.priority !== 0) throw invalidArgument("Non-zero priority for default entry");
      return { match: [], priority: 0 };
    }
    const fields = this.model.fields;
    if (e.match.length > fields.length) throw invalidArgument("Too many fields in match key");
    let matched = 0;
    const match = new Array<MatchParam>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as MatchFieldModel;
      let m: TableEntry__Output["match"][number] | undefined;
      for (const x of e.match) {
        if (x.field_id === field.id) {
          m = x;
          break;
        }
      }
      if (m) {
        matched++;
        match[i] = this.fieldParam(i, m);
      } else match[i] = this.dontCare(field);
    }
    if (matched !== e.match.length) {
      const unknown = e.match.find((m) => !fields.some((f) => f.id === m.field_id));
      throw invalidArgument(
        unknown
          ? `Unknown field in match key: ${this.model.name} has no match field ${unknown.field_id}`
          : "Unknown field in match key: a match field is given twice",
      );
    }
    if (e.priority < 0) throw invalidArgument(`Invalid priority ${e.priority}: must be positive`);
    if (!this.model.needsPriority && e.priority > 0) {
      throw invalidArgument("Non-zero priority for non-ternary match");
    }
    if (this.model.needsPriority && e.priority === 0) {
      throw invalidArgument("Zero priority for ternary match");
    }
    return { match, priority: this.model.needsPriority ? BM_MAX_PRIORITY - e.priority : 0 };
  }

  private dontCare(field: MatchFieldModel): MatchParam {
    const zero = zeroOf(field.bitwidth);
    switch (field.kind) {
      case "LPM":
        return { kind: "lpm", value: zero, prefixLength: 0 };
      case "TERNARY":
        return { kind: "ternary", value: zero, mask: zero };
      case "OPTIONAL":
        return field.targetKind === "optional"
          ? { kind: "optional", value: zero, wildcard: true }
          : { kind: "ternary", value: zero, mask: zero };
      case "RANGE":
        return { kind: "range", low: zero, high: truncate(maxOf(field.bitwidth), field.bitwidth) };
      default:
        throw invalidArgument("Missing non-ternary field in match key", `${field.name}`);
    }
  }

  private fieldParam(
    index: number,
    m: NonNullable<TableEntry__Output["match"][number]>,
  ): MatchParam {
    const field = this.model.fields[index] as MatchFieldModel;
    const { what, type: kind } = this.fieldNames[index] as { what: string; type: string };
    const w = field.bitwidth;
    if (m.field_match_type !== kind) {
      throw invalidArgument(
        "Invalid match type",
        `${field.name} is ${kind}, ${m.field_match_type ?? "nothing"} given`,
      );
    }
    switch (field.kind) {
      case "EXACT": {
        const value = decodeField((m.exact as { value: Buffer }).value, w, what);
        return field.targetKind === "valid"
          ? { kind: "valid", value: !isZero(value) }
          : { kind: "exact", value };
      }
      case "LPM": {
        const lpm = m.lpm as { value: Buffer; prefix_len: number };
        const value = decodeBits(lpm.value, w, what);
        if (lpm.prefix_len < 0) throw invalidArgument("Prefix length cannot be < 0");
        if (lpm.prefix_len > w) throw invalidArgument("Prefix length cannot be > bitwidth");
        if (lpm.prefix_len === 0) {
          throw invalidArgument(
            "Invalid reprsentation of 'don't care' LPM match, omit match field instead of using a prefix length of 0",
          );
        }
        if ((value & maxOf(w - lpm.prefix_len)) !== 0n) {
          throw invalidArgument("Invalid LPM value, incorrect number of trailing zeros");
        }
        return {
          kind: "lpm",
          value: decodeField(lpm.value, w, what),
          prefixLength: lpm.prefix_len,
        };
      }
      case "TERNARY": {
        const t = m.ternary as { value: Buffer; mask: Buffer };
        const value = decodeBits(t.value, w, what);
        const mask = decodeBits(t.mask, w, `${what} mask`);
        if (mask === 0n) {
          throw invalidArgument(
            "Invalid representation of 'don't care' ternary match, omit match field instead of using 0 mask",
          );
        }
        if ((value & mask) !== value) {
          throw invalidArgument("Invalid ternary value, make sure value & mask == value");
        }
        return {
          kind: "ternary",
          value: decodeField(t.value, w, what),
          mask: decodeField(t.mask, w, what),
        };
      }
      case "RANGE": {
        const r = m.range as { low: Buffer; high: Buffer };
        const low = decodeBits(r.low, w, `${what} low`);
        const high = decodeBits(r.high, w, `${what} high`);
        if (low === 0n && high === maxOf(w)) {
          throw invalidArgument(
            "Invalid representation of 'don't care' range match, omit match field instead of using low=0 and high=2**bitwidth-1",
          );
        }
        if (low > high) throw invalidArgument("Invalid range value, make sure low <= high");
        return {
          kind: "range",
          low: decodeField(r.low, w, what),
          high: decodeField(r.high, w, what),
        };
      }
      default: {
        const value = decodeField((m.optional as { value: Buffer }).value, w, what);
        return field.targetKind === "optional"
          ? { kind: "optional", value, wildcard: false }
          : { kind: "ternary", value, mask: truncate(maxOf(w), w) };
      }
    }
  }

  /** PI validate_action: default-entry rules, direct vs indirect, action in table, scopes. */
  private validateAction(e: TableEntry__Output): void {
    const indirect = this.model.profile !== undefined || this.model.info.implementation_id !== 0;
    if (indirect && e.is_default_action) {
      throw invalidArgument(
        `Cannot set / reset default action for indirect table ${this.model.id}`,
      );
    }
    if (e.is_default_action && this.model.constDefaultAction) {
      throw new P4RuntimeError(
        Code.PERMISSION_DENIED,
        `Cannot set / reset default action for table ${this.model.id} which has a const default action`,
      );
    }
    const action = e.action;
    if (!action) return;
    if (indirect && action.type === "action") {
      throw invalidArgument(`Cannot provide direct action for indirect table ${this.model.id}`);
    }
    if (!indirect && action.type !== "action") {
      throw invalidArgument(`Cannot provide indirect action for direct table ${this.model.id}`);
    }
    if (indirect) return;
    const id = action.action?.action_id ?? 0;
    if (!this.pipeline.actions.has(id)) throw invalidP4Id("action", id);
    const ref = this.model.actions.get(id);
    if (!ref) {
      throw invalidArgument(
        "Invalid action for table",
        `${this.pipeline.action(id).name} is not an action of ${this.model.name}`,
      );
    }
    if (ref.scope === "TABLE_ONLY" && e.is_default_action) {
      throw new P4RuntimeError(
        Code.PERMISSION_DENIED,
        "Cannot use TABLE_ONLY action as default action",
      );
    }
    if (ref.scope === "DEFAULT_ONLY" && !e.is_default_action) {
      throw new P4RuntimeError(
        Code.PERMISSION_DENIED,
        "Cannot use DEFAULT_ONLY action in table entry",
      );
    }
  }

  private planAction(action: NonNullable<TableEntry__Output["action"]>): ActionPlan {
    switch (action.type) {
      case "action": {
        const a = action.action as NonNullable<typeof action.action>;
        const ref = this.model.actions.get(a.action_id) as TableActionModel;
        const call = actionCall(ref.action, ref.compiled, a);
        return { kind: "set", action: { kind: "action", action: call.action, data: call.data } };
      }
      case "action_profile_member_id":
        return {
          kind: "set",
          action: {
            kind: "member",
            member: (this.profile as ActionProfileManager).memberHandle(
              action.action_profile_member_id ?? 0,
            ),
          },
        };
      case "action_profile_group_id":
        return {
          kind: "set",
          action: {
            kind: "group",
            group: (this.profile as ActionProfileManager).groupHandle(
              action.action_profile_group_id ?? 0,
            ),
          },
        };
      case "action_profile_action_set": {
        const set = action.action_profile_action_set as ActionProfileActionSet__Output;
        (this.profile as ActionProfileManager).checkOneShot(set);
        return { kind: "oneshot", set };
      }
      default:
        throw invalidArgument("Invalid table action type");
    }
  }

  /** Makes a planned action real: creates a one-shot group, takes target references. */
  private install(plan: ActionPlan): { action: EntryAction; oneShotGroup?: number } {
    const profile = this.model.state.profile;
    if (plan.kind === "oneshot") {
      const group = (this.profile as ActionProfileManager).createOneShot(plan.set);
      profile?.reference("group", group, 1);
      return { action: { kind: "group", group }, oneShotGroup: group };
    }
    const action = plan.action;
    if (action.kind === "member") profile?.reference("member", action.member, 1);
    if (action.kind === "group") profile?.reference("group", action.group, 1);
    return { action };
  }

  /** Drops what an entry's old action held: target references, its one-shot group. */
  private release(action: EntryAction, info: EntryInfo | undefined): void {
    const profile = this.model.state.profile;
    if (action.kind === "member") profile?.reference("member", action.member, -1);
    if (action.kind === "group") profile?.reference("group", action.group, -1);
    if (info?.oneShotGroup !== undefined) {
      (this.profile as ActionProfileManager).deleteOneShot(info.oneShotGroup);
    }
  }

  /**
   * PI construct_direct_resources: validated now, applied to the entry's handle later
   * (applyDirect); undefined when the entry brings neither counter nor meter data.
   */
  private directResources(e: TableEntry__Output): DirectData | undefined {
    if (!e.meter_config && !e.counter_data) return undefined;
    let rates: MeterRate[] | undefined | null = null;
    if (e.meter_config) {
      if (!this.model.directMeter) throw invalidArgument("Table has no direct meters");
      rates = meterRates(e.meter_config);
    }
    let counts: { packets: number; bytes: number } | undefined;
    if (e.counter_data) {
      if (!this.model.directCounter) throw invalidArgument("Table has no direct counters");
      counts = {
        packets: Number(e.counter_data.packet_count),
        bytes: Number(e.counter_data.byte_count),
      };
    }
    if (e.is_default_action && (rates !== null || counts)) {
      throw new P4RuntimeError(
        Code.UNIMPLEMENTED,
        "Direct counters and meters of default entries are not supported (as in bmv2)",
      );
    }
    return { rates, counts };
  }

  private applyDirect(handle: number, { rates, counts }: DirectData): void {
    const entry = this.table.get(handle) as StoredEntry<EntryAction>;
    if (counts) {
      entry.packets = counts.packets;
      entry.bytes = counts.bytes;
    }
    if (rates !== null) configureMeter(this.model.state.directMeter(handle), rates);
  }

  private checkTtl(e: TableEntry__Output): void {
    if (e.idle_timeout_ns === "0") return;
    const ttl = BigInt(e.idle_timeout_ns);
    if (ttl < 0n) throw invalidArgument("idle_timeout_ns must be a positive value");
    if (ttl > 0n && !this.model.supportsIdleTimeout) {
      throw invalidArgument(
        "idle_timeout_ns must be set to 0 for tables which do not support idle timeout",
      );
    }
  }

  private findHandle(key: Key): number {
    const handle = this.model.isConst ? undefined : this.table.find(key.match, key.priority);
    if (handle === undefined) throw new P4RuntimeError(Code.NOT_FOUND, "Cannot find match entry");
    return handle;
  }

  private infoOf(e: TableEntry__Output): EntryInfo {
    if (e.controller_metadata === "0" && e.metadata.length === 0 && e.idle_timeout_ns === "0") {
      return BLANK_INFO;
    }
    return {
      controllerMetadata: e.controller_metadata,
      metadata: e.metadata,
      idleTimeoutNs: e.idle_timeout_ns,
    };
  }

  /** Keeps what an entry carries beyond key and action; nothing when that is all default. */
  private setInfo(handle: number, e: TableEntry__Output, oneShotGroup: number | undefined): void {
    const info = this.infoOf(e);
    if (oneShotGroup !== undefined) this.info.set(handle, { ...info, oneShotGroup });
    else if (info !== BLANK_INFO) this.info.set(handle, info);
    else this.info.delete(handle);
  }

  /** PI parse_match_key: don't-care fields are omitted, values canonical. */
  private matchMessage(match: readonly MatchParam[]): FieldMatch[] {
    const out: FieldMatch[] = [];
    this.model.fields.forEach((field, i) => {
      const p = match[i] as MatchParam;
      const w = field.bitwidth;
      const bytes = (v: FieldValue) => encodeField(v, w);
      switch (p.kind) {
        case "exact":
          out.push({ field_id: field.id, exact: { value: bytes(p.value) } });
          break;
        case "valid":
          out.push({ field_id: field.id, exact: { value: Buffer.from([p.value ? 1 : 0]) } });
          break;
        case "lpm":
          if (p.prefixLength > 0) {
            out.push({
              field_id: field.id,
              lpm: { value: bytes(p.value), prefix_len: p.prefixLength },
            });
          }
          break;
        case "ternary":
          if (isZero(p.mask)) break;
          if (field.kind === "OPTIONAL")
            out.push({ field_id: field.id, optional: { value: bytes(p.value) } });
          else
            out.push({
              field_id: field.id,
              ternary: { value: bytes(p.value), mask: bytes(p.mask) },
            });
          break;
        case "range":
          if (toBigInt(p.low) === 0n && toBigInt(p.high) === maxOf(w)) break;
          out.push({ field_id: field.id, range: { low: bytes(p.low), high: bytes(p.high) } });
          break;
        case "optional":
          if (!p.wildcard) out.push({ field_id: field.id, optional: { value: bytes(p.value) } });
          break;
      }
    });
    return out;
  }
}
