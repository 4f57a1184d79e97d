/**
 * Action profile members and groups as PI programs them into bmv2 (action_prof_mgr.cpp), so the
 * target-side handles, and therefore which member a selector picks for a given hash, are the
 * same as on bmv2: a member of weight w in some group exists as w target members (copies made
 * on demand, lowest free handle first, and removed when no group needs them), and a group holds
 * the handles of its members' copies. A profile is programmed either with member and group ids
 * (manual) or with one-shot action sets in table entries; mixing the two is refused while
 * anything of the other kind exists, as in PI.
 *
 * Every operation validates the whole request before touching the target, so a refused update
 * leaves nothing behind (PI can leave a half-built group).
 */
import type { Action, Action__Output } from "../../proto/gen/p4/v1/Action.js";
import type {
  ActionProfileActionSet,
  ActionProfileActionSet__Output,
} from "../../proto/gen/p4/v1/ActionProfileActionSet.js";
import type {
  ActionProfileGroup,
  ActionProfileGroup__Output,
} from "../../proto/gen/p4/v1/ActionProfileGroup.js";
import type {
  ActionProfileMember,
  ActionProfileMember__Output,
} from "../../proto/gen/p4/v1/ActionProfileMember.js";
import type { ActionCall } from "../compile/control.js";
import { actionCall, actionMessage } from "./action-data.js";
import { Code, invalidArgument, invalidP4Id, P4RuntimeError } from "./errors.js";
import type { ProfileModel, TableActionModel } from "./pipeline-model.js";

/** P4Runtime's watch / watch_port of a group member or one-shot action, kept to read back. */
type Watch = { watch: number } | { watch_port: Buffer } | Record<string, never>;

interface MemberState {
  call: ActionCall;
  message: Action;
  /** Target handles: [0] is the member itself, the rest copies for weights above 1. */
  handles: number[];
  /** How many groups use the member at each weight (the member itself counts as weight 1). */
  weightCounts: Map<number, number>;
}

interface GroupState {
  handle: number;
  /** max_size given at creation (0 = none). */
  maxSize: number;
  /** member id → weight and watch, sorted by member id as PI keeps them. */
  members: Map<number, { weight: number; watch: Watch }>;
}

interface OneShotGroup {
  set: ActionProfileActionSet;
  memberHandles: number[];
}

type Mode = "none" | "manual" | "oneshot";

function watchOf(m: { watch_kind?: string; watch?: number; watch_port?: Buffer }): Watch {
  if (m.watch_kind === "watch") return { watch: m.watch ?? 0 };
  if (m.watch_kind === "watch_port") return { watch_port: m.watch_port ?? Buffer.alloc(0) };
  return {};
}

export class ActionProfileManager {
  private mode: Mode = "none";
  private readonly members = new Map<number, MemberState>();
  private readonly groups = new Map<number, GroupState>();
  /** Target handle → member id (every copy) or group id, for reading table entries back. */
  private readonly memberIdOf = new Map<number, number>();
  private readonly groupIdOf = new Map<number, number>();
  private readonly oneShots = new Map<number, OneShotGroup>();

  constructor(
    readonly model: ProfileModel,
    /** Whether an action id exists in the P4Info at all (else PI's "Invalid P4 id"). */
    private readonly isAction: (id: number) => boolean,
  ) {}

  private get target() {
    return this.model.profile;
  }

  /** PI's check_selector_usage: the mode may change only while the profile is empty. */
  private use(mode: Exclude<Mode, "none">): void {
    if (this.mode === mode) return;
    const empty = this.members.size === 0 && this.groups.size === 0 && this.oneShots.size === 0;
    if (this.mode !== "none" && !empty) {
      throw invalidArgument(
        "Invalid attempt to mix action selector programming modes",
        `in action profile "${this.model.name}"`,
      );
    }
    this.mode = mode;
  }

  private action(message: Action__Output | null): { model: TableActionModel; call: ActionCall } {
    if (!message) throw invalidArgument("Action profile member has no action");
    const model = this.model.actions.get(message.action_id);
    if (!model) {
      if (!this.isAction(message.action_id)) {
        throw invalidP4Id("action", message.action_id);
      }
      throw invalidArgument(
        "Invalid action for action profile",
        `"${this.model.name}": action ${message.action_id}`,
      );
    }
    return { model, call: actionCall(model.action, model.compiled, message) };
  }

