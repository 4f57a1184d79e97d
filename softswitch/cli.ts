#!/usr/bin/env node
/**
 * `softswitch`: the softswitch as a process, with simple_switch_grpc's options (bmv2
 * targets/simple_switch_grpc/main.cpp and bm_sim/options_parse.cpp), so scripts and Mininet
 * topologies start either the same way:
 *
 *   softswitch --device-id 1 -i 1@s1-eth1 -i 2@s1-eth2 --cpu-port 510 p4/build/nvgre.json
 *
 * Differences from bmv2: the gRPC server listens on loopback unless told otherwise, and the
 * options after bmv2's `--` separator (the gRPC ones) are accepted before it too.
 * Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when the switch cannot start or run,
 * 2 for bad arguments (the argument is named).
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { Command, InvalidArgumentError, Option } from "commander";
import pino, { type Logger } from "pino";
import type { SoftswitchDevice } from "./device.js";
import type { RunningP4RuntimeServer } from "./p4runtime/server.js";
import {
  MAX_PORT,
  PcapPorts,
  PortError,
  type PortInterface,
  parsePortInterface,
} from "./ports/pcap.js";

const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

/** bmv2's log levels, mapped onto pino's. */
const LOG_LEVELS = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  off: "silent",
} as const;
type LogLevel = keyof typeof LOG_LEVELS;

interface CliOptions {
  deviceId: bigint;
  grpcServerAddr: string;
  grpcServerSsl: boolean;
  grpcServerCacert?: string;
  grpcServerCert?: string;
  grpcServerKey?: string;
  grpcServerWithClientAuth: boolean;
  cpuPort?: number;
  dropPort: number;
  interface: PortInterface[];
  p4: boolean;
  logLevel: LogLevel;
  pcap?: string;
  metricsAddr?: string;
}

function portNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > MAX_PORT) {
    throw new InvalidArgumentError(`expected a port number from 0 to ${MAX_PORT}`);
  }
  return Number(text);
}

function deviceId(text: string): bigint {
  if (!/^\d+$/.test(text) || BigInt(text) >= 2n ** 64n) {
    throw new InvalidArgumentError("expected an unsigned 64-bit integer");
  }
  return BigInt(text);
}

