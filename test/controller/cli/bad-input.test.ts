/**
 * Bad input, table-driven (issue 16): each fabric file below is given to `nvgre-ctl apply`
 * through a real daemon programming a real switch, and to the offline commands (`validate`,
 * `apply --dry-run --offline`) with no daemon. Each case names the exit status and the message;
 * every path must print the same, and afterwards the daemon's intent revision and everything
 * the switch holds are as they were.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { StatusResponse } from "../../../controller/daemon/protocol.js";
import { runCaptured } from "../../support/cli-capture.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "../daemon/daemon-on-target.js";

/** leaf1: access ports 1 and 2 in VSID 0x5001, port 3 a fabric link. */
function fabricText(address: string, deviceId: number): string {
  return `switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 3, kind: fabric, mtu: 9000 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "02:00:00:00:01:01", ips: [10.1.1.10], location: { switch: leaf1, port: 1 } }
`;
}

/** Ten levels of aliases, each ten of the one before: 10^10 nodes if expanded. */
function aliasBomb(good: string): string {
  let text = `${good}x-bomb:\n  a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n`;
  for (let i = 1; i <= 10; i++) {
    text += `  a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(", ")}]\n`;
  }
  return text;
}

interface Case {
  name: string;
  /** The file's bytes, from the good fabric text. */
  file: (good: string) => string | Buffer;
  /** Extra arguments (e.g. a lower --max-bytes). */
  args?: string[];
  code: number;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: "a device id written as a word",
    file: (good) => good.replace(/deviceId: \d+/, 'deviceId: "one"'),
    code: 4,
    message:
      /line 4:\d+: switches\[0\]\.p4runtime\.deviceId: expected an integer, got the string "one"/,
  },
  {
    name: "a port number written as a string",
    file: (good) => good.replace("{ port: 2, kind: access", '{ port: "3", kind: access'),
    code: 4,
    message: /switches\[0\]\.ports\[1\]\.port: expected an integer, got the string "3"/,
  },
  {
    name: "a negative port number",
    file: (good) => good.replace("{ port: 2, kind: access", "{ port: -1, kind: access"),
    code: 4,
    message: /switches\[0\]\.ports\[1\]\.port: port -1 is outside 0–510/,
  },
  {
    name: "the target's drop port 511 as an access port",
    file: (good) => good.replace("{ port: 2, kind: access", "{ port: 511, kind: access"),
    code: 4,
    message:
      /port 511 is outside 0–510 \(ports are 9 bits on every target; 511 is the drop port of bmv2 and the softswitch\)/,
  },
  {
    name: "the CPU port as a fabric port",
    file: (good) => good.replace("{ port: 3, kind: fabric", "{ port: 510, kind: fabric"),
    code: 4,
    message: /switches\[0\]\.ports\[2\]\.port: port 510 is leaf1's CPU port/,
  },
  {
    name: "an impossible P4Runtime address",
    file: (good) => good.replace(/address: "[^"]+"/, 'address: "999.999.1.1:99999"'),
    code: 4,
    message:
      /p4runtime\.address: "999\.999\.1\.1:99999" is not a usable address: "999\.999\.1\.1" is not an IPv4 address .*; port 99999 is outside 1–65535/,
  },
  {
    name: "a YAML alias bomb",
    file: aliasBomb,
    code: 4,
    message: /line 1[78]:\d+: \(top level\): YAML: aliases expand more than 100 times/,
  },
  {
    name: "nesting 10,000 levels deep",
    file: (good) => `${good}deep: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`,
    code: 4,
    message: /line 16:1: \(top level\): YAML: nested deeper than 32 levels/,
  },
  {
    name: "bytes that are not UTF-8",
    file: (good) =>
      Buffer.concat([Buffer.from(good.replace("name: web,", "name: ")), Buffer.from([0xff])]),
    code: 4,
    message: /not UTF-8: byte 0xff at offset \d+ is not valid UTF-8/,
  },
  {
    name: "a file over the configured limit",
    file: (good) => good,
    args: ["--max-bytes", "100"],
    code: 4,
    message: /is larger than the limit of 100 bytes \(--max-bytes or NVGRE_MAX_INTENT_BYTES\)/,
  },
];

for (const factory of targets()) {
  describe(`bad fabric files change nothing, through the daemon and offline, on ${factory.kind}`, () => {
    const { skip } = factory;
    let good = "";
    const harness = daemonOnTarget(factory, {
      ports: [1, 2, 3],
      fabric: (address, deviceId) => {
        good = fabricText(address, deviceId);
        return good;
      },
    });

    /** The daemon's intent revision and every entity the switch holds, as it reads them. */
    async function state(): Promise<{ revision: number; entities: string[] }> {
      const status = await harness.cli("status", "-o", "json");
      const revision = (JSON.parse(status.out) as StatusResponse).daemon.intentRevision;
      const entities = await harness.target.client.readAll([{ table_entry: {} }]);
      return { revision, entities: entities.map((e) => JSON.stringify(e)).sort() };
    }

    for (const c of cases) {
      test(`${c.name}: exit ${c.code}, the same message through the daemon and offline`, {
        skip,
      }, async () => {
        const before = await state();
        assert.ok(before.revision >= 1 && before.entities.length > 0);
        const file = join(harness.dir, `${c.name.replaceAll(/\W+/g, "-")}.yaml`);
        writeFileSync(file, c.file(good));
        const extra = c.args ?? [];
        const runs = {
          daemon: await harness.cli("apply", "-f", file, ...extra),
          validate: await runCaptured("/nonexistent.sock", "validate", "-f", file, ...extra),
          offline: await runCaptured(
            "/nonexistent.sock",
            "apply",
            "--dry-run",
            "--offline",
            "-f",
            file,
            ...extra,
          ),
        };
        for (const [path, run] of Object.entries(runs)) {
          assert.equal(run.code, c.code, `${path}: ${run.err}`);
          assert.match(run.err, c.message, path);
          assert.equal(run.err, runs.daemon.err, `${path} prints what the daemon's answer prints`);
        }
        assert.deepEqual(await state(), before, "revision and switch contents unchanged");
      });
    }

    test("apply -f /dev/zero stops at the limit (exit 4) and changes nothing", {
      skip,
    }, async () => {
      const before = await state();
      const run = await harness.cli("apply", "-f", "/dev/zero", "--max-bytes", "1048576");
      assert.equal(run.code, 4, run.err);
      assert.match(run.err, /\/dev\/zero is larger than the limit of 1 MiB/);
      assert.deepEqual(await state(), before);
    });
  });
}

describe("the socket option names what is wrong with the path", () => {
  const table: { socket: string; message: RegExp }[] = [
    { socket: "/etc/passwd", message: /\/etc\/passwd: it is not a socket but a regular file/ },
    { socket: "/etc", message: /\/etc: it is not a socket but a directory/ },
    { socket: "/nonexistent/nvgre.sock", message: /no such socket/ },
  ];
  for (const row of table) {
    test(`-s ${row.socket}: exit 3`, async () => {
      const run = await runCaptured(row.socket, "status");
      assert.equal(run.code, 3);
      assert.match(run.err, row.message);
      assert.doesNotMatch(run.err, /stale socket/);
    });
  }
});
