/** Register arrays: cells of a fixed bit width, written truncated to it (bmv2 RegisterArray). */

import { IndexOutOfRangeError } from "./errors.js";
import { type FieldValue, truncate, zeroOf } from "./values.js";

export class RegisterArray {
  private readonly cells: FieldValue[];

  constructor(
    readonly name: string,
    readonly size: number,
    readonly width: number,
  ) {
    this.cells = new Array<FieldValue>(size).fill(zeroOf(width));
  }

  /** Data-plane read: out of range reads 0 (bmv2 skips the access and leaves the destination). */
  read(index: number): FieldValue {
    return this.cells[index] ?? zeroOf(this.width);
  }

  /** Data-plane write: out-of-range writes are ignored, as bmv2 does. */
  write(index: number, value: FieldValue): void {
    if (index >= 0 && index < this.size) this.cells[index] = truncate(value, this.width);
  }

  /** Control-plane access: out-of-range indexes are errors. */
  get(index: number): FieldValue {
    this.check(index);
    return this.cells[index] as FieldValue;
  }

  set(index: number, value: FieldValue): void {
    this.check(index);
    this.cells[index] = truncate(value, this.width);
  }

  reset(): void {
    this.cells.fill(zeroOf(this.width));
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new IndexOutOfRangeError("register", this.name, index, this.size);
    }
  }
}
