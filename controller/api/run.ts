/**
 * `nvgre-ctl run`: the daemon in the foreground. Structured logs (pino, JSON lines) go to
 * stdout for journald or a collector; SIGINT/SIGTERM stop it cleanly (sessions closed, switch
 * state untouched, socket removed).
 *
 * Whole or gone: the config is read and every listener bound before the daemon connects to
 * any switch, so a bad config, a socket another daemon answers on or a refused TCP address
 * ends the command (exit 1) without a switch ever hearing from it.
 */
import { rmSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { pino } from "pino";
import { type DaemonOverrides, loadDaemonConfig } from "../daemon/config.js";
import { Daemon } from "../daemon/daemon.js";
import { openReplica } from "../daemon/replica.js";
import { DaemonMetrics } from "./metrics.js";
import { daemonRoutes, metricsRoutes } from "./routes.js";
import { startApiServer } from "./server.js";
import { webRoutes } from "./web.js";

/**
 * How far V8 lets the heap grow past what survived the last full collection before it collects
 * again, in percent. V8's own choice (up to about 2×) let a daemon holding a 100,000-endpoint
 * fabric (about 430 MB live) reach 1.25 GB of RSS while it wrote 16 switches; 50 % bounds that
 * peak at 0.86 GB for about 5 % more apply time (`bench/apply-rss`, bench/README.md). V8 reads
 * it at every collection, so setting it at start-up takes effect for the daemon's whole life.
 */
const HEAP_GROWING_PERCENT = 50;

export async function runDaemonCommand(overrides: DaemonOverrides): Promise<void> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const config = loadDaemonConfig(overrides);
  const logger = pino({ level: config.logLevel, base: { pid: process.pid, name: "nvgre-daemon" } });
  // The store first (a second daemon on the same embedded store is refused before it binds
  // anything), then the listeners, and only then the switches.
  const { store, election } = await openReplica(config);
  const daemon = new Daemon(config, store, election, logger);
  const metrics = new DaemonMetrics(daemon, { countersIntervalMs: config.metricsIntervalMs });
  const api = await startApiServer({
    socketPath: config.socketPath,
    ...(config.listen
      ? {
          tls: {
            listen: config.listen.address,
            cert: config.listen.cert,
            key: config.listen.key,
            clientCa: config.listen.clientCa,
          },
        }
      : {}),
    routes: [...daemonRoutes(daemon), ...metricsRoutes(metrics), ...webRoutes()],
    logger,
  }).catch(async (error: unknown) => {
    metrics.close();
    await store.close();
    throw error;
  });
  try {
    await daemon.start();
  } catch (error) {
    metrics.close();
    await api.close();
    rmSync(config.socketPath, { force: true });
    await daemon.stop();
    await store.close();
    throw error;
  }
  logger.info(
    {
      socket: api.socketPath,
      tcp: api.tcpAddress,
      store: daemon.storeLocation,
      revision: daemon.revision,
    },
    `API on ${api.socketPath}${api.tcpAddress ? ` and ${api.tcpAddress} (mTLS; web view at https://${api.tcpAddress}/)` : ""}`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  metrics.close();
  await api.close();
  rmSync(config.socketPath, { force: true });
  await daemon.stop();
  await store.close();
}
