/**
 * Action profiles and selectors (bm_sim action_profile.cpp). Members and groups get the lowest
 * free handle, as bmv2's handle manager gives them. A group keeps its members as a sorted set of
 * member handles; a selector picks member number (hash truncated to 32 bits) mod (group size) in
 * that order, which is what makes ECMP choose the same member as bmv2.
 */

export type ActionProfileErrorCode =
  | "INVALID_MEMBER"
  | "INVALID_GROUP"
  | "MEMBER_IN_USE"
  | "GROUP_IN_USE"
  | "MEMBER_ALREADY_IN_GROUP"
  | "MEMBER_NOT_IN_GROUP"
  | "FULL"
  | "NO_SELECTOR";

export class ActionProfileError extends Error {
  constructor(
    readonly code: ActionProfileErrorCode,
    readonly profile: string,
    detail: string,
  ) {
    super(`action profile "${profile}": ${code}: ${detail}`);
    this.name = "ActionProfileError";
  }
}

/** Lowest-free-first handle allocation (bmv2 HandleMgr). */
class Handles {
  private readonly used = new Set<number>();

  take(): number {
    let h = 0;
    while (this.used.has(h)) h++;
    this.used.add(h);
    return h;
  }

  release(h: number): boolean {
    return this.used.delete(h);
  }
}

export class ActionProfile<A> {
  private readonly members = new Map<number, { action: A; refs: number }>();
  private readonly groups = new Map<number, { members: number[]; refs: number }>();
  private readonly memberHandles = new Handles();
  private readonly groupHandles = new Handles();

  constructor(
    readonly name: string,
    readonly maxSize: number,
    /** Whether groups exist (an action selector), the pipeline computing the selector hash. */
    readonly hasSelector: boolean,
  ) {}

  addMember(action: A): number {
    if (this.members.size >= this.maxSize) {
      throw new ActionProfileError("FULL", this.name, `max size ${this.maxSize} reached`);
    }
    const handle = this.memberHandles.take();
    this.members.set(handle, { action, refs: 0 });
    return handle;
  }

  modifyMember(handle: number, action: A): void {
    this.memberOrThrow(handle).action = action;
  }

  deleteMember(handle: number): void {
    const m = this.memberOrThrow(handle);
    if (m.refs > 0) throw new ActionProfileError("MEMBER_IN_USE", this.name, `member ${handle}`);
    this.members.delete(handle);
    this.memberHandles.release(handle);
  }

  member(handle: number): A | undefined {
    return this.members.get(handle)?.action;
  }

  memberHandleList(): number[] {
    return [...this.members.keys()];
  }

  createGroup(): number {
    if (!this.hasSelector) throw new ActionProfileError("NO_SELECTOR", this.name, "no groups");
    const handle = this.groupHandles.take();
    this.groups.set(handle, { members: [], refs: 0 });
    return handle;
  }

  deleteGroup(handle: number): void {
    const g = this.groupOrThrow(handle);
    if (g.refs > 0) throw new ActionProfileError("GROUP_IN_USE", this.name, `group ${handle}`);
    for (const m of g.members) this.memberOrThrow(m).refs--;
    this.groups.delete(handle);
    this.groupHandles.release(handle);
  }

  addMemberToGroup(group: number, member: number): void {
    const g = this.groupOrThrow(group);
    const m = this.memberOrThrow(member);
    if (g.members.includes(member)) {
      throw new ActionProfileError("MEMBER_ALREADY_IN_GROUP", this.name, `member ${member}`);
    }
    g.members.push(member);
    g.members.sort((a, b) => a - b);
    m.refs++;
  }

  removeMemberFromGroup(group: number, member: number): void {
    const g = this.groupOrThrow(group);
    const at = g.members.indexOf(member);
    if (at < 0) throw new ActionProfileError("MEMBER_NOT_IN_GROUP", this.name, `member ${member}`);
    g.members.splice(at, 1);
    this.memberOrThrow(member).refs--;
  }

  groupMembers(group: number): readonly number[] {
    return this.groupOrThrow(group).members;
  }

  groupHandleList(): number[] {
    return [...this.groups.keys()];
  }

  get memberCount(): number {
    return this.members.size;
  }

  /** How many groups and table entries use a member, or table entries a group. */
  references(kind: "member" | "group", handle: number): number {
    return (kind === "member" ? this.memberOrThrow(handle) : this.groupOrThrow(handle)).refs;
  }

  /** Table entries referencing a member or group hold a reference (bmv2 ref counts). */
  reference(kind: "member" | "group", handle: number, delta: 1 | -1): void {
    if (kind === "member") this.memberOrThrow(handle).refs += delta;
    else this.groupOrThrow(handle).refs += delta;
  }

  /** The member a packet with selector hash `hash` gets from a group; undefined if empty. */
  choose(group: number, hash: bigint): A | undefined {
    const g = this.groups.get(group);
    if (!g || g.members.length === 0) return undefined;
    const h = Number(BigInt.asUintN(32, hash));
    return this.members.get(g.members[h % g.members.length] as number)?.action;
  }

  private memberOrThrow(handle: number) {
    const m = this.members.get(handle);
    if (!m) throw new ActionProfileError("INVALID_MEMBER", this.name, `no member ${handle}`);
    return m;
  }

  private groupOrThrow(handle: number) {
    const g = this.groups.get(handle);
    if (!g) throw new ActionProfileError("INVALID_GROUP", this.name, `no group ${handle}`);
    return g;
  }
}
