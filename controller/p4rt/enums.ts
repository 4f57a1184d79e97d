/**
 * A program's serializable enums with what each member means: the file `make p4` writes beside
 * the P4Info (p4/build/nvgre.enums.json for the product), from the enum declarations and the
 * comment beside each member. The P4Info carries an enum's members only when the control plane
 * sees the enum's type (a counter index does not count), and never a description; this file
 * carries both, and is checked against the P4Info wherever the P4Info has the enum too.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { P4InfoIndex } from "./p4info.js";

const memberSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_]\w*$/),
  value: z.number().int().nonnegative(),
  description: z.string().min(1),
});

const enumSchema = z.strictObject({
  bitwidth: z.number().int().positive(),
  members: z.array(memberSchema).min(1),
});

export const p4EnumsSchema = z.strictObject({
  /** The P4 file the enums were read from, relative to the repository. */
  source: z.string(),
  enums: z.record(z.string(), enumSchema),
});

export type P4EnumMember = z.infer<typeof memberSchema>;
export type P4Enum = z.infer<typeof enumSchema>;
export type P4Enums = z.infer<typeof p4EnumsSchema>;

/** The enums file is missing, malformed, or disagrees with the P4Info it was built with. */
export class P4EnumsError extends Error {
  override readonly name = "P4EnumsError";
  constructor(
    readonly where: string,
    problem: string,
  ) {
    super(`${where}: ${problem} (regenerate it with \`make p4\`)`);
  }
}

/** Reads and checks an enums file; `p4info`, when given, must agree with it. */
export function loadP4Enums(path: string, p4info?: P4InfoIndex): P4Enums {
  let parsed: P4Enums;
  try {
    parsed = p4EnumsSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    throw new P4EnumsError(path, (error as Error).message);
  }
  const problem = p4info && disagreement(parsed, p4info);
  if (problem) throw new P4EnumsError(path, problem);
  return parsed;
}

/**
 * Where `enums` and the P4Info's serializable enums differ (for the enums both have: names
 * and values member by member), or undefined when they agree.
 */
export function disagreement(enums: P4Enums, p4info: P4InfoIndex): string | undefined {
  for (const [name, declared] of Object.entries(enums.enums)) {
    const compiled = p4info.serializableEnum(name);
    if (!compiled) continue;
    const ours = declared.members.map((m) => `${m.name}=${m.value}`).join(", ");
    const theirs = [...compiled].map(([member, value]) => `${member}=${value}`).join(", ");
    if (ours !== theirs) return `${name} is {${ours}} here but {${theirs}} in the P4Info`;
  }
  return undefined;
}

/** One enum by name; the error lists the enums there are. */
export function p4Enum(enums: P4Enums, name: string): P4Enum {
  const found = enums.enums[name];
  if (!found) {
    throw new P4EnumsError(
      `the enums of ${enums.source}`,
      `no enum ${name} (has: ${Object.keys(enums.enums).join(", ") || "none"})`,
    );
  }
  return found;
}
