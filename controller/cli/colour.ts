/**
 * When nvgre-ctl and the demo colour what they print. picocolors' own rule also colours
 * whenever a CI variable is set, even into a pipe or a file; an operator who pipes
 * `nvgre-ctl status` into grep or a log wants plain text there too. So the rule here is the
 * terminal's: NO_COLOR (no-color.org) turns colour off, FORCE_COLOR turns it on (as Node
 * reads it: "0" and "false" mean off), otherwise colour only on a terminal that is not dumb.
 */
import pc from "picocolors";

export type Palette = ReturnType<typeof pc.createColors>;

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false";
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

/** picocolors' functions, colouring or passing text through unchanged. */
export function palette(enabled: boolean): Palette {
  return pc.createColors(enabled);
}

/** The palette for what this process prints on stdout. */
export function stdoutPalette(): Palette {
  return palette(colourWanted(process.stdout, process.env));
}
