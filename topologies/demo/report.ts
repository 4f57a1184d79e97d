/**
 * The demo's printed report: each section renders what was measured as text (tables from
 * cli-table3, colour only on a terminal: controller/cli/colour.ts). Nothing here measures
 * anything.
 */
import Table from "cli-table3";
import { stdoutPalette } from "../../controller/cli/colour.js";
import type { CaptureSummary } from "./capture.js";
import type { CtlResult } from "./daemon.js";
import type { FabricDescription } from "./fabric.js";
import type { FailoverResult } from "./failover.js";
import type { MigrationResult } from "./migration.js";
import type { IperfResult, MatrixCell } from "./traffic.js";

/** cli-table3 colours its borders and headings itself; plain text reads everywhere. */
const plain = { style: { head: [], border: [] } };

/** The demo's colours, shared by its progress lines (main.ts). */
export const pc = stdoutPalette();

export function heading(text: string): string {
  return `\n${pc.bold(pc.cyan(`== ${text}`))}`;
}

export function verdict(ok: boolean, text: string): string {
  return `${ok ? pc.green("PASS") : pc.red("FAIL")}  ${text}`;
}

function vsidText(vsid: number): string {
  return `0x${vsid.toString(16).toUpperCase()}`;
}

export function fabricTables(fabric: FabricDescription): string {
  const switches = new Table({
    head: ["switch", "role", "provider addresses", "P4Runtime", "ports"],
    ...plain,
  });
  for (const s of fabric.switches) {
    switches.push([
      s.name,
      s.role === "leaf" ? "leaf (NVE)" : "spine (transit)",
      [s.pa_v4, s.pa_v6].filter(Boolean).join("\n") || "-",
      s.grpc_address,
      Object.keys(s.ports).join(" "),
    ]);
  }
  const vms = new Table({ head: ["VM", "tenant", "virtual subnet", "MAC", "CAs", "at"], ...plain });
  for (const v of fabric.vms) {
    vms.push([
      v.name,
      v.tenant,
      `${v.subnet} (${vsidText(v.vsid)})`,
      v.mac,
      [v.ipv4, v.ipv6].filter(Boolean).join("\n"),
      `${v.leaf}:${v.port}`,
    ]);
  }
  return `${switches.toString()}\n${vms.toString()}`;
}

/** An nvgre-ctl command as the operator would see it: the command, its output, its time. */
export function commandText(result: CtlResult): string {
  const output = `${result.stdout}${result.stderr}`
    .trimEnd()
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return `${pc.bold(`$ ${result.command}`)}  ${pc.dim(`(${result.durationMs} ms)`)}\n${output}`;
}

function cellMark(cell: MatrixCell | undefined): string {
  if (!cell) return pc.dim("-");
  if (cell.expected) return cell.reached ? pc.green("✓") : pc.red("✗");
  return cell.delivered ? pc.red("!") : pc.dim("·");
}

/** The ping matrix: one row per source, one column per destination, IPv4 and IPv6 marks. */
export function matrixTable(fabric: FabricDescription, cells: MatrixCell[]): string {
  const names = fabric.vms.map((v) => v.name);
  const table = new Table({ head: ["from \\ to", ...names], ...plain });
  const find = (from: string, to: string, family: 4 | 6) =>
    cells.find((c) => c.from === from && c.to === to && c.family === family);
  for (const from of names) {
    table.push([
      from,
      ...names.map((to) => {
        if (from === to) return "";
        const v6 = find(from, to, 6);
        return `${cellMark(find(from, to, 4))}${v6 ? ` ${cellMark(v6)}` : ""}`;
      }),
    ]);
  }
  const legend = `${pc.green("✓")} reached as it must  ${pc.dim("·")} not delivered, as it must not  ${pc.red("✗")} must reach but did not  ${pc.red("!")} delivered across isolation\n(first mark IPv4, second IPv6; "delivered" = the destination VM itself saw the tagged echo request)`;
  return `${table.toString()}\n${legend}`;
}

