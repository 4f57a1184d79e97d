/**
 * Runs parsed STF statements on a target and checks the outputs the way p4c's bmv2stf.py does:
 * the ports of the test are the ones named by `packet` or `expect`; on each, the frames that left
 * must be as many as expected and each must match its pattern (`*` = any nibble, a trailing `$` =
 * no extra bytes; otherwise extra trailing bytes are allowed); `expect P` with no data leaves
 * port P unchecked. A target refusing a control command (as the bmv2 CLI prints an error and
 * goes on) is noted, not fatal; names the STF file gets wrong fail the test, as in bmv2stf.
 * check_counter (which bmv2stf ignores) is checked here when the target can read counters.
 */
import type { CliCommandName, StfStatement } from "./stf-parser.js";
import { stfInteger } from "./stf-parser.js";
import {
  type CellRef,
  cellRef,
  type ResolvedDefault,
  type ResolvedEntry,
  type ResolvedMember,
  type StfProgram,
} from "./stf-program.js";

export interface CounterCell {
  packets: bigint;
  bytes: bigint;
}

export interface StfTarget {
  addEntry(entry: ResolvedEntry): Promise<void>;
  setDefault(entry: ResolvedDefault): Promise<void>;
  addMember(member: ResolvedMember): Promise<void>;
  /** Creates the group, or replaces its members. */
  setGroup(profile: string, id: number, members: readonly number[]): Promise<void>;
  addValueSetMember(valueSet: string, value: bigint): Promise<void>;
  readCounter(counter: string, cell: CellRef): Promise<CounterCell>;
  /** simple_switch_CLI pass-through commands (mirroring, multicast, registers, meters, …). */
  cli(name: CliCommandName, args: readonly string[]): Promise<void>;
  packet(port: number, frame: Uint8Array): Promise<void>;
  /** What left each of `ports`, in order, once every injected frame has been processed. */
  outputs(ports: readonly number[]): Promise<Map<number, Uint8Array[]>>;
}

export interface StfRunResult {
  pass: boolean;
  /** Why the outputs differ from the expectations (undefined on a pass). */
  mismatch?: string;
  /** Control commands the target refused, with their STF line. */
  commandErrors: string[];
  /** check_counter statements that did not hold. */
  counterMismatches: string[];
  /** Statements bmv2stf.py ignores (remove all, wait), kept for the report. */
  ignored: string[];
}

export async function runStf(
  statements: readonly StfStatement[],
  program: StfProgram,
  target: StfTarget,
): Promise<StfRunResult> {
  const commandErrors: string[] = [];
  const counterMismatches: string[] = [];
  const ignored: string[] = [];
  const ports = new Set<number>();
  const expected = new Map<number, { any: boolean; frames: string[] }>();
  const attempt = async (line: number, what: () => Promise<void>) => {
    try {
      await what();
    } catch (error) {
      commandErrors.push(`line ${line}: ${(error as Error).message}`);
    }
  };
  for (const { line, command } of statements) {
    switch (command.kind) {
      case "add": {
        const entry = program.resolveAdd(command);
        await attempt(line, () => target.addEntry(entry));
        break;
      }
      case "setdefault": {
        const entry = program.resolveDefault(command);
        await attempt(line, () => target.setDefault(entry));
        break;
      }
      case "cli":
        await attempt(line, () => target.cli(command.name, command.args));
        break;
      case "member": {
        const member = program.resolveMember(command);
        await attempt(line, () => target.addMember(member));
        break;
      }
      case "group": {
        const profile = program.profile(command.profile);
        await attempt(line, () => target.setGroup(profile, command.id, command.members));
        break;
      }
      case "pvs_add":
        await attempt(line, () =>
          target.addValueSetMember(command.valueSet, stfInteger(command.value)),
        );
        break;
      case "check_counter": {
        const { check } = command;
        await attempt(line, async () => {
          const cell = await target.readCounter(command.counter, cellRef(command.index));
          const got = check ? cell[check.type] : cell.packets;
          const want = check ? stfInteger(check.value) : 0n;
          if (!compare(got, check?.op ?? "==", want)) {
            counterMismatches.push(
              `line ${line}: ${command.counter}(${command.index}) ${check?.type ?? "packets"} is ${got}, want ${check?.op ?? "=="} ${want}`,
            );
          }
        });
        break;
      }
      case "packet":
        ports.add(command.port);
        await target.packet(command.port, Buffer.from(command.data, "hex"));
        break;
      case "expect": {
        ports.add(command.port);
        const e = expected.get(command.port) ?? { any: false, frames: [] };
        if (command.data === undefined) e.any = true;
        else e.frames.push(command.data);
        expected.set(command.port, e);
        break;
      }
      default:
        ignored.push(`line ${line}: ${command.kind}`);
    }
  }
  const received = await target.outputs([...ports].sort((a, b) => a - b));
  const mismatch = compareOutputs([...ports], expected, received) ?? counterMismatches[0];
  return { pass: mismatch === undefined, mismatch, commandErrors, counterMismatches, ignored };
}

function compare(got: bigint, op: string, want: bigint): boolean {
  switch (op) {
    case "==":
      return got === want;
    case "!=":
      return got !== want;
    case "<":
      return got < want;
    case "<=":
      return got <= want;
    case ">":
      return got > want;
    default:
      return got >= want;
  }
}

function compareOutputs(
  ports: readonly number[],
  expected: Map<number, { any: boolean; frames: string[] }>,
  received: Map<number, Uint8Array[]>,
): string | undefined {
  for (const port of [...ports].sort((a, b) => a - b)) {
    const want = expected.get(port);
    if (want?.any) continue;
    const wantFrames = want?.frames ?? [];
    const got = received.get(port) ?? [];
    if (got.length !== wantFrames.length) {
      return `port ${port}: expected ${wantFrames.length} packets, got ${got.length}${
        got.length > 0 ? ` (first: ${hex(got[0] as Uint8Array)})` : ""
      }`;
    }
    for (let i = 0; i < wantFrames.length; i++) {
      const problem = matchPattern(wantFrames[i] as string, got[i] as Uint8Array);
      if (problem) return `port ${port} packet ${i}: ${problem}`;
    }
  }
  return undefined;
}

/** testutils.compare_pkt: nibble by nibble, `*` matches anything, `$` forbids extra bytes. */
export function matchPattern(pattern: string, frame: Uint8Array): string | undefined {
  const strict = pattern.endsWith("$");
  const want = strict ? pattern.slice(0, -1) : pattern;
  const got = hex(frame);
  if (strict && got.length > want.length) {
    return `longer than expected (${got.length / 2} bytes, want ${want.length / 2}): ${got}`;
  }
  if (got.length < want.length) {
    return `shorter than expected (${got.length / 2} bytes, want ${want.length / 2}): ${got}`;
  }
  for (let i = 0; i < want.length; i++) {
    if (want[i] !== "*" && want[i] !== got[i]) {
      return `differs at byte ${i >> 1} (nibble ${i}): want ${want}, got ${got}`;
    }
  }
  return undefined;
}

function hex(frame: Uint8Array): string {
  return Buffer.from(frame).toString("hex").toUpperCase();
}
