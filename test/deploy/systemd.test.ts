/**
 * deploy/systemd's units (issue 16): `systemd-analyze verify` accepts each with nothing to say
 * (it exits 0 even when it ignores a bad line, so its output must be empty too), and each keeps
 * the hardening the README promises. The commands they start are stand-ins in a temporary
 * directory: verify checks that ExecStart's program exists, and /usr/bin has none in a checkout.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";

const units: { file: string; verifyAs: string; required: RegExp[] }[] = [
  {
    file: "nvgre-ctl.service",
    verifyAs: "nvgre-ctl.service",
    required: [
      /^ExecStart=\/usr\/bin\/nvgre-ctl .*run/m,
      /^User=nvgre$/m,
      /^RuntimeDirectory=nvgre$/m,
      /^StateDirectory=nvgre$/m,
      /^ProtectSystem=strict$/m,
      /^NoNewPrivileges=yes$/m,
      /^CapabilityBoundingSet=$/m,
      /^PrivateTmp=yes$/m,
    ],
  },
  {
    file: "softswitch@.service",
    verifyAs: "softswitch@leaf1.service",
    required: [
      /^ExecStart=\/usr\/bin\/softswitch --no-p4 /m,
      /^User=nvgre$/m,
      /^ProtectSystem=strict$/m,
      /^NoNewPrivileges=yes$/m,
      /^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN$/m,
    ],
  },
];

describe("deploy/systemd units", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nvgre-units-"));
    mkdirSync(join(dir, "bin"));
    for (const command of ["nvgre-ctl", "softswitch"]) {
      writeFileSync(join(dir, "bin", command), "#!/bin/sh\n");
      chmodSync(join(dir, "bin", command), 0o755);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** verify's exit status and everything it printed, for a unit text placed as `name`. */
  function verify(text: string, file: string, verifyAs: string) {
    writeFileSync(join(dir, file), text.replaceAll("/usr/bin/", `${dir}/bin/`));
    const run = spawnSync("systemd-analyze", ["verify", join(dir, verifyAs)], {
      encoding: "utf8",
    });
    assert.equal(run.error, undefined, "systemd-analyze runs (make setup installs systemd)");
    return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
  }

  for (const unit of units) {
    test(`${unit.file}: systemd-analyze verify has nothing to report`, () => {
      const text = readFileSync(join(repoRoot, "deploy/systemd", unit.file), "utf8");
      assert.deepEqual(verify(text, unit.file, unit.verifyAs), { status: 0, output: "" });
    });

    test(`${unit.file}: dedicated user and hardening`, () => {
      const text = readFileSync(join(repoRoot, "deploy/systemd", unit.file), "utf8");
      for (const line of unit.required) assert.match(text, line);
    });
  }

  test("the check catches a bad line (verify's own exit status would not)", () => {
    const text = readFileSync(join(repoRoot, "deploy/systemd/nvgre-ctl.service"), "utf8");
    const broken = text.replace("ProtectSystem=strict", "ProtectSystem=stricter");
    assert.match(verify(broken, "nvgre-ctl.service", "nvgre-ctl.service").output, /stricter/);
  });

  test("the sysusers entry creates the units' user", () => {
    const text = readFileSync(join(repoRoot, "deploy/systemd/nvgre.sysusers.conf"), "utf8");
    assert.match(text, /^u nvgre - /m);
  });
});
