/**
 * Where the Mininet fabrics can run, and on which switch targets. An e2e test is skipped,
 * with the reason, only where Mininet cannot run (not root, no `mn`, no Mininet under Debian's
 * python3) or where its switch target is not installed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { softswitchCli } from "../softswitch.js";
import { skipUnless } from "../toolchain.js";
import { type SwitchTarget, systemPython } from "./fabric.js";

let cached: false | string | undefined;

/** false when Mininet fabrics can run here, else why not (node:test's `skip`). */
export function skipUnlessMininet(): false | string {
  if (cached !== undefined) return cached;
  if (process.getuid?.() !== 0) {
    cached = "Mininet needs root (network namespaces, veth pairs)";
  } else if (spawnSync("sh", ["-c", "command -v mn"]).status !== 0) {
    cached = "Mininet is not installed (`mn` not on PATH; make setup installs it)";
  } else {
    const probe = spawnSync(systemPython, ["-c", "import mininet.net"], { encoding: "utf8" });
    cached =
      probe.status === 0 ? false : `${systemPython} cannot import mininet: ${probe.stderr.trim()}`;
  }
  return cached;
}

export interface FabricTarget {
  target: SwitchTarget;
  skip: false | string;
}

/** The targets a fabric test runs on, each with its skip reason: the softswitch always
 * (it is built with the project), bmv2 where simple_switch_grpc is installed. */
export function fabricTargets(): FabricTarget[] {
  const mininet = skipUnlessMininet();
  return [
    {
      target: "softswitch",
      skip: mininet || (existsSync(softswitchCli) ? false : `${softswitchCli} is not built`),
    },
    { target: "bmv2", skip: mininet || skipUnless("simple_switch_grpc") },
  ];
}
