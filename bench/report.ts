/** Bench output: plain tables on stdout (figures only; benches never judge). */
import Table from "cli-table3";

export function printTable(head: string[], rows: (string | number)[][]): void {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) {
    table.push(row.map((cell) => (typeof cell === "number" ? cell.toLocaleString("en-US") : cell)));
  }
  console.log(table.toString());
}
