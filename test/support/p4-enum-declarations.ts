/**
 * `make p4`'s step after p4c: the serializable enums declared in a P4 file, with the comment
 * beside each member as its description, as the controller reads them (controller/p4rt/enums.ts).
 * Read at build time only, and strictly: inside an enum, every line is one member
 * `NAME = value, // description`; anything else is an error naming the line, so a member
 * without a description cannot be committed.
 */
import type { P4Enum, P4Enums } from "../../controller/p4rt/enums.js";

const enumStart = /^\s*enum\s+bit<(\d+)>\s+(\w+)\s*\{\s*$/;
const member = /^\s*([A-Za-z_]\w*)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*,?\s*\/\/\s*(\S.*?)\s*$/;

/** A P4 enum declaration this step cannot read. */
export class EnumDeclarationError extends Error {
  override readonly name = "EnumDeclarationError";
}

/** The `enum bit<N> Name { … }` declarations of `text` (the file at `source`). */
export function enumDeclarations(text: string, source: string): P4Enums {
  const enums: Record<string, P4Enum> = {};
  let open: { name: string; enum: P4Enum } | undefined;
  text.split("\n").forEach((line, index) => {
    const where = `${source}:${index + 1}`;
    if (!open) {
      const start = enumStart.exec(line);
      if (start) {
        open = { name: start[2] as string, enum: { bitwidth: Number(start[1]), members: [] } };
      } else if (/^\s*enum\b/.test(line)) {
        throw new EnumDeclarationError(
          `${where}: write an enum as "enum bit<N> Name {" on one line`,
        );
      }
      return;
    }
    if (/^\s*\}\s*$/.test(line)) {
      if (open.enum.members.length === 0)
        throw new EnumDeclarationError(`${where}: ${open.name} has no members`);
      enums[open.name] = open.enum;
      open = undefined;
      return;
    }
    const m = member.exec(line);
    if (!m) {
      throw new EnumDeclarationError(
        `${where}: in enum ${open.name}, expected "NAME = value, // description", got "${line.trim()}"`,
      );
    }
    open.enum.members.push({
      name: m[1] as string,
      value: Number(m[2]),
      description: m[3] as string,
    });
  });
  if (open) throw new EnumDeclarationError(`${source}: enum ${open.name} is not closed`);
  return { source, enums };
}