function interfaceSpec(text: string, previous: PortInterface[]): PortInterface[] {
  try {
    return [...previous, parsePortInterface(text)];
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function grpcAddress(text: string): string {
  if (text.startsWith("unix:")) return text;
  const colon = text.lastIndexOf(":");
  const port = text.slice(colon + 1);
  if (colon <= 0 || !/^\d+$/.test(port) || Number(port) > 65535) {
    throw new InvalidArgumentError("expected HOST:PORT (e.g. 127.0.0.1:9559) or unix:PATH");
  }
  return text;
}

function metricsAddress(text: string): string {
  if (text.startsWith("unix:")) throw new InvalidArgumentError("expected HOST:PORT (TCP)");
  return grpcAddress(text);
}

function buildCommand(): Command {
  return new Command("softswitch")
    .description(
      "P4 software switch: runs a p4c bmv2 JSON program with simple_switch semantics and serves P4Runtime",
    )
    .argument("[json]", "bmv2 JSON program to run at start (p4c-bm2-ss output); or --no-p4")
    .addOption(
      new Option("--device-id <id>", "P4Runtime device id").default(0n, "0").argParser(deviceId),
    )
    .addOption(
      new Option("--grpc-server-addr <addr>", "P4Runtime server address: HOST:PORT or unix:PATH")
        .default("127.0.0.1:9559")
        .argParser(grpcAddress),
    )
    .option(
      "--grpc-server-ssl",
      "serve P4Runtime over TLS (needs --grpc-server-cert and -key)",
      false,
    )
    .option("--grpc-server-cacert <pem>", "CA certificate that verifies client certificates")
    .option("--grpc-server-cert <pem>", "server certificate chain")
    .option("--grpc-server-key <pem>", "server private key")
    .option(
      "--grpc-server-with-client-auth",
      "require a client certificate signed by --grpc-server-cacert (mutual TLS)",
      false,
    )
    .addOption(
      new Option("--cpu-port <port>", "port connected to the controller (packet-in/out)").argParser(
        portNumber,
      ),
    )
    .addOption(
      new Option("--drop-port <port>", "egress port that means drop")
        .default(511)
        .argParser(portNumber),
    )
    .addOption(
      new Option(
        "-i, --interface <PORT@IFACE>",
        "attach network interface IFACE as PORT (repeatable)",
      )
        .default([], "none")
        .argParser(interfaceSpec),
    )
    .option("--no-p4", "start with no program; a controller sets one over P4Runtime")
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(Object.keys(LOG_LEVELS))
        .default("info"),
    )
    .addOption(
      new Option(
        "--pcap [dir]",
        "write every frame in and out of each interface to DIR/<iface>_in.pcap and _out.pcap",
      ).preset("."),
    )
    .addOption(
      new Option(
        "--metrics-addr <host:port>",
        "serve Prometheus metrics (ports, drops, pipeline pps, tables) on http://HOST:PORT/metrics",
      ).argParser(metricsAddress),
    )
    .showHelpAfterError("(softswitch --help lists the options)");
}

/** Checks that need several options together; returns the error text naming them. */
function crossCheck(json: string | undefined, o: CliOptions): string | undefined {
  if (json !== undefined && !o.p4) return "give either a JSON program or --no-p4, not both";
  if (json === undefined && o.p4) {
    return "missing JSON program: give the path of a bmv2 JSON file, or --no-p4 to start without one";
  }
  const tlsFiles = [o.grpcServerCacert, o.grpcServerCert, o.grpcServerKey].some((f) => f);
  if (!o.grpcServerSsl && (tlsFiles || o.grpcServerWithClientAuth)) {
    return "--grpc-server-cacert, --grpc-server-cert, --grpc-server-key and --grpc-server-with-client-auth need --grpc-server-ssl";
  }
  if (o.grpcServerSsl && !o.grpcServerCert) return "--grpc-server-ssl needs --grpc-server-cert";
  if (o.grpcServerSsl && !o.grpcServerKey) return "--grpc-server-ssl needs --grpc-server-key";
  if (o.grpcServerWithClientAuth && !o.grpcServerCacert) {
    return "--grpc-server-with-client-auth needs --grpc-server-cacert";
  }
  if (o.cpuPort !== undefined && o.cpuPort === o.dropPort) {
    return `--cpu-port ${o.cpuPort} is also the --drop-port`;
  }
  for (const { port, iface } of o.interface) {
    if (port === o.cpuPort) return `--interface ${port}@${iface}: port ${port} is the --cpu-port`;
    if (port === o.dropPort) return `--interface ${port}@${iface}: port ${port} is the --drop-port`;
  }
  return undefined;
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new StartupError(`${what} ${path}: ${(error as Error).message}`);
  }
}

/** The switch could not start; the message names what failed. */
class StartupError extends Error {
  override readonly name = "StartupError";
}

interface Running {
  device: SoftswitchDevice;
  ports: PcapPorts | undefined;
  server: RunningP4RuntimeServer;
  metrics: Server | undefined;
}

