/** Bench output: plain tables on stdout (figures only; benches never judge). */
import Table from "cli-table3";

export function printTable(head: string[], rows: (string | number)[][]): void {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) {
    table.push(row.map((cell) => (typeof cell === "number" ? cell.toLocaleString("en-US") : cell)));
  }
  console.log(table.toString());
}

/** The p-th percentile (nearest rank) of ascending `sorted` values; 0 when empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
