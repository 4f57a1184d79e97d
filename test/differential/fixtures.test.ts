/**
 * Every fixture program's STF cases (test/fixtures/stf/*.stf) on each P4Runtime target:
 * bmv2's simple_switch_grpc (frames on veth ports) and, where the harness has it, the softswitch
 * behind its own P4Runtime server. Both are programmed by P4Info names with the same entries and
 * must produce the frames written in the file, which the softswitch's unit tests also check
 * through its API (test/softswitch/fixtures-stf.test.ts): the same JSON, entries and packets
 * give the same output everywhere. Each case gets a fresh switch. Skipped, visibly, where a
 * target is absent, and on bmv2 for cases it cannot run: "[fault]" (a failed assert: bmv2
 * aborts the whole switch, the softswitch drops the packet) and "[bmv2: why]". A case tagged
 * "[P4Runtime: why]" needs a control command P4Runtime cannot carry to either (value set
 * members): there the target must refuse that command, as PI does, and nothing else is checked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadPipeline } from "../../controller/p4rt/pipeline.js";
import { P4RuntimeStfTarget } from "../conformance/stf-p4runtime.js";
import { parseStf } from "../conformance/stf-parser.js";
import { fixtureBuild, fixtureCases, runCase } from "../softswitch/fixture.js";
import { type TargetKind, targets } from "../support/targets.js";

/** Why a target cannot run a case, from the tags in its name; false when it can. */
function cannot(kind: TargetKind, name: string): string | false {
  if (kind !== "bmv2") return false;
  if (name.includes("[fault]")) return "bmv2 aborts the whole switch on a failed assert";
  return /\[bmv2: ([^\]]+)\]/.exec(name)?.[1] ?? false;
}

for (const factory of targets()) {
  for (const { fixture, cases } of fixtureCases()) {
    describe(`${fixture}.p4 fixture on ${factory.kind} through P4Runtime (STF cases)`, () => {
      const pipeline = () =>
        loadPipeline({
          json: join(fixtureBuild, `${fixture}.json`),
          p4info: join(fixtureBuild, `${fixture}.p4info.bin`),
        });
      for (const c of cases) {
        it(c.name, { skip: factory.skip || cannot(factory.kind, c.name) }, async () => {
          const ports = new Set<number>();
          for (const { command } of parseStf(c.text)) {
            if (command.kind === "packet" || command.kind === "expect") ports.add(command.port);
          }
          const target = await factory.start({ ports: [...ports], pipeline: pipeline() });
          try {
            const result = await runCase(fixture, c, P4RuntimeStfTarget.onHarness(target));
            if (/\[P4Runtime: [^\]]+\]/.test(c.name)) {
              assert.notDeepEqual(result.commandErrors, [], "the command P4Runtime cannot carry");
              return;
            }
            assert.deepEqual(result.commandErrors, [], "control commands the switch refused");
            assert.equal(result.mismatch, undefined);
          } finally {
            await target.close();
          }
        });
      }
    });
  }
}