export function matrixVerdicts(cells: MatrixCell[]): { ok: boolean; lines: string[] } {
  const must = cells.filter((c) => c.expected);
  const mustNot = cells.filter((c) => !c.expected);
  const reached = must.filter((c) => c.reached);
  const isolated = mustNot.filter((c) => !c.delivered);
  const lines = [
    verdict(
      reached.length === must.length,
      `${reached.length}/${must.length} pairs that must reach do (same virtual subnet, or routed by the tenant's gateway, R14)`,
    ),
    verdict(
      isolated.length === mustNot.length,
      `${isolated.length}/${mustNot.length} cross-tenant pairs see nothing of each other, with identical CAs and MACs (R18)`,
    ),
  ];
  for (const c of must.filter((x) => !x.reached)) {
    lines.push(pc.red(`      ${c.from} → ${c.to} (IPv${c.family}) did not reach`));
  }
  for (const c of mustNot.filter((x) => x.delivered)) {
    lines.push(pc.red(`      ${c.from} → ${c.to} (IPv${c.family}) was delivered across tenants`));
  }
  return { ok: reached.length === must.length && isolated.length === mustNot.length, lines };
}

export function iperfLine(label: string, result: IperfResult): string {
  return `${label}: ${(result.bitsPerSecond / 1e6).toFixed(1)} Mbit/s (TCP, ${result.streams} streams, ${result.seconds} s, ${result.retransmits} retransmits)`;
}

export function ecmpText(deltas: Map<string, bigint>): string {
  const total = [...deltas.values()].reduce((a, b) => a + b, 0n);
  return [...deltas.entries()]
    .map(([spine, packets]) => {
      const share = total === 0n ? 0 : Number((packets * 1000n) / total) / 10;
      return `${spine}: ${packets} packets (${share.toFixed(1)}%) ${"█".repeat(Math.round(share / 4))}`;
    })
    .join("\n");
}

export function migrationText(result: MigrationResult): string {
  const table = new Table(plain);
  table.push(
    {
      VM: `${result.vm}: ${result.from.leaf}:${result.from.port} → ${result.to.leaf}:${result.to.port}`,
    },
    { observer: `${result.observer}, one ping every ${result.intervalMs} ms` },
    { "packets lost": `${result.lost} of ${result.transmitted}` },
    {
      convergence:
        result.convergenceMs === undefined
          ? pc.red("no reply after the command")
          : `${result.convergenceMs.toFixed(0)} ms from the controller command to the first delivered reply (nvgre-ctl's own start-up included; make bench times the API request)`,
    },
    {
      "controller command": `${result.commandMs} ms (stored, compiled, the difference written to every switch)`,
    },
  );
  return table.toString();
}

export function failoverText(result: FailoverResult): string {
  const table = new Table(plain);
  const perSwitch = [...result.written].map(([name, n]) => `${name} ${n}`).join(", ");
  table.push(
    { killed: `${result.killed} (leader, term ${result.oldTerm}), SIGKILL` },
    { observer: `${result.from} → ${result.to}, one ping every ${result.intervalMs} ms` },
    {
      "new primary everywhere": `${result.failoverMs.toFixed(0)} ms until every switch's primary was ${result.successor} (term ${result.newTerm}; lease TTL ${result.leaseTtlS} s)`,
    },
    {
      reconciled: `${result.reconciledMs.toFixed(0)} ms until ${result.successor} had reconciled every switch`,
    },
    {
      "packets lost": `${result.lost} of ${result.transmitted} (not counted: ${result.inFlight} sent after the last reply, still in flight when ping stopped)`,
    },
    { "entries rewritten": `${result.rewritten} (${perSwitch})` },
  );
  return table.toString();
}

export function captureText(summary: CaptureSummary, path: string): string {
  const keys = summary.keys
    .slice(0, 8)
    .map(
      (k) =>
        `  key 0x${k.key.toString(16).padStart(8, "0")} = VSID ${vsidText(k.vsid)} FlowID ${k.flowId}: ${k.frames} frames`,
    )
    .join("\n");
  return [
    `${path}: ${summary.frames} frames, ${summary.nvgreFrames} GRE with key and protocol 0x6558 (Transparent Ethernet Bridging), ${summary.innerEthernetFrames} with the tenant's Ethernet frame inside`,
    summary.firstStack ? `protocol stack: ${summary.firstStack}` : "",
    keys,
    summary.firstGreDetail.length > 0
      ? `tshark -V of the first one:\n${summary.firstGreDetail.map((l) => `  ${l}`).join("\n")}`
      : "",
  ]
    .filter((line) => line !== "")
    .join("\n");
}