async function start(json: string | undefined, o: CliOptions, log: Logger): Promise<Running> {
  // Loaded only now, so argument errors and --help answer without loading gRPC and the protos.
  const { SoftswitchDevice } = await import("./device.js");
  const { startP4RuntimeServer } = await import("./p4runtime/server.js");
  const device = new SoftswitchDevice({
    deviceId: o.deviceId,
    ...(o.cpuPort !== undefined ? { cpuPort: o.cpuPort } : {}),
    dropPort: o.dropPort,
    log: (message) => log.info({ source: "dataplane" }, message),
    p4runtimeLog: (message) => log.warn({ source: "p4runtime" }, message),
  });
  if (json !== undefined) {
    const text = readFile(json, "JSON program").toString("utf8");
    try {
      device.loadJson(text);
    } catch (error) {
      throw new StartupError(`JSON program ${json}: ${(error as Error).message}`);
    }
    log.info({ json }, "program loaded");
  }
  let metrics: Server | undefined;
  if (o.metricsAddr) {
    const { SoftswitchMetrics } = await import("./metrics.js");
    try {
      const served = await new SoftswitchMetrics(device).listen(o.metricsAddr);
      metrics = served.server;
      log.info({ address: served.address }, `metrics on http://${served.address}/metrics`);
    } catch (error) {
      await device.close();
      throw new StartupError(`--metrics-addr ${o.metricsAddr}: ${(error as Error).message}`);
    }
  }
  let ports: PcapPorts | undefined;
  if (o.interface.length > 0) {
    ports = new PcapPorts({
      interfaces: o.interface,
      sink: device,
      ...(o.pcap !== undefined ? { captureDir: o.pcap } : {}),
      log,
    });
    device.attach(ports);
    for (const { port, iface } of o.interface) log.info({ port, iface }, "interface added");
  }
  const tls = o.grpcServerSsl
    ? {
        certChain: readFile(o.grpcServerCert as string, "--grpc-server-cert"),
        privateKey: readFile(o.grpcServerKey as string, "--grpc-server-key"),
        ...(o.grpcServerWithClientAuth
          ? { clientCa: readFile(o.grpcServerCacert as string, "--grpc-server-cacert") }
          : {}),
      }
    : undefined;
  let server: RunningP4RuntimeServer;
  try {
    server = await startP4RuntimeServer({
      device,
      address: o.grpcServerAddr,
      ...(tls ? { tls } : {}),
    });
  } catch (error) {
    metrics?.close();
    await device.close();
    throw new StartupError(`P4Runtime server on ${o.grpcServerAddr}: ${(error as Error).message}`);
  }
  const address = o.grpcServerAddr.startsWith("unix:") ? o.grpcServerAddr : server.address;
  log.info(
    { address, deviceId: String(o.deviceId), tls: o.grpcServerSsl },
    "P4Runtime server listening",
  );
  return { device, ports, server, metrics };
}

/** Closes the server first (no new writes), then the ports (captures flushed and closed). */
async function stop(running: Running, log: Logger, signal: string): Promise<void> {
  log.info({ signal }, "shutting down");
  await running.server.close();
  running.metrics?.close();
  await running.device.close();
  log.info("stopped");
}

async function main(argv: string[]): Promise<number> {
  const command = buildCommand().exitOverride();
  let json: string | undefined;
  let o: CliOptions;
  try {
    // bmv2 puts target options after a lone "--"; here they are ordinary options.
    command.parse(argv.filter((arg) => arg !== "--"));
    json = command.args[0];
    o = command.opts<CliOptions>();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version") return 0;
    return EXIT_USAGE; // commander has printed the error, naming the argument
  }
  const problem = crossCheck(json, o);
  if (problem) {
    process.stderr.write(`softswitch: error: ${problem}\n`);
    return EXIT_USAGE;
  }
  const log = pino(
    { name: "softswitch", level: LOG_LEVELS[o.logLevel] },
    pino.destination({ dest: 1, sync: true }),
  );
  let running: Running;
  try {
    running = await start(json, o, log);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error({ err: error }, message);
    process.stderr.write(`softswitch: ${message}\n`);
    return error instanceof PortError ? EXIT_USAGE : EXIT_RUNTIME;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting without a clean shutdown");
        resolve(EXIT_RUNTIME);
        return;
      }
      stopping = true;
      stop(running, log, signal).then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          resolve(EXIT_RUNTIME);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

main(process.argv).then((code) => process.exit(code));
