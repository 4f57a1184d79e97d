/**
 * `nvgre-ctl run`: the daemon in the foreground. Structured logs (pino, JSON lines) go to
 * stdout for journald or a collector; SIGINT/SIGTERM stop it cleanly (sessions closed, switch
 * state untouched, socket removed).
 */
import { rmSync } from "node:fs";
import { pino } from "pino";
import { daemonRoutes } from "./api/routes.js";
import { startApiServer } from "./api/server.js";
import { type DaemonOverrides, loadDaemonConfig } from "./config.js";
import { Daemon } from "./daemon.js";
import { openReplica } from "./replica.js";

export async function runDaemonCommand(overrides: DaemonOverrides): Promise<void> {
  const config = loadDaemonConfig(overrides);
  const logger = pino({ level: config.logLevel, base: { pid: process.pid, name: "nvgre-daemon" } });
  const { store, election } = await openReplica(config);
  const daemon = new Daemon(config, store, election, logger);
  await daemon.start();
  const api = await startApiServer({
    socketPath: config.socketPath,
    ...(config.listen ? { listen: config.listen } : {}),
    routes: daemonRoutes(daemon),
    logger,
  });
  logger.info(
    {
      socket: api.socketPath,
      tcp: api.tcpAddress,
      store: daemon.storeLocation,
      revision: daemon.revision,
    },
    `API on ${api.socketPath}${api.tcpAddress ? ` and ${api.tcpAddress}` : ""}`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await api.close();
  rmSync(config.socketPath, { force: true });
  await daemon.stop();
  await store.close();
}
