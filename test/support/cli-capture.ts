/** Runs nvgre-ctl in-process against a daemon socket, capturing what it prints and its exit status. */
import { runCli } from "../../controller/cli/run-cli.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function runCaptured(socket: string, ...args: string[]): Promise<CliRun> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "nvgre-ctl", "--socket", socket, ...args], {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    interactive: false,
    colour: false,
  });
  return { code, out, err };
}