  insertMember(m: ActionProfileMember__Output): void {
    this.use("manual");
    const { model, call } = this.action(m.action);
    if (this.members.has(m.member_id)) {
      throw new P4RuntimeError(Code.ALREADY_EXISTS, `Duplicate member id: ${m.member_id}`);
    }
    this.checkRoom(1);
    const handle = this.target.addMember(call);
    this.members.set(m.member_id, {
      call,
      message: actionMessage(model.action, call),
      handles: [handle],
      weightCounts: new Map([[1, 1]]),
    });
    this.memberIdOf.set(handle, m.member_id);
  }

  modifyMember(m: ActionProfileMember__Output): void {
    this.use("manual");
    const { model, call } = this.action(m.action);
    const member = this.memberOrThrow(m.member_id);
    for (const h of member.handles) this.target.modifyMember(h, call);
    member.call = call;
    member.message = actionMessage(model.action, call);
  }

  deleteMember(m: ActionProfileMember__Output): void {
    this.use("manual");
    const member = this.memberOrThrow(m.member_id);
    if (member.handles.some((h) => this.target.references("member", h) > 0)) {
      throw new P4RuntimeError(
        Code.UNKNOWN,
        "Error when deleting member on target",
        `member ${m.member_id} is used by a group or a table entry`,
      );
    }
    for (const h of member.handles) {
      this.target.deleteMember(h);
      this.memberIdOf.delete(h);
    }
    this.members.delete(m.member_id);
  }

  insertGroup(g: ActionProfileGroup__Output): void {
    this.use("manual");
    if (g.max_size < 0) throw invalidArgument("Group max_size cannot be less than 0");
    if (this.model.maxGroupSize > 0 && g.max_size > this.model.maxGroupSize) {
      throw invalidArgument(
        "Group max_size cannot exceed static max_group_size (from P4Info)",
        `${g.max_size} > ${this.model.maxGroupSize}`,
      );
    }
    if (this.groups.has(g.group_id)) {
      throw new P4RuntimeError(Code.ALREADY_EXISTS, `Duplicate group id: ${g.group_id}`);
    }
    if (!this.model.withSelector) {
      throw new P4RuntimeError(
        Code.INVALID_ARGUMENT,
        "Error when creating group on target",
        `action profile "${this.model.name}" has no selector`,
      );
    }
    const membership = this.membership(g, g.max_size);
    const group: GroupState = {
      handle: this.target.createGroup(),
      maxSize: g.max_size,
      members: new Map(),
    };
    this.groups.set(g.group_id, group);
    this.groupIdOf.set(group.handle, g.group_id);
    this.setMembership(group, membership);
  }

  modifyGroup(g: ActionProfileGroup__Output): void {
    this.use("manual");
    const group = this.groupOrThrow(g.group_id);
    if (g.max_size !== 0 && g.max_size !== group.maxSize) {
      throw invalidArgument("Cannot change group max_size after group creation");
    }
    this.setMembership(group, this.membership(g, group.maxSize));
  }

  deleteGroup(g: ActionProfileGroup__Output): void {
    this.use("manual");
    const group = this.groupOrThrow(g.group_id);
    if (this.target.references("group", group.handle) > 0) {
      throw new P4RuntimeError(
        Code.UNKNOWN,
        "Error when deleting group on target",
        `group ${g.group_id} is used by a table entry`,
      );
    }
    this.setMembership(group, new Map());
    this.target.deleteGroup(group.handle);
    this.groupIdOf.delete(group.handle);
    this.groups.delete(g.group_id);
  }

  /** The target handle a table entry's member id refers to (PI: INVALID_ARGUMENT if none). */
  memberHandle(memberId: number): number {
    this.use("manual");
    const member = this.members.get(memberId);
    if (!member) throw invalidArgument("Invalid member / group id", `no member ${memberId}`);
    return member.handles[0] as number;
  }

