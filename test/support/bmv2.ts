/** Starts bmv2's simple_switch_grpc for a test or benchmark, on loopback only, with no program. */
import {
  CPU_PORT,
  type RunningSwitch,
  type SwitchProcessOptions,
  startSwitchProcess,
} from "./switch-process.js";
import { findTool } from "./toolchain.js";

export { CPU_PORT, freePort, type RunningSwitch } from "./switch-process.js";

export async function startBmv2(options: SwitchProcessOptions = {}): Promise<RunningSwitch> {
  const tool = findTool("simple_switch_grpc");
  if (!tool.found) throw new Error(tool.reason);
  const deviceId = options.deviceId ?? 1;
  return startSwitchProcess(
    "bmv2",
    tool.path,
    (address) => [
      "--device-id",
      String(deviceId),
      "--log-console",
      "--no-p4",
      "--",
      "--grpc-server-addr",
      address,
      "--cpu-port",
      String(CPU_PORT),
    ],
    deviceId,
    options.address,
  );
}
