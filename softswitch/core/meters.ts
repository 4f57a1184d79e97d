/**
 * Meters with bmv2's token-bucket semantics (bm_sim meters.cpp). Rates are given committed first,
 * then peak (as PI passes them); bmv2 checks them in reverse: if the peak bucket lacks tokens the
 * packet is RED (2), else it pays the peak bucket and, if the committed bucket lacks tokens, is
 * YELLOW (1); else it pays both and is GREEN (0). An unconfigured meter returns GREEN. Rates are
 * in tokens per microsecond, bursts in tokens; tokens are packets or bytes (ingress length).
 */

export interface MeterRate {
  /** Tokens per microsecond. */
  infoRate: number;
  burstSize: number;
}

export class MeterConfigError extends Error {
  constructor(
    readonly meter: string,
    problem: string,
  ) {
    super(`meter "${meter}": ${problem}`);
    this.name = "MeterConfigError";
  }
}

interface Bucket {
  infoRate: number;
  burstSize: number;
  tokens: number;
  tokensLast: number;
  color: number;
}

/** Microseconds from an arbitrary origin; injectable so tests control time. */
export type MicrosClock = () => number;

/** The monotonic clock in whole microseconds (read per packet: no BigInt on the way). */
export const systemMicros: MicrosClock = () => Math.floor(performance.now() * 1000);

export class Meter {
  /** Buckets in bmv2's evaluation order (peak first); empty = unconfigured. */
  private buckets: Bucket[] = [];
  private origin = 0;

  constructor(
    private readonly rateCount: number,
    private readonly clock: MicrosClock,
  ) {}

  /** Sets the rates, committed first then peak (rateCount of them). */
  setRates(rates: readonly MeterRate[]): boolean {
    if (rates.length !== this.rateCount) return false;
    for (let i = 1; i < rates.length; i++) {
      if ((rates[i - 1] as MeterRate).infoRate > (rates[i] as MeterRate).infoRate) return false;
    }
    this.origin = this.clock();
    this.buckets = rates
      .map((r, i) => ({
        infoRate: r.infoRate,
        burstSize: r.burstSize,
        tokens: r.burstSize,
        tokensLast: 0,
        color: i + 1,
      }))
      .reverse();
    return true;
  }

  /** The configured rates, committed first; empty when unconfigured. */
  getRates(): MeterRate[] {
    return this.buckets.map((b) => ({ infoRate: b.infoRate, burstSize: b.burstSize })).reverse();
  }

  reset(): void {
    this.buckets = [];
  }

  execute(input: number): number {
    if (this.buckets.length === 0) return 0;
    const micros = this.clock() - this.origin;
    let color = 0;
    for (const b of this.buckets) {
      const sinceInit = Math.floor(micros * b.infoRate);
      const fresh = sinceInit - b.tokensLast;
      b.tokensLast = sinceInit;
      b.tokens = Math.min(b.tokens + fresh, b.burstSize);
      if (b.tokens < input) {
        color = b.color;
        break;
      }
      b.tokens -= input;
    }
    return color;
  }
}

export class MeterArray {
  readonly meters: Meter[];

  constructor(
    readonly name: string,
    readonly size: number,
    readonly unit: "packets" | "bytes",
    readonly rateCount: number,
    clock: MicrosClock,
  ) {
    this.meters = Array.from({ length: size }, () => new Meter(rateCount, clock));
  }

  /** Data-plane execution; an out-of-range index returns GREEN without metering. */
  execute(index: number, ingressLength: number): number {
    const meter = this.meters[index];
    if (!meter) return 0;
    return meter.execute(this.unit === "packets" ? 1 : ingressLength);
  }

  meter(index: number): Meter {
    const meter = this.meters[index];
    if (!meter)
      throw new MeterConfigError(this.name, `index ${index} out of range (size ${this.size})`);
    return meter;
  }
}
