/**
 * Every fixture program's STF cases (test/fixtures/stf/*.stf) on bmv2's simple_switch_grpc,
 * programmed through P4Runtime by P4Info names, frames on veth ports: bmv2 must produce the
 * frames written in the file, as the softswitch does (test/softswitch/fixtures-stf.test.ts).
 * Each case gets a fresh switch. Skipped, visibly, where simple_switch_grpc is absent, and for
 * cases bmv2 cannot run: "[fault]" (a failed assert: bmv2 aborts the whole switch, the softswitch
 * drops the packet) and "[bmv2: why]".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadPipeline } from "../../controller/p4rt/pipeline.js";
import { P4RuntimeStfTarget } from "../conformance/stf-p4runtime.js";
import { parseStf } from "../conformance/stf-parser.js";
import { fixtureBuild, fixtureCases, runCase } from "../softswitch/fixture.js";
import { targets } from "../support/targets.js";

const bmv2 = targets().find((t) => t.kind === "bmv2");

/** Why bmv2 cannot run a case, from the tags in its name; false when it can. */
function bmv2Cannot(name: string): string | false {
  if (name.includes("[fault]")) return "bmv2 aborts the whole switch on a failed assert";
  return /\[bmv2: ([^\]]+)\]/.exec(name)?.[1] ?? false;
}
const skip = bmv2?.skip ?? "no bmv2 target";

for (const { fixture, cases } of fixtureCases()) {
  describe(`${fixture}.p4 fixture on bmv2 (STF cases)`, () => {
    const pipeline = () =>
      loadPipeline({
        json: join(fixtureBuild, `${fixture}.json`),
        p4info: join(fixtureBuild, `${fixture}.p4info.bin`),
      });
    for (const c of cases) {
      const caseSkip = skip || bmv2Cannot(c.name);
      it(c.name, { skip: caseSkip }, async () => {
        const ports = new Set<number>();
        for (const { command } of parseStf(c.text)) {
          if (command.kind === "packet" || command.kind === "expect") ports.add(command.port);
        }
        const target = await (bmv2 as NonNullable<typeof bmv2>).start({
          ports: [...ports],
          pipeline: pipeline(),
        });
        try {
          const result = await runCase(fixture, c, new P4RuntimeStfTarget(target));
          assert.deepEqual(result.commandErrors, [], "control commands the switch refused");
          assert.equal(result.mismatch, undefined);
        } finally {
          await target.close();
        }
      });
    }
  });
}
