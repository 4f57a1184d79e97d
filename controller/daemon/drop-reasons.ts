/**
 * Names of the data plane's drop reasons (the index of its `drops` and `egress_drops`
 * counters), read from the P4 program itself (p4/include/defines.p4, `const drop_reason_t
 * DROP_X = n;  // meaning`) so they are never typed a second time: the P4Info carries counter
 * sizes but not what each index means.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface DropReason {
  code: number;
  /** e.g. "gre_no_key" (DROP_GRE_NO_KEY). */
  name: string;
  /** The comment beside the constant, when there is one. */
  description: string;
}

export const nvgreDefines = fileURLToPath(
  new URL("../../../p4/include/defines.p4", import.meta.url),
);

const constantPattern = /^const\s+drop_reason_t\s+DROP_(\w+)\s*=\s*(\d+)\s*;\s*(?:\/\/\s*(.*))?$/;

/**
 * What the constants without a comment in defines.p4 mean (p4/ cannot change until p4c is back).
 * Only used where the source has no comment; a test checks every reason ends up described.
 */
const uncommented: Record<string, string> = {
  none: "not dropped (counter index 0 is never used)",
  underlay_route_miss: "no underlay route (or ECMP member) for the outer destination address",
};

export function parseDropReasons(source: string): Map<number, DropReason> {
  const reasons = new Map<number, DropReason>();
  for (const line of source.split("\n")) {
    const match = constantPattern.exec(line.trim());
    if (!match) continue;
    const code = Number(match[2]);
    const name = (match[1] as string).toLowerCase();
    reasons.set(code, {
      code,
      name,
      description: match[3]?.trim() || uncommented[name] || "",
    });
  }
  return reasons;
}

/** The program's drop reasons; empty (numbers only) when its source is not beside the build. */
export function loadDropReasons(definesPath = nvgreDefines): Map<number, DropReason> {
  try {
    return parseDropReasons(readFileSync(definesPath, "utf8"));
  } catch {
    return new Map();
  }
}
