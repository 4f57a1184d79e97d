/**
 * Runs one nvgre-ctl command line and returns its exit status (exit-codes.ts); every failure
 * is printed as one line naming what is wrong. main.ts runs it for the process; tests run it
 * in-process with their own writers.
 */
import { CommanderError } from "commander";
import type { CliIo } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { colour, useColour } from "./output.js";
import { buildProgram } from "./program.js";

/** `argv` as process.argv gives it: the node binary and the script first. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  useColour(io.colour);
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors were printed.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      io.err(`${colour.bad("error:")} ${error.message}\n`);
      for (const line of error.detailLines) io.err(`${line}\n`);
      return error.exitCode;
    }
    io.err(`${colour.bad("error:")} ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.failed;
  }
}
