/**
 * Every fixture program's STF cases (test/fixtures/stf/*.stf) on each P4Runtime target:
 * bmv2's simple_switch_grpc (frames on veth ports) and, where the harness has it, the softswitch
 * behind its own P4Runtime server. Both are programmed by P4Info names with the same entries and
 * must produce the frames written in the file, which the softswitch's unit tests also check
 * through its API (test/softswitch/fixtures-stf.test.ts): the same JSON, entries and packets
 * give the same output everywhere. Each case gets a fresh switch. Skipped, visibly, where a
 * target is absent. Where the targets differ by design, each is held to what it does: a
 * "[fault]" case (a failed assert or assume) drops the packet on the softswitch, while bmv2
 * aborts the whole switch, which must then have ended with its "Assert error" / "Assume error"
 * after every frame before the fault came out as written. A case tagged "[P4Runtime: why]"
 * needs a control command P4Runtime cannot carry to either (value set members), one tagged
 * "[bmv2: why]" one PI refuses on bmv2 (register writes): there the target must refuse that
 * command, as PI does, and nothing else is checked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadPipeline } from "../../controller/p4rt/pipeline.js";
import { P4RuntimeStfTarget } from "../conformance/stf-p4runtime.js";
import { parseStf } from "../conformance/stf-parser.js";
import { fixtureBuild, fixtureCases, runCase } from "../softswitch/fixture.js";
import { type DataplaneTarget, type TargetKind, targets } from "../support/targets.js";

/** What a case asks of a target: everything, a refused command, or (bmv2) an abort. */
function expectation(kind: TargetKind, name: string): "all" | "refused" | "abort" {
  if (/\[P4Runtime: [^\]]+\]/.test(name)) return "refused";
  if (kind !== "bmv2") return "all";
  if (name.includes("[fault]")) return "abort";
  return /\[bmv2: [^\]]+\]/.test(name) ? "refused" : "all";
}

/** bmv2 ends its process on a failed assert / assume; a bounded wait for that end. */
async function abortOf(target: DataplaneTarget): Promise<string> {
  const ended = target.process?.ended;
  assert.ok(ended, "bmv2 runs as a process");
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("running"), 10_000));
  return Promise.race([ended, timeout]);
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
        it(c.name, { skip: factory.skip }, async () => {
          const ports = new Set<number>();
          for (const { command } of parseStf(c.text)) {
            if (command.kind === "packet" || command.kind === "expect") ports.add(command.port);
          }
          const target = await factory.start({ ports: [...ports], pipeline: pipeline() });
          try {
            const result = await runCase(fixture, c, P4RuntimeStfTarget.onHarness(target));
            const expected = expectation(factory.kind, c.name);
            if (expected === "refused") {
              assert.notDeepEqual(result.commandErrors, [], "the command the target refuses");
              return;
            }
            assert.deepEqual(result.commandErrors, [], "control commands the switch refused");
            assert.equal(result.mismatch, undefined);
            if (expected === "abort") {
              assert.notEqual(await abortOf(target), "running", "bmv2 ended after the fault");
              assert.match(target.process?.log() ?? "", /Assert error|Assume error/);
            }
          } finally {
            await target.close();
          }
        });
      }
    });
  }
}