  groupHandle(groupId: number): number {
    this.use("manual");
    const group = this.groups.get(groupId);
    if (!group) throw invalidArgument("Invalid member / group id", `no group ${groupId}`);
    return group.handle;
  }

  memberIdOfHandle(handle: number): number | undefined {
    return this.memberIdOf.get(handle);
  }

  groupIdOfHandle(handle: number): number | undefined {
    return this.groupIdOf.get(handle);
  }

  /** Validates a one-shot action set (PI ActionProfAccessOneshot::group_create). */
  checkOneShot(set: ActionProfileActionSet__Output): void {
    this.use("oneshot");
    this.oneShotCalls(set);
  }

  /** Creates the group of a one-shot action set; returns its target handle. */
  createOneShot(set: ActionProfileActionSet__Output): number {
    this.use("oneshot");
    const calls = this.oneShotCalls(set);
    const memberHandles: number[] = [];
    for (const { call, weight } of calls) {
      for (let i = 0; i < weight; i++) memberHandles.push(this.target.addMember(call));
    }
    const handle = this.target.createGroup();
    for (const m of memberHandles) this.target.addMemberToGroup(handle, m);
    this.oneShots.set(handle, {
      set: {
        action_profile_actions: set.action_profile_actions.map((a, i) => ({
          action: actionMessage(
            (calls[i] as (typeof calls)[number]).model.action,
            (calls[i] as (typeof calls)[number]).call,
          ),
          weight: a.weight,
          ...watchOf(a),
        })),
      },
      memberHandles,
    });
    return handle;
  }

  deleteOneShot(handle: number): void {
    const group = this.oneShots.get(handle);
    if (!group) return;
    this.target.deleteGroup(handle);
    for (const m of group.memberHandles) this.target.deleteMember(m);
    this.oneShots.delete(handle);
  }

  oneShotSet(handle: number): ActionProfileActionSet | undefined {
    return this.oneShots.get(handle)?.set;
  }

  readMembers(memberId: number): ActionProfileMember[] {
    if (this.mode === "oneshot") return [];
    const ids = memberId === 0 ? [...this.members.keys()] : [memberId];
    return ids.flatMap((id) => {
      const member = this.members.get(id);
      return member
        ? [{ action_profile_id: this.model.id, member_id: id, action: member.message }]
        : [];
    });
  }

  readGroups(groupId: number): ActionProfileGroup[] {
    if (this.mode === "oneshot") return [];
    const ids = groupId === 0 ? [...this.groups.keys()] : [groupId];
    return ids.flatMap((id) => {
      const group = this.groups.get(id);
      if (!group) return [];
      return [
        {
          action_profile_id: this.model.id,
          group_id: id,
          max_size: group.maxSize,
          members: [...group.members].map(([memberId, m]) => ({
            member_id: memberId,
            weight: m.weight,
            ...m.watch,
          })),
        },
      ];
    });
  }

  private memberOrThrow(id: number): MemberState {
    const member = this.members.get(id);
    if (!member) throw new P4RuntimeError(Code.NOT_FOUND, `Member id does not exist: ${id}`);
    return member;
  }

  private groupOrThrow(id: number): GroupState {
    const group = this.groups.get(id);
    if (!group) throw new P4RuntimeError(Code.NOT_FOUND, `Group id does not exist: ${id}`);
    return group;
  }

  /** Target members the profile can still take (P4Info size). */
  private checkRoom(needed: number): void {
    if (this.target.memberCount + needed > this.target.maxSize) {
      throw new P4RuntimeError(
        Code.RESOURCE_EXHAUSTED,
        "Error when creating member on target",
        `action profile "${this.model.name}" is full (${this.target.maxSize} members)`,
      );
    }
  }

