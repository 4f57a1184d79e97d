/** Starts our softswitch's CLI as its own process, like bmv2's, for tests and benchmarks. */
import { fileURLToPath } from "node:url";
import {
  CPU_PORT,
  type RunningSwitch,
  type SwitchProcessOptions,
  startSwitchProcess,
} from "./switch-process.js";

/** The built CLI (package.json bin "softswitch"). */
export const softswitchCli = fileURLToPath(new URL("../../softswitch/cli.js", import.meta.url));

export function startSoftswitch(options: SwitchProcessOptions = {}): Promise<RunningSwitch> {
  const deviceId = options.deviceId ?? 1;
  return startSwitchProcess(
    "softswitch",
    process.execPath,
    (address) => [
      softswitchCli,
      "--device-id",
      String(deviceId),
      "--grpc-server-addr",
      address,
      "--cpu-port",
      String(CPU_PORT),
      "--no-p4",
    ],
    deviceId,
    options.address,
  );
}
