/** Starts our softswitch's CLI as its own process, like bmv2's, for tests and benchmarks. */
import { fileURLToPath } from "node:url";
import { CPU_PORT, type RunningSwitch, startSwitchProcess } from "./switch-process.js";

/** The built CLI (package.json bin "softswitch"). */
export const softswitchCli = fileURLToPath(new URL("../../softswitch/cli.js", import.meta.url));

export function startSoftswitch(options: { deviceId?: number } = {}): Promise<RunningSwitch> {
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
  );
}
