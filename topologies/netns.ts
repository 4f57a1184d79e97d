/**
 * A network namespace per test target, holding one veth pair per switch data port: `s<port>`
 * for the switch, `h<port>` for the test's packet agent, and a directory of the same name in
 * the temporary directory for its sockets. Names are unique per process
 * (`nvgre-dp-<pid>-<n>`); every namespace is removed, with whatever still runs in it and its
 * directory, by
 * remove(), at process exit, on SIGINT/SIGTERM, and, for namespaces of processes that died
 * without cleaning up (SIGKILL), by the next test process that creates one.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const prefix = "nvgre-dp-";
const live = new Set<string>();
let counter = 0;
let hooksInstalled = false;

export class NamespaceError extends Error {
  override readonly name = "NamespaceError";
}

function ip(args: string[]): string {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.error) throw new NamespaceError(`ip ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new NamespaceError(`ip ${args.join(" ")} failed: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Kills what runs in the namespace and deletes it; never throws (used on the way out). */
function destroy(name: string): void {
  const pids = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" }).stdout ?? "";
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  spawnSync("ip", ["netns", "delete", name]);
  rmSync(join(tmpdir(), name), { recursive: true, force: true });
  live.delete(name);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes namespaces left behind by test processes that no longer exist. */
function sweepOrphans(): void {
  const listing = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  for (const line of listing.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const owner = name.startsWith(prefix) ? Number(name.slice(prefix.length).split("-")[0]) : NaN;
    if (Number.isInteger(owner) && owner !== process.pid && !processAlive(owner)) destroy(name);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const name of [...live]) destroy(name);
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const name of [...live]) destroy(name);
      process.kill(process.pid, signal);
    });
  }
}

const switchIface = (port: number) => `s${port}`;
const hostIface = (port: number) => `h${port}`;

export class TestNamespace {
  /** Where the namespace's processes put their sockets; removed with the namespace. */
  readonly runtimeDir: string;

  private constructor(
    readonly name: string,
    readonly ports: readonly number[],
  ) {
    this.runtimeDir = join(tmpdir(), name);
  }

  /** Creates the namespace with IPv6 off (no router/neighbour chatter) and the veth pairs. */
  static create(ports: readonly number[], mtu = 9500): TestNamespace {
    installHooks();
    sweepOrphans();
    const name = `${prefix}${process.pid}-${counter++}`;
    ip(["netns", "add", name]);
    live.add(name);
    try {
      mkdirSync(join(tmpdir(), name));
      const sysctl = spawnSync("ip", [
        "netns",
        "exec",
        name,
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
      ]);
      if (sysctl.status !== 0) throw new NamespaceError(`${name}: cannot disable IPv6`);
      for (const port of ports) {
        const [sw, host] = [switchIface(port), hostIface(port)];
        ip(["-n", name, "link", "add", sw, "type", "veth", "peer", "name", host]);
        for (const iface of [sw, host]) {
          ip(["-n", name, "link", "set", iface, "mtu", String(mtu), "up"]);
        }
      }
    } catch (error) {
      destroy(name);
      throw error;
    }
    return new TestNamespace(name, ports);
  }

  /** The switch's end of a data port's veth pair. */
  switchIface(port: number): string {
    return switchIface(port);
  }

  /** The test's end of a data port's veth pair. */
  hostIface(port: number): string {
    return hostIface(port);
  }

  /** The argument vector that runs `command` inside the namespace. */
  exec(command: string, args: string[]): { command: string; args: string[] } {
    return { command: "ip", args: ["netns", "exec", this.name, command, ...args] };
  }

  remove(): void {
    destroy(this.name);
  }
}
