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
 * What the constants whose comment in defines.p4 is missing or only a requirement id mean
 * (p4/ cannot change until p4c is back). A test checks that every reason ends up described.
 */
const terse: Record<string, string> = {
  none: "not dropped (counter index 0 is never used)",
  underlay_route_miss: "no underlay route (or ECMP member) for the outer destination address",
  tenant_route_miss: "no tenant route for the inner destination address",
  tenant_ttl_expired: "inner TTL / hop limit expired when routed in the tenant",
};

function describe(name: string, comment: string): string {
  if (!/^(R\d+[ ,]*)*$/.test(comment)) return comment;
  const meaning = terse[name] ?? "";
  return comment && meaning ? `${meaning} (${comment})` : meaning || comment;
}

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
      description: describe(name, match[3]?.trim() ?? ""),
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