  /** The desired membership of a group write, validated (PI group_update_members). */
  private membership(
    g: ActionProfileGroup__Output,
    maxSizeUser: number,
  ): Map<number, { weight: number; watch: Watch }> {
    let sum = 0;
    for (const m of g.members) {
      if (m.weight <= 0) throw invalidArgument("Member weight must be a positive integer value");
      sum += m.weight;
    }
    const maxSize = maxSizeUser === 0 ? this.model.maxGroupSize : maxSizeUser;
    if (maxSize > 0 && sum > maxSize) {
      throw new P4RuntimeError(
        Code.RESOURCE_EXHAUSTED,
        "Sum of member weights exceeds maximum group size",
        `${sum} > ${maxSize}`,
      );
    }
    const desired = new Map<number, { weight: number; watch: Watch }>();
    for (const m of g.members) {
      if (!this.members.has(m.member_id)) {
        throw new P4RuntimeError(Code.NOT_FOUND, `Member id does not exist: ${m.member_id}`);
      }
      if (desired.has(m.member_id)) {
        throw invalidArgument(
          `Duplicate member id ${m.member_id} for group ${g.group_id}, use weights instead`,
        );
      }
      desired.set(m.member_id, { weight: m.weight, watch: watchOf(m) });
    }
    const extraCopies = [...desired].reduce((n, [id, m]) => {
      const member = this.members.get(id) as MemberState;
      return n + Math.max(0, m.weight - member.handles.length);
    }, 0);
    this.checkRoom(extraCopies);
    return new Map([...desired].sort((a, b) => a[0] - b[0]));
  }

  /**
   * Moves a group to `desired` the way PI does with bmv2 (individual adds and removes, members
   * in id order): copies are created for higher weights, handles added or removed, then copies
   * that no group needs any more are deleted, last first.
   */
  private setMembership(
    group: GroupState,
    desired: Map<number, { weight: number; watch: Watch }>,
  ): void {
    const ids = [...new Set([...group.members.keys(), ...desired.keys()])].sort((a, b) => a - b);
    for (const id of ids) {
      const member = this.members.get(id) as MemberState;
      const current = group.members.get(id)?.weight ?? 0;
      const next = desired.get(id)?.weight ?? 0;
      while (member.handles.length < next) {
        const h = this.target.addMember(member.call);
        member.handles.push(h);
        this.memberIdOf.set(h, id);
      }
      if (current > 0) bump(member.weightCounts, current, -1);
      for (let i = current - 1; i >= next; i--) {
        this.target.removeMemberFromGroup(group.handle, member.handles[i] as number);
      }
      for (let i = current; i < next; i++) {
        this.target.addMemberToGroup(group.handle, member.handles[i] as number);
      }
      if (next > 0) bump(member.weightCounts, next, 1);
    }
    group.members = desired;
    for (const id of ids) this.purgeCopies(id);
  }

  /** Deletes the copies of a member above the highest weight any group still uses. */
  private purgeCopies(id: number): void {
    const member = this.members.get(id) as MemberState;
    const needed = Math.max(...[...member.weightCounts.keys()]);
    while (member.handles.length > needed) {
      const h = member.handles.pop() as number;
      this.target.deleteMember(h);
      this.memberIdOf.delete(h);
    }
  }

  private oneShotCalls(set: ActionProfileActionSet__Output) {
    if (set.action_profile_actions.length === 0) {
      throw new P4RuntimeError(Code.UNIMPLEMENTED, "No support for empty action profile groups");
    }
    const calls = set.action_profile_actions.map((a) => this.action(a.action));
    let sum = 0;
    for (const a of set.action_profile_actions) {
      if (a.weight <= 0) throw invalidArgument("Member weight must be a positive integer value");
      sum += a.weight;
    }
    if (this.model.maxGroupSize > 0 && sum > this.model.maxGroupSize) {
      throw new P4RuntimeError(
        Code.RESOURCE_EXHAUSTED,
        "Sum of weights exceeds static max_group_size (from P4Info)",
        `${sum} > ${this.model.maxGroupSize}`,
      );
    }
    if (!this.model.withSelector) {
      throw invalidArgument(
        "Error when creating group on target",
        `action profile "${this.model.name}" has no selector`,
      );
    }
    this.checkRoom(sum);
    return calls.map((c, i) => ({
      ...c,
      weight: (set.action_profile_actions[i] as { weight: number }).weight,
    }));
  }
}

function bump(counts: Map<number, number>, weight: number, delta: number): void {
  const n = (counts.get(weight) ?? 0) + delta;
  if (n === 0) counts.delete(weight);
  else counts.set(weight, n);
}
