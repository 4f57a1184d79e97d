/**
 * The nvgre-ctl command tree (commander 14). Commands only parse and print; the daemon does
 * the work through its local API. `run` starts the daemon itself in this process; `validate`
 * and `apply --offline` run the intent's checks and compiler here. The modules of the commands
 * that only talk to the daemon (the API client, observe) are imported with the tree: in
 * nvgre-ctl's bundle (Makefile) that costs less than loading them as chunks of their own when
 * `status` runs; the others (edits, history, completion, the offline compiler, the daemon) are
 * imported when their command runs, and node:http on the first request.
 */
import { Argument, Command, Option } from "commander";
import type { EventKind } from "../daemon/events.js";
import { type GetKind, getKinds } from "../daemon/protocol.js";
import { defaultSocketPath, socketEnvVar } from "../daemon/socket-path.js";
import { DEFAULT_MAX_INTENT_BYTES, maxIntentBytesEnvVar } from "../intent/limits.js";
import { ApiClient, type ApiTarget } from "./api-client.js";
import {
  type CliContext,
  type CliIo,
  collect,
  parseInteger,
  parseList,
  parseSwitchPort,
  parseVlan,
  parseVsid,
} from "./context.js";
import { CliError, ExitCode, exitCodeHelp } from "./exit-codes.js";
import * as observe from "./observe.js";
import { type OutputFormat, outputFormats, useColour } from "./output.js";

export const version = "0.1.0";

const changes = () => import("./changes.js");
const completion = () => import("./completion.js");
const audit = () => import("./history.js");

const parseRevision = parseInteger("a revision", 0, Number.MAX_SAFE_INTEGER);

/** Options of the commands that read a fabric file. */
function fileReadOptions(command: Command): Command {
  return command.addOption(
    new Option("--max-bytes <n>", "refuse a file larger than N bytes (exit 4)")
      .env(maxIntentBytesEnvVar)
      .argParser(parseInteger("a size", 1, Number.MAX_SAFE_INTEGER))
      .default(DEFAULT_MAX_INTENT_BYTES, "32 MiB"),
  );
}

const eventKinds: EventKind[] = [
  "connection",
  "mastership",
  "pipeline",
  "reconcile",
  "intent",
  "learning",
  "punt",
  "daemon",
];

function outputOption(): Option {
  return new Option("-o, --output <format>", "table (for people), json or yaml (for scripts)")
    .choices(outputFormats)
    .default("table");
}

/** --dry-run and --expected-revision, shared by every command that changes the fabric. */
function changeOptions(command: Command): Command {
  return command
    .option("--dry-run", "show what would change on each switch; change nothing")
    .option("-v, --verbose", "print every entity written, per switch")
    .option(
      "--expected-revision <n>",
      "refuse (exit 6) if the intent's revision is no longer N",
      parseRevision,
    )
    .addOption(outputOption());
}

