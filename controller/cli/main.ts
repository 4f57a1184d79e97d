#!/usr/bin/env node
/** nvgre-ctl: the operator's command line (package.json bin "nvgre-ctl"). */
import { processIo } from "./context.js";
import { runCli } from "./run-cli.js";

// `nvgre-ctl events -f | head`: the reader went away; end quietly, as a shell tool does.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv, processIo);
