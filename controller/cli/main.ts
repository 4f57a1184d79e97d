#!/usr/bin/env node
/** nvgre-ctl: the operator's command line (package.json bin "nvgre-ctl"). */
import { processIo } from "./context.js";
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(process.argv, processIo);
