/**
 * How nvgre-ctl prints: tables for people (cli-table3, colours by picocolors when the run
 * wants them: colour.ts), JSON and YAML for scripts (exactly the daemon's data, no decoration).
 */
import { createRequire } from "node:module";
import type TableType from "cli-table3";
import type { stringify as toYamlType } from "yaml";
import { type Palette, palette } from "./colour.js";

// Loaded when first used, not when nvgre-ctl starts: `--help` and `-o json` need neither.
const require = createRequire(import.meta.url);
const Table = (): typeof TableType => require("cli-table3");
const toYaml = (data: unknown): string =>
  (require("yaml") as { stringify: typeof toYamlType }).stringify(data);

// One command line runs at a time (run-cli.ts sets this first); plain until told otherwise.
let pc: Palette = palette(false);

export function useColour(enabled: boolean): void {
  pc = palette(enabled);
}

export type OutputFormat = "table" | "json" | "yaml";
export const outputFormats: OutputFormat[] = ["table", "json", "yaml"];

export interface Column<T extends object = Record<string, unknown>> {
  key: string;
  header: string;
  /** Renders the cell for the table (default: lists joined with ", ", empty as "-"). */
  format?: (value: unknown, row: T) => string;
}

/** The text of a machine-readable document, in the requested format. */
export function formatData(data: unknown, format: "json" | "yaml"): string {
  return format === "json" ? `${JSON.stringify(data, null, 2)}\n` : toYaml(data);
}

export function renderTable<T extends object>(rows: T[], columns: Column<T>[]): string {
  if (rows.length === 0) return `${pc.dim("(none)")}\n`;
  const table = new (Table())({
    head: columns.map((c) => pc.bold(c.header)),
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    table.push(
      columns.map((c) => (c.format ?? plainCell)((row as Record<string, unknown>)[c.key], row)),
    );
  }
  return `${table.toString()}\n`;
}

export function plainCell(value: unknown): string {
  if (value === null || value === undefined || value === "") return pc.dim("-");
  if (Array.isArray(value)) return value.length === 0 ? pc.dim("-") : value.map(String).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Renders rows in any format: a table with the given columns, or the rows themselves. */
export function renderRows<T extends object>(
  rows: T[],
  columns: Column<T>[],
  format: OutputFormat,
): string {
  return format === "table" ? renderTable(rows, columns) : formatData(rows, format);
}

export function hexVsid(vsid: number): string {
  return `0x${vsid.toString(16).toUpperCase()}`;
}

export const colour = {
  good: (text: string) => pc.green(text),
  bad: (text: string) => pc.red(text),
  warn: (text: string) => pc.yellow(text),
  dim: (text: string) => pc.dim(text),
  bold: (text: string) => pc.bold(text),
};
