/**
 * Counter arrays: bmv2 counts packets and bytes together, bytes being the packet's ingress length
 * (bm_sim counters.h increment_counter), whatever the packet looks like when it is counted.
 */

import { IndexOutOfRangeError } from "./errors.js";
export interface CounterValue {
  packets: bigint;
  bytes: bigint;
}

export class CounterArray {
  // Float64 keeps counts exact up to 2^53, far beyond what a run reaches, without bigint cost.
  private readonly packets: Float64Array;
  private readonly bytes: Float64Array;

  constructor(
    readonly name: string,
    readonly size: number,
  ) {
    this.packets = new Float64Array(size);
    this.bytes = new Float64Array(size);
  }

  /** Counts one packet; out-of-range indexes are ignored, as bmv2 does. */
  count(index: number, ingressLength: number): void {
    if (index < 0 || index >= this.size) return;
    this.packets[index] = (this.packets[index] as number) + 1;
    this.bytes[index] = (this.bytes[index] as number) + ingressLength;
  }

  read(index: number): CounterValue {
    this.check(index);
    return {
      packets: BigInt(this.packets[index] as number),
      bytes: BigInt(this.bytes[index] as number),
    };
  }

  write(index: number, value: CounterValue): void {
    this.check(index);
    this.packets[index] = Number(value.packets);
    this.bytes[index] = Number(value.bytes);
  }

  reset(): void {
    this.packets.fill(0);
    this.bytes.fill(0);
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new IndexOutOfRangeError("counter", this.name, index, this.size);
    }
  }
}
