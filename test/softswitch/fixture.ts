/**
 * The committed p4c builds of test/fixtures/p4/*.p4 (made by `make p4`) and their STF cases
 * (test/fixtures/stf/NAME.stf, expected frames written by hand), run on a SimpleSwitch.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { SimpleSwitch, type SwitchOptions } from "../../softswitch/v1model/switch.js";
import { repoRoot } from "../../topologies/repo.js";
import { parseStf, type StfCase, splitStfCases } from "../conformance/stf-parser.js";
import { StfProgram } from "../conformance/stf-program.js";
import { runStf, type StfRunResult, type StfTarget } from "../conformance/stf-runner.js";
import { SoftswitchStfTarget } from "../conformance/stf-softswitch.js";

export const fixtureBuild = join(repoRoot, "test/fixtures/build");
const stfDir = join(repoRoot, "test/fixtures/stf");

export function fixtureJson(name: string): string {
  return readFileSync(join(fixtureBuild, `${name}.json`), "utf8");
}

export function fixtureSwitch(name: string, options: SwitchOptions = {}): SimpleSwitch {
  return new SimpleSwitch(fixtureJson(name), options);
}

/** Every fixture with an STF file, and its cases. */
export function fixtureCases(): { fixture: string; cases: StfCase[] }[] {
  if (!existsSync(stfDir)) return [];
  return readdirSync(stfDir)
    .filter((f) => f.endsWith(".stf"))
    .sort()
    .map((f) => ({
      fixture: basename(f, ".stf"),
      cases: splitStfCases(readFileSync(join(stfDir, f), "utf8")),
    }));
}

/** Runs one case on a target already running the fixture. */
export function runCase(fixture: string, c: StfCase, target: StfTarget): Promise<StfRunResult> {
  return runStf(parseStf(c.text), new StfProgram(JSON.parse(fixtureJson(fixture))), target);
}

/** Runs one case on a fresh softswitch; faults (packets the switch dropped on an error) too. */
export async function runCaseOnSoftswitch(
  fixture: string,
  c: StfCase,
): Promise<StfRunResult & { faults: string[] }> {
  const faults: string[] = [];
  const sw = fixtureSwitch(fixture, { onFault: (e) => faults.push(String(e)) });
  return { ...(await runCase(fixture, c, new SoftswitchStfTarget(sw))), faults };
}
