/**
 * Load-time code generation, the one way the softswitch runs a program: every compiled construct
 * (operand, operator, primitive, parser operation, table key) is JavaScript source, joined into
 * one straight-line function per action, control, parser and deparser, built with `new Function`
 * once per program. Per packet there is no closure call (nor megamorphic call site) per
 * expression node, and V8 optimises a whole control as one function.
 *
 * Generated code sees these names: `p` (the PacketState), `l` (the action data), `v` and `w`
 * (the header vector's field values up to 53 bits and wider, `p.phv.values` and `.wide`) and
 * `V` (its validity flags, `p.phv.valid`).
 * What one expression or statement cannot say (per-packet stack elements, unions, varbit headers,
 * table lookups and their counters and meters) is a call of a plain helper function, passed in as
 * a constant of the generated function (`ref`): each construct has one implementation.
 */

import { MAX_NUMBER_BITS } from "../core/values.js";

/** Emits source for a construct, registering the constants it needs with `g`. */
export type Code = (g: CodeGen) => string;

/** The constants (helpers, tables, arrays) generated code refers to, and the function builder. */
export class CodeGen {
  private readonly values: unknown[] = [];

  /** `name` names the generated function (profiles show it), e.g. the control's. */
  constructor(private readonly name: string) {}
  private readonly names = new Map<unknown, string>();

  /** A name for `value` inside the generated function (the same value gets the same name). */
  ref(value: unknown): string {
    let name = this.names.get(value);
    if (name === undefined) {
      name = `k${this.values.length}`;
      this.values.push(value);
      this.names.set(value, name);
    }
    return name;
  }

  /** A fresh identifier for a local variable of the generated code (constants are `k<n>`). */
  local(prefix: string): string {
    this.locals++;
    return `_${prefix}${this.locals}`;
  }

  private locals = 0;

  /** Builds `function (params) { body }` closed over the registered constants. */
  build<F>(params: string, body: string): F {
    const factory = new Function(
      ...this.names.values(),
      `"use strict";\nreturn function ${identifier(this.name)}(${params}) {\n${body}\n};`,
    ) as (...constants: unknown[]) => F;
    return factory(...this.values);
  }
}

/** Binds the names generated code uses for the header vector `phv` (source of a Phv). */
export function vectorPrelude(phv: string): string {
  return `const v = ${phv}.values, w = ${phv}.wide, V = ${phv}.valid;\n`;
}

/** The prelude every generated packet function starts with. */
export const PHV_PRELUDE = vectorPrelude("p.phv");

/** Source of a field's place in generated code (`v` or `w` by its width, as Phv keeps it). */
export function slotSource(slot: number, width: number): string {
  return width > MAX_NUMBER_BITS ? `w[${slot}]` : `v[${slot}]`;
}

/** A JavaScript literal for an integer held as a number or a bigint. */
export function literal(value: number | bigint): string {
  if (typeof value === "bigint") return value < 0n ? `(${value}n)` : `${value}n`;
  return value < 0 || Object.is(value, -0) ? `(${value})` : String(value);
}

/** A JavaScript identifier made of `name` (other characters become `_`). */
function identifier(name: string): string {
  return `generated_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}
