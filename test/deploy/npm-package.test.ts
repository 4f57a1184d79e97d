/**
 * The package `npm pack` makes installs outside the checkout (issue 16): installed with
 * `npm install -g` into a temporary prefix (dependencies from npm's cache, as `make setup`
 * left it), its `nvgre-ctl` and `softswitch` commands run, and the compiled P4 program is
 * inside (the installed `nvgre-ctl validate` compiles the example fabric against it); no
 * package it installed needs a Node newer than the project's oldest.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";
import { packagesNeedingNewerNode } from "../support/engines.js";

function run(command: string, args: string[], cwd = repoRoot) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 540_000 });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

describe("npm package", { timeout: 600_000 }, () => {
  let dir = "";
  let prefix = "";
  let installed = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nvgre-pack-"));
    const pack = run("npm", ["pack", "--pack-destination", dir, "--silent"]);
    assert.equal(pack.status, 0, pack.err);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote a tarball");
    prefix = join(dir, "prefix");
    const install = run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        // The native modules build on install (the embedded store's SQLite, pcap ports).
        "--allow-scripts=better-sqlite3,cap",
        join(dir, tarball),
      ],
      dir,
    );
    assert.equal(install.status, 0, install.err);
    installed = join(prefix, "lib/node_modules/nvgre-gateway");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // A global install resolves the dependencies afresh, where the checkout's lock file does not
  // apply: light-my-request's newest 6.x (under fastify) would bring cookie 2, which needs Node 22.
  test("no package of the global install needs a Node newer than 20", () => {
    assert.deepEqual(packagesNeedingNewerNode(join(installed, "node_modules")), []);
  });

  test("nvgre-ctl --help runs from the installed bin", () => {
    const help = run(join(prefix, "bin/nvgre-ctl"), ["--help"], dir);
    assert.equal(help.status, 0, help.err);
    assert.match(help.out, /Usage: nvgre-ctl/);
    assert.match(help.out, /validate/);
  });

  test("softswitch --help runs from the installed bin", () => {
    const help = run(join(prefix, "bin/softswitch"), ["--help"], dir);
    assert.equal(help.status, 0, help.err);
    assert.match(help.out, /Usage: softswitch/);
  });

  test("the compiled P4 program, its drop reasons and the service units are inside", () => {
    for (const file of [
      "p4/build/nvgre.json",
      "p4/build/nvgre.p4info.bin",
      "p4/build/nvgre.enums.json",
      "deploy/systemd/nvgre-ctl.service",
      "controller/intent/fabric.example.yaml",
    ]) {
      assert.ok(existsSync(join(installed, file)), `${file} is in the package`);
    }
    assert.ok(!existsSync(join(installed, "dist/test")), "tests are not shipped");
  });

  test("the installed package opens an embedded intent store (its SQLite module was built)", () => {
    const store = join(dir, "store");
    const result = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { openEmbeddedStore } = await import(${JSON.stringify(join(installed, "dist/controller/intent/store/embedded.js"))});
         const s = await openEmbeddedStore(${JSON.stringify(store)});
         await s.commit({ puts: [{ key: "k", value: 1 }] });
         console.log(JSON.stringify((await s.get("k")).value));
         await s.close();`,
      ],
      dir,
    );
    assert.equal(result.status, 0, result.err);
    assert.equal(result.out.trim(), "1");
  });

  test("the installed nvgre-ctl validates the example fabric against its own P4Info", () => {
    const example = join(installed, "controller/intent/fabric.example.yaml");
    const result = run(join(prefix, "bin/nvgre-ctl"), ["validate", "-f", example], dir);
    assert.equal(result.status, 0, result.err);
    assert.match(result.out, /valid \(4 switches, .* P4Runtime entities\)/);
  });
});