export function buildProgram(io: CliIo): Command {
  const program = new Command("nvgre-ctl")
    .description(
      "Operate an NVGRE fabric (RFC 7637): declarative intent, applied to every switch by the nvgre daemon",
    )
    .version(version)
    .addOption(
      new Option(
        "-s, --socket <path>",
        "the daemon's API socket, or https://HOST:PORT for its TCP API (with --cert, --key, --cacert)",
      )
        .env(socketEnvVar)
        .default(defaultSocketPath()),
    )
    .addOption(
      new Option("--cert <pem>", "client certificate for https:// (its OU is the role)").env(
        "NVGRE_CTL_CERT",
      ),
    )
    .addOption(new Option("--key <pem>", "the client certificate's key").env("NVGRE_CTL_KEY"))
    .addOption(
      new Option("--cacert <pem>", "the CA that signed the daemon's certificate").env(
        "NVGRE_CTL_CACERT",
      ),
    )
    .option("--no-color", "plain output (also when NO_COLOR is set or stdout is not a terminal)")
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", `\n${exitCodeHelp}\n`)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    // Throw instead of exiting, in every subcommand (they inherit it), so main() picks the
    // exit status and tests can run commands in-process.
    .exitOverride()
    .hook("preAction", () => {
      if (program.opts<{ color: boolean }>().color === false) useColour(false);
    });

  const context: CliContext = {
    io,
    api: async () => {
      const { socket, cert, key, cacert } = program.opts<ApiTarget>();
      return new ApiClient({ socket, cert, key, cacert });
    },
  };

  fileReadOptions(
    changeOptions(
      program
        .command("apply")
        .description("make the fabric's intent the given file, and every switch match it")
        .requiredOption("-f, --file <path>", "fabric file (YAML or JSON; - for stdin)")
        .option("--no-progress", "no progress bar (it is drawn only on a terminal)")
        .option(
          "--offline",
          "with --dry-run: plan without a daemon, against an empty fabric or --against",
        )
        .option(
          "--against <store|file>",
          "with --offline: plan against this intent: the daemon's store (its state directory, embedded:<dir> or etcd://…) or a fabric file",
        )
        .addHelpText(
          "after",
          "\nA dry run prints each switch's diff: + insert, ~ modify, - delete.\n--dry-run --offline needs no daemon: the plan is against what --against holds (default: nothing), not against the switches.",
        ),
    ),
  ).action(async (options) => {
    if (options.offline || options.against !== undefined) {
      if (!options.dryRun) {
        throw new CliError("--offline and --against only plan: add --dry-run", ExitCode.usage);
      }
      const { planOffline } = await import("./offline.js");
      return planOffline(context, options.file, options);
    }
    return (await changes()).applyFile(context, options.file, options);
  });

  fileReadOptions(
    program
      .command("validate")
      .description(
        "check a fabric file without a daemon: syntax, references, and that it compiles (exit 4 if not)",
      )
      .requiredOption("-f, --file <path>", "fabric file (YAML or JSON; - for stdin)")
      .addOption(outputOption()),
  ).action(async (options) => {
    const { validateFile } = await import("./offline.js");
    return validateFile(context, options.file, options);
  });

  program
    .command("get")
    .description("list objects of the intent (with learned endpoints)")
    .addArgument(new Argument("<kind>", "what to list").choices(getKinds))
    .addOption(outputOption())
    .action(async (kind: GetKind, options: { output: OutputFormat }) =>
      observe.get(context, kind, options.output),
    );

  const endpoint = program
    .command("endpoint")
    .description("add, move or delete a tenant endpoint (VM)");
  changeOptions(
    endpoint
      .command("add")
      .description("add an endpoint at a switch port (or behind a remote NVE)")
      .argument("<name>", "endpoint name")
      .requiredOption("--vsid <vsid>", "its virtual subnet (e.g. 0x5001)", parseVsid)
      .requiredOption("--mac <mac>", "its MAC address")
      .option("--ip <address>", "a customer address (CA), IPv4 or IPv6; repeatable", collect)
      .option("--to <switch:port>", "where it is attached, e.g. leaf3:4", parseSwitchPort)
      .option(
        "--vlan <id>",
        "its VLAN on that port (when the port carries the VSID tagged)",
        parseVlan,
      )
      .option("--nve <name>", "the remote NVE (hypervisor) hosting it, instead of --to"),
  ).action(async (name: string, options) => {
    const { sendChange, locationFrom } = await changes();
    return sendChange(
      context,
      "POST",
      "/v1/endpoints",
      {
        name,
        vsid: options.vsid,
        mac: options.mac,
        ips: options.ip ?? [],
        location: locationFrom(options),
      },
      options,
    );
  });
  changeOptions(
    endpoint
      .command("move")
      .description("move an endpoint (live migration): only the entries that change are written")
      .argument("<name>", "endpoint name")
      .option("--to <switch:port>", "its new attachment, e.g. leaf3:4", parseSwitchPort)
      .option("--vlan <id>", "its VLAN on the new port", parseVlan)
      .option("--nve <name>", "the remote NVE now hosting it, instead of --to"),
  ).action(async (name: string, options) => {
    const { sendChange, locationFrom } = await changes();
    return sendChange(
      context,
      "PUT",
      `/v1/endpoints/${encodeURIComponent(name)}/location`,
      { location: locationFrom(options) },
      options,
    );
  });
  changeOptions(
    endpoint
      .command("del")
      .alias("delete")
      .description("delete an endpoint")
      .argument("<name>", "endpoint name"),
  ).action(async (name: string, options) =>
    (await changes()).sendChange(
      context,
      "DELETE",
      `/v1/endpoints/${encodeURIComponent(name)}`,
      {},
      options,
    ),
  );

  const vsid = program.command("vsid").description("add or delete a virtual subnet (VSID)");
  changeOptions(
    vsid
      .command("add")
      .description("add a virtual subnet")
      .argument("<vsid>", "0x1000–0xFFFFFE (R6)", parseVsid)
      .requiredOption("--name <name>", "its name")
      .requiredOption("--tenant <tenant>", "the tenant (routing domain) it belongs to")
      .option(
        "--flood <mode>",
        "head-end (one copy per NVE) or a PA multicast group address",
        "head-end",
      )
      .addOption(
        new Option("--learning <sides>", "source MAC learning")
          .choices(["off", "local", "remote", "both"])
          .default("off"),
      )
      .option("--no-source-guard", "admit any source on access ports (R17 off)")
      .option("--no-pa-validation", "admit NVGRE from any NVE (R17 off)")
      .option("--gateway-mac <mac>", "distributed gateway MAC (R14)")
      .option("--gateway-ip <address/len>", "gateway address with its prefix; repeatable", collect)
      .option("--mtu <bytes>", "tenant IP MTU", parseInteger("an MTU", 576, 9216)),
  ).action(async (vsidValue: number, options) => {
    const { sendChange } = await changes();
    const gateway =
      options.gatewayMac || options.gatewayIp
        ? { mac: options.gatewayMac, ips: options.gatewayIp ?? [] }
        : undefined;
    return sendChange(
      context,
      "POST",
      "/v1/vsids",
      {
        vsid: vsidValue,
        name: options.name,
        tenant: options.tenant,
        flood: options.flood === "head-end" ? "head-end" : { multicastGroup: options.flood },
        learning:
          options.learning === "off"
            ? false
            : options.learning === "both"
              ? true
              : { local: options.learning === "local", remote: options.learning === "remote" },
        sourceGuard: options.sourceGuard,
        paValidation: options.paValidation,
        ...(gateway ? { gateway } : {}),
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
      },
      options,
    );
  });
  changeOptions(
    vsid
      .command("del")
      .alias("delete")
      .description("delete a virtual subnet (refused while endpoints or routes use it)")
      .argument("<vsid>", "the VSID", parseVsid),
  ).action(async (vsidValue: number, options) =>
    (await changes()).sendChange(context, "DELETE", `/v1/vsids/${vsidValue}`, {}, options),
  );

  const route = program.command("route").description("add or delete a tenant route (R14)");
  changeOptions(
    route
      .command("add")
      .description("route a prefix in a tenant to an endpoint, a VSID (on-link) or a gateway NVE")
      .argument("<prefix>", "e.g. 0.0.0.0/0 or 10.2.0.0/16")
      .requiredOption("--tenant <tenant>", "the tenant (routing domain)")
      .option("--endpoint <name>", "next hop: an endpoint")
      .option(
        "--vsid <vsid>",
        "next hop: a VSID (on-link), or the gateway NVE's VSID with --nve",
        parseVsid,
      )
      .option("--nve <name>", "next hop: a gateway NVE (with --vsid and --mac)")
      .option("--mac <mac>", "the gateway NVE's inner MAC"),
  ).action(async (prefix: string, options) =>
    (await changes()).sendChange(
      context,
      "POST",
      "/v1/routes",
      {
        tenant: options.tenant,
        prefix,
        nextHop: {
          ...(options.endpoint ? { endpoint: options.endpoint } : {}),
          ...(options.vsid === undefined ? {} : { vsid: options.vsid }),
          ...(options.nve ? { nve: options.nve } : {}),
          ...(options.mac ? { mac: options.mac } : {}),
        },
      },
      options,
    ),
  );
  changeOptions(
    route
      .command("del")
      .alias("delete")
      .description("delete a tenant route")
      .argument("<prefix>", "the route's prefix")
      .requiredOption("--tenant <tenant>", "the tenant (routing domain)"),
  ).action(async (prefix: string, options) =>
    (await changes()).sendChange(
      context,
      "DELETE",
      "/v1/routes",
      { tenant: options.tenant, prefix },
      options,
    ),
  );

  program
    .command("history")
    .description("every accepted change of the intent: revision, time, who, what, the resources")
    .option("--since <rev>", "only changes after revision REV", parseRevision)
    .addOption(outputOption())
    .action(async (options) => (await audit()).history(context, options));

  program
    .command("diff")
    .description("the resources that differ between two revisions history lists, before and after")
    .argument("<rev1>", "the older revision", parseRevision)
    .argument("<rev2>", "the newer revision", parseRevision)
    .addOption(outputOption())
    .action(async (from: number, to: number, options: { output: OutputFormat }) =>
      (await audit()).diff(context, from, to, options),
    );

  changeOptions(
    program
      .command("rollback")
      .description(
        "make the intent what it was at a revision history lists: a new change, applied and audited like any other",
      )
      .requiredOption("--to <rev>", "the revision to go back to", parseRevision),
  ).action(async (options) => (await audit()).rollback(context, options));

  program
    .command("counters")
    .description("per-VSID packet and byte counters (R15) of every switch")
    .option("--vsid <vsid>", "only this VSID", parseVsid)
    .option("--switch <name>", "only this switch")
    .option(
      "-w, --watch [seconds]",
      "refresh every N seconds (default 2) with rates; Ctrl-C ends",
      parseInteger("an interval", 1, 3600),
    )
    .addOption(outputOption())
    .action(async (options) =>
      observe.counters(context, {
        ...options,
        watch: options.watch === true ? 2 : options.watch,
      }),
    );

  program
    .command("drops")
    .description("dropped packets per reason (the P4 program's drop reasons) per switch")
    .option("--switch <name>", "only this switch")
    .addOption(outputOption())
    .action(async (options) => observe.drops(context, options));

  program
    .command("tables")
    .description("what a switch holds: its tables with entry counts, or one table's entries")
    .argument("<switch>", "switch name")
    .argument("[table]", "a table's P4 name (e.g. bridging)")
    .addOption(outputOption())
    .action(
      async (switchName: string, table: string | undefined, options: { output: OutputFormat }) =>
        observe.tables(context, switchName, table, options.output),
    );

  program
    .command("events")
    .description("learning, mastership changes, punts and reconcile results, newest last")
    .option("-f, --follow", "keep printing new events as they happen (JSON lines with -o json)")
    .option("--last <n>", "only the last N events", parseInteger("a count", 1, 1_000_000))
    .option(
      "--kind <kinds>",
      `only these kinds, comma-separated (${eventKinds.join(", ")})`,
      parseList("an event kind", eventKinds),
    )
    .option("--switch <name>", "only events about this switch")
    .addOption(outputOption())
    .action(async (options) => observe.events(context, options));

  program
    .command("status")
    .description(
      "per switch: connected, primary, pipeline cookie, in sync or drift (exit 5 unless all are)",
    )
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => observe.status(context, options.output));

  program
    .command("run")
    .description(
      "run the nvgre daemon in the foreground (as a service: deploy/systemd/nvgre-ctl.service)",
    )
    .option(
      "-c, --config <file>",
      "daemon settings (YAML: stateDir, store, memberId, leaseTtlSeconds, socket, listen, listenTls, role, reconcileIntervalSeconds, learnedAgeingSeconds, logLevel, tls, …)",
    )
    .option("--state-dir <dir>", "where the embedded intent store lives (one host, no server)")
    .option(
      "--store <url>",
      "embedded (default), or etcd://host:port[,host:port…][/prefix/]: replicas sharing one etcd elect a leader",
    )
    .option("--member <id>", "this replica's name in the cluster (default: <host>-<pid>)")
    .option(
      "--lease-ttl <seconds>",
      "leadership lease on etcd (default 3): a dead leader is replaced within it",
    )
    .option("--reconcile-interval <seconds>", "drift check period; 0 turns it off")
    .option(
      "--learned-ageing <seconds>",
      "remove a learned endpoint not seen this long (default 300); 0 = never",
    )
    .option(
      "--listen <host:port>",
      "also serve the API on TCP, TLS with client certificates only (needs the three below)",
    )
    .option("--listen-cert <pem>", "the TCP API's server certificate")
    .option("--listen-key <pem>", "the TCP API's private key")
    .option("--client-ca <pem>", "the CA whose client certificates the TCP API accepts (OU = role)")
    .addOption(
      new Option("--log-level <level>", "log level").choices([
        "trace",
        "debug",
        "info",
        "warn",
        "error",
      ]),
    )
    .action(async (options) => {
      const { runDaemonCommand } = await import("../api/run.js");
      await runDaemonCommand({ ...options, socket: program.opts<{ socket: string }>().socket });
    });

  program
    .command("completion")
    .description("print the shell completion script (bash: source <(nvgre-ctl completion bash))")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .action(async (shell: "bash" | "zsh") =>
      io.out((await completion()).completionScript(program, shell)),
    );

  program
    .command("__complete", { hidden: true })
    .argument("<kind>", "switches | endpoints | vsids | tenants")
    .action(async (kind: string) => (await completion()).completionNames(context, kind));

  return program;
}
