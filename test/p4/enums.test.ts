/**
 * The program's enums reach the controller as generated data: `make p4` reads each
 * `enum bit<N> Name { MEMBER = value, // description }` of p4/include/defines.p4 into
 * p4/build/nvgre.enums.json (test/support/p4-enum-declarations.ts), refusing a member without
 * a description; the controller loads that file and checks it against the P4Info
 * (controller/p4rt/enums.ts). These run without p4c; build-fresh.test.ts reruns p4c.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { nvgreBuild } from "../../controller/nvgre-build.js";
import { loadP4Enums, P4EnumsError } from "../../controller/p4rt/enums.js";
import { P4InfoIndex } from "../../controller/p4rt/p4info.js";
import { repoRoot } from "../../topologies/repo.js";
import { EnumDeclarationError, enumDeclarations } from "../support/p4-enum-declarations.js";

const definesPath = "p4/include/defines.p4";
const defines = readFileSync(join(repoRoot, definesPath), "utf8");
const p4info = P4InfoIndex.fromBinaryFile(nvgreBuild.p4info);
const dir = mkdtempSync(join(tmpdir(), "p4-enums-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the committed enums file is what the enum declarations of defines.p4 give", () => {
  const committed = JSON.parse(readFileSync(nvgreBuild.enums, "utf8"));
  assert.deepEqual(committed, enumDeclarations(defines, definesPath));
  assert.deepEqual(Object.keys(committed.enums).sort(), [
    "CaFamily_t",
    "DropReason_t",
    "FabricAction_t",
    "ForwardKind_t",
    "PortType_t",
    "PuntReason_t",
  ]);
});

test("a member is read with its value and the comment beside it", () => {
  const enums = enumDeclarations(
    "// x\nenum bit<8> Reason_t {\n    NONE = 0,   // not dropped\n    BAD  = 0x21 // bad input (R1)\n}\n",
    "x.p4",
  );
  assert.deepEqual(enums, {
    source: "x.p4",
    enums: {
      Reason_t: {
        bitwidth: 8,
        members: [
          { name: "NONE", value: 0, description: "not dropped" },
          { name: "BAD", value: 33, description: "bad input (R1)" },
        ],
      },
    },
  });
});

test("a member without a description, or a declaration it cannot read, names the line", () => {
  assert.throws(
    () => enumDeclarations("enum bit<8> Reason_t {\n    NONE = 0,\n}\n", "x.p4"),
    (error: unknown) =>
      error instanceof EnumDeclarationError &&
      /x\.p4:2: in enum Reason_t, expected "NAME = value, \/\/ description", got "NONE = 0,"/.test(
        error.message,
      ),
  );
  assert.throws(
    () => enumDeclarations("enum bit<8> Reason_t { NONE = 0 }\n", "x.p4"),
    /x\.p4:1: write an enum as "enum bit<N> Name \{" on one line/,
  );
  assert.throws(
    () => enumDeclarations("enum bit<8> Reason_t {\n    NONE = 0, // none", "x.p4"),
    /enum Reason_t is not closed/,
  );
});

test("the controller refuses an enums file that is missing or disagrees with the P4Info", () => {
  const missing = join(dir, "missing.enums.json");
  assert.throws(
    () => loadP4Enums(missing, p4info),
    (error: unknown) =>
      error instanceof P4EnumsError &&
      error.message.startsWith(missing) &&
      /make p4/.test(error.message),
  );
  // PuntReason_t is in the P4Info too (packet_in.punt_reason): a renumbered member is caught.
  const enums = enumDeclarations(defines, definesPath);
  const punt = enums.enums.PuntReason_t?.members ?? [];
  assert.ok(punt.length > 1);
  (punt[1] as { value: number }).value = 9;
  const wrong = join(dir, "wrong.enums.json");
  writeFileSync(wrong, JSON.stringify(enums));
  assert.throws(() => loadP4Enums(wrong, p4info), /PuntReason_t is \{NONE=0, MTU_EXCEEDED=9, /);
  writeFileSync(wrong, JSON.stringify({ source: definesPath, enums: { X: { bitwidth: 2 } } }));
  assert.throws(() => loadP4Enums(wrong, p4info), P4EnumsError);
});
