/**
 * Idle-timeout notifications for tables with `support_timeout` (P4Info NOTIFY_CONTROL), as
 * bmv2's ageing monitor and PI's IdleTimeoutBuffer produce them: every sweep (bmv2's default
 * interval, 1 s) the entries with an idle_timeout_ns that have not been matched for that long
 * are reported, except those reported by the sweep just before; so an entry left idle is
 * reported again every other sweep until it is hit, changed or deleted. One sweep's entries go
 * out together, each with its key, controller_metadata, metadata and idle_timeout_ns.
 */
import type { TableEntry } from "../../proto/gen/p4/v1/TableEntry.js";
import type { TableEntries } from "./table-entries.js";
import type { StreamSink } from "./target.js";

/** bmv2 AgeingMonitor's default sweep interval. */
export const SWEEP_INTERVAL_MS = 1000;

export class IdleTimeouts {
  private readonly timer: NodeJS.Timeout | undefined;
  /** Per table, the handles the previous sweep reported. */
  private readonly reported = new Map<TableEntries, Set<number>>();

  constructor(
    private readonly tables: TableEntries[],
    private readonly emit: StreamSink,
    intervalMs = SWEEP_INTERVAL_MS,
  ) {
    const ageing = tables.filter((t) => t.model.supportsIdleTimeout);
    if (ageing.length > 0) this.timer = setInterval(() => this.sweep(), intervalMs).unref();
  }

  sweep(): void {
    const expired: TableEntry[] = [];
    for (const table of this.tables) {
      if (!table.model.supportsIdleTimeout) continue;
      const previous = this.reported.get(table) ?? new Set<number>();
      const now = new Set<number>();
      for (const entry of table.entries()) {
        const info = table.entryInfo(entry.handle);
        const ttlNs = BigInt(info?.idleTimeoutNs ?? 0);
        if (!info || ttlNs === 0n) continue;
        if (BigInt(table.idleMicros(entry)) * 1000n < ttlNs) continue;
        if (previous.has(entry.handle)) continue;
        now.add(entry.handle);
        expired.push({
          ...table.keyMessage(entry),
          controller_metadata: info.controllerMetadata,
          metadata: info.metadata,
          idle_timeout_ns: info.idleTimeoutNs,
        });
      }
      this.reported.set(table, now);
    }
    if (expired.length === 0) return;
    this.emit({
      idle_timeout_notification: {
        table_entry: expired,
        timestamp: (BigInt(Date.now()) * 1_000_000n).toString(),
      },
    });
  }

  close(): void {
    clearInterval(this.timer);
  }
}
