/**
 * A token bucket: at most `perSecond` on average, bursts up to `burst`. ICMP errors must be
 * rate-limited (RFC 1812 §4.3.2.8, RFC 4443 §2.4 (f)), and so must the logging of punts, or a
 * flood of oversized packets becomes a flood of answers and log lines.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Takes refused since the last allowed one (reported with it). */
  suppressed = 0;

  constructor(
    readonly perSecond: number,
    readonly burst = Math.max(1, perSecond),
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token if one is there; returns whether it did. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.suppressed++;
    return false;
  }
}
