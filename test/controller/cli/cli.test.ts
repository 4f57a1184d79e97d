/**
 * nvgre-ctl against a scripted daemon API (the real API server with canned routes): argument
 * handling, what each command sends, output formats for people and scripts, and the exit
 * statuses scripts rely on. The CLI runs in-process (runCli) except where the process itself
 * matters (exit status of the bin, shell completion).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { parse as parseYaml } from "yaml";
import { ApiError } from "../../../controller/api/errors.js";
import {
  type ApiServer,
  listenAddress,
  type Route,
  startApiServer,
} from "../../../controller/api/server.js";
import { colourWanted } from "../../../controller/cli/colour.js";
import type {
  ChangeResult,
  GetResponse,
  StatusResponse,
  SwitchPlan,
} from "../../../controller/daemon/protocol.js";
import { runCaptured } from "../../support/cli-capture.js";

const cliMain = fileURLToPath(new URL("../../../controller/nvgre-ctl/main.js", import.meta.url));

/**
 * The bin as a process. Its environment is the test's minus the colour switches, so what it
 * prints does not depend on whether the tests run on a terminal or in CI; `env` adds to it.
 */
function runBin(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const { FORCE_COLOR: _force, NO_COLOR: _no, ...inherited } = process.env;
  return spawnSync(process.execPath, [cliMain, ...args], {
    encoding: "utf8",
    cwd,
    env: { ...inherited, ...env },
  });
}

interface Received {
  method: string;
  path: string;
  body: unknown;
}

function plan(name: string, overrides: Partial<SwitchPlan> = {}): SwitchPlan {
  return {
    switch: name,
    reachable: true,
    inserts: 0,
    modifies: 0,
    deletes: 0,
    pipeline: false,
    written: 0,
    ...overrides,
  };
}

const statusInSync: StatusResponse = {
  daemon: {
    pid: 4242,
    version: "0.1.0",
    startedAt: "2025-01-01T00:00:00.000Z",
    socket: "/tmp/x.sock",
    intentRevision: 7,
    intentPath: "/var/lib/nvgre/fabric.yaml",
    reconcileIntervalSeconds: 30,
  },
  switches: [
    {
      name: "leaf1",
      address: "127.0.0.1:50001",
      deviceId: 1,
      connected: true,
      primary: true,
      electionId: "1",
      primaryElectionId: "1",
      pipelineCookie: "1234",
      pipelineCurrent: true,
      drift: 0,
    },
  ],
};

const endpointRows: GetResponse = {
  kind: "endpoints",
  revision: 7,
  rows: [
    {
      name: "web-1",
      vsid: 0x5001,
      mac: "00:00:5e:00:53:01",
      ips: ["10.1.1.10"],
      location: "leaf1:1",
      learned: false,
    },
    {
      name: "learned-5001-020000000009",
      vsid: 0x5001,
      mac: "02:00:00:00:00:09",
      ips: [],
      location: "leaf2:1",
      learned: true,
    },
  ],
};

describe("nvgre-ctl against a scripted daemon", () => {
  const dir = mkdtempSync(join(tmpdir(), "nvgre-ctl-cli-"));
  const socket = join(dir, "api", "ctl.sock");
  const received: Received[] = [];
  let status: StatusResponse = statusInSync;
  let server: ApiServer | undefined;

  const record =
    (answer: (body: unknown) => unknown): Route["handler"] =>
    (context) => {
      received.push({
        method: "?",
        path: Object.values(context.params).join("/"),
        body: context.body,
      });
      return answer(context.body);
    };

  before(async () => {
    const routes: Route[] = [
      { method: "GET", path: "/v1/status", handler: () => status },
      { method: "GET", path: "/v1/get/:kind", handler: () => endpointRows },
      {
        method: "POST",
        path: "/v1/apply",
        handler: (context) => {
          received.push({ method: "POST", path: "/v1/apply", body: context.body });
          const body = context.body as { text: string; dryRun: boolean };
          if (body.text.includes("invalid")) {
            throw new ApiError(422, "invalid-intent", "the fabric intent is invalid (1 problem)", [
              {
                path: "virtualSubnets[0].vsid",
                message: "VSID 0x10 is outside 0x1000–0xFFFFFE",
                line: 3,
                column: 11,
              },
            ]);
          }
          const unreachable = body.text.includes("leaf9");
          const plans = [
            plan("leaf1", {
              inserts: 1,
              deletes: 1,
              written: body.dryRun ? 0 : 2,
              changes: [
                { op: "insert", entity: "table:mac 5001 5e005301 → to_port(1)" },
                { op: "delete", entity: "table:mac 5001 5e005302 → to_port(2)" },
              ],
            }),
            ...(unreachable
              ? [plan("leaf9", { reachable: false, error: "connection refused" })]
              : []),
          ];
          const stream = context.stream();
          stream.write({ type: "plan", switches: plans });
          stream.write({ type: "progress", switch: "leaf1", done: 2, total: 2 });
          // A follower's answer: it stored the change; the leader (or, with none, the next) writes it.
          const follower = /follower-(\w+)/.exec(body.text)?.[1];
          const result: ChangeResult = follower
            ? {
                dryRun: false,
                revision: 9,
                switches: [],
                leader: follower === "leaderless" ? null : follower,
              }
            : { dryRun: body.dryRun, revision: body.dryRun ? 7 : 8, switches: plans };
          stream.write({ type: "result", result });
          return undefined;
        },
      },
      {
        method: "PUT",
        path: "/v1/endpoints/:name/location",
        handler: record(() => ({
          dryRun: false,
          revision: 9,
          switches: [plan("leaf1", { modifies: 1, written: 1 })],
        })),
      },
      {
        method: "DELETE",
        path: "/v1/endpoints/:name",
        handler: () => {
          throw new ApiError(
            409,
            "conflict",
            "the intent is at revision 9, not 3; nothing was changed",
          );
        },
      },
      {
        method: "GET",
        path: "/v1/events",
        handler: (context) => {
          const events = [
            {
              seq: 1,
              time: "2025-01-01T00:00:00.000Z",
              kind: "mastership",
              level: "info",
              switch: "leaf1",
              message: "primary",
            },
            {
              seq: 2,
              time: "2025-01-01T00:00:01.000Z",
              kind: "learning",
              level: "info",
              switch: "leaf1",
              message: "learned 02:00:00:00:00:09",
            },
          ];
          if (context.query.get("follow") !== "1") return { events };
          const stream = context.stream();
          for (const event of events) stream.write(event);
          return undefined;
        },
      },
    ];
    server = await startApiServer({
      socketPath: socket,
      routes,
      logger: pino({ level: "silent" }),
    });
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]) => runCaptured(socket, ...args);

  test("the API socket is mode 0600 in a directory the server made 0700", () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "api")).mode & 0o777, 0o700);
  });

  test("a second server on the same socket is refused while the first answers", async () => {
    await assert.rejects(
      startApiServer({ socketPath: socket, routes: [], logger: pino({ level: "silent" }) }),
      /another daemon is already listening on/,
    );
  });

  test("the TCP listener's address is host:port (IPv6 in brackets)", () => {
    assert.deepEqual(listenAddress("127.0.0.1:9701"), { host: "127.0.0.1", port: 9701 });
    assert.deepEqual(listenAddress("[::1]:9701"), { host: "::1", port: 9701 });
    assert.throws(() => listenAddress("9701"), /not host:port/);
  });

  test("status: a table for people, the daemon's JSON for scripts, exit 0 when all in sync", async () => {
    const table = await run("status");
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, /intent revision 7/);
    assert.match(table.out, /leaf1.*127\.0\.0\.1:50001.*yes.*yes.*1234.*in sync/s);
    const json = await run("status", "-o", "json");
    assert.deepEqual(JSON.parse(json.out), statusInSync);
  });

  test("status: exit 5 naming the switch when one has drift or is not primary", async () => {
    status = {
      ...statusInSync,
      switches: [{ ...(statusInSync.switches[0] as StatusResponse["switches"][0]), drift: 3 }],
    };
    try {
      const result = await run("status");
      assert.equal(result.code, 5);
      assert.match(result.out, /3 entries of drift/);
      assert.match(result.err, /1 of 1 switches are not connected as primary and in sync: leaf1/);
    } finally {
      status = statusInSync;
    }
  });

  test("get endpoints: table marks learned ones; -o yaml and -o json are the rows", async () => {
    const table = await run("get", "endpoints");
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, /web-1.*0x5001.*00:00:5e:00:53:01.*10\.1\.1\.10.*leaf1:1.*intent/);
    assert.match(table.out, /learned-5001-020000000009.*learned/);
    assert.deepEqual(
      parseYaml((await run("get", "endpoints", "-o", "yaml")).out),
      endpointRows.rows,
    );
    assert.deepEqual(
      JSON.parse((await run("get", "endpoints", "-o", "json")).out),
      endpointRows.rows,
    );
  });

  test("apply --dry-run sends the file and prints each switch's diff; nothing is changed", async () => {
    const file = join(dir, "fabric.yaml");
    writeFileSync(file, "version: 1\nswitches: []\n");
    const result = await run("apply", "-f", file, "--dry-run");
    assert.equal(result.code, 0, result.err);
    const last = received.at(-1);
    assert.deepEqual(last?.body, {
      text: "version: 1\nswitches: []\n",
      source: file,
      dryRun: true,
      verbose: true,
    });
    assert.match(
      result.out,
      /--- leaf1\n {2}\+ table:mac 5001 5e005301 → to_port\(1\)\n {2}- table:mac 5001 5e005302/,
    );
    assert.match(result.out, /dry run: nothing was changed \(intent revision 7\)/);
  });

  test("apply: exit 4 with every issue (path, line) for an invalid intent", async () => {
    const file = join(dir, "invalid.yaml");
    writeFileSync(file, "invalid\n");
    const result = await run("apply", "-f", file);
    assert.equal(result.code, 4);
    assert.match(result.err, /the fabric intent is invalid \(1 problem\)/);
    assert.match(result.err, /line 3:11: virtualSubnets\[0\]\.vsid: VSID 0x10 is outside/);
  });

  test("apply: exit 5 when a switch is unreachable, exit 1 naming a file that cannot be read", async () => {
    const file = join(dir, "nine.yaml");
    writeFileSync(file, "leaf9\n");
    const partial = await run("apply", "-f", file, "-o", "json");
    assert.equal(partial.code, 5);
    assert.equal(JSON.parse(partial.out).revision, 8);
    assert.match(
      partial.err,
      /1 of 2 switches are not converged yet.*leaf9 \(connection refused\)/,
    );
    const missing = await run("apply", "-f", join(dir, "nope.yaml"));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read .*nope\.yaml: ENOENT/);
  });

  test("apply through a follower names the leader that writes it; with no leader, exit 5", async () => {
    const file = join(dir, "follower.yaml");
    writeFileSync(file, "follower-r2\n");
    const stored = await run("apply", "-f", file);
    assert.equal(stored.code, 0, stored.err);
    assert.match(stored.out, /intent revision 9\n.*r2 writes it to the switches/s);
    writeFileSync(file, "follower-leaderless\n");
    const leaderless = await run("apply", "-f", file);
    assert.equal(leaderless.code, 5);
    assert.match(
      leaderless.err,
      /stored as intent revision 9, but no replica leads now: the next leader writes it/,
    );
  });

  test("endpoint move sends the new location; a conflict is exit 6", async () => {
    const moved = await run("endpoint", "move", "web-1", "--to", "leaf3:4", "--vlan", "10");
    assert.equal(moved.code, 0, moved.err);
    assert.deepEqual(received.at(-1), {
      method: "?",
      path: "web-1",
      body: { location: { switch: "leaf3", port: 4, vlan: 10 }, dryRun: false, verbose: false },
    });
    assert.match(moved.out, /leaf1.*converged.*1.*1/s);
    const conflict = await run("endpoint", "del", "web-1", "--expected-revision", "3");
    assert.equal(conflict.code, 6);
    assert.match(conflict.err, /not 3; nothing was changed/);
  });

  test("usage errors are exit 2 and say what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [["endpoint", "move", "web-1"], /a location is needed: --to SWITCH:PORT/],
      [
        ["endpoint", "move", "web-1", "--to", "leaf3"],
        /expected SWITCH:PORT \(e\.g\. leaf3:4\), got "leaf3"/,
      ],
      [
        ["endpoint", "move", "web-1", "--to", "leaf3:1", "--nve", "hv1"],
        /either --to SWITCH:PORT or --nve NAME/,
      ],
      [
        [
          "endpoint",
          "add",
          "x",
          "--vsid",
          "0x5001",
          "--mac",
          "02:00:00:00:00:01",
          "--to",
          "l:1",
          "--vlan",
          "5000",
        ],
        /a VLAN id must be 1–4094, got 5000/,
      ],
      [["get", "tenants"], /Allowed choices are switches, vsids, endpoints, nves, routes/],
      [["vsid", "add", "0x5001"], /required option '--name <name>' not specified/],
      [
        ["vsid", "add", "banana", "--name", "a", "--tenant", "t"],
        /a VSID must be an integer, got "banana"/,
      ],
      [["status", "-o", "xml"], /Allowed choices are table, json, yaml/],
      [["events", "--kind", "learning,gossip"], /"gossip" is not an event kind/],
      [["frobnicate"], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const result = await run(...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.err}`);
      assert.match(result.err, message, args.join(" "));
    }
  });

  test("events: one line per event for people, JSON lines when following with -o json", async () => {
    const table = await run("events");
    assert.match(
      table.out,
      /mastership leaf1: primary\n.*learning {3}leaf1: learned 02:00:00:00:00:09\n/s,
    );
    const follow = await run("events", "--follow", "-o", "json");
    assert.equal(follow.code, 0, follow.err);
    const lines = follow.out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((e) => e.seq),
      [1, 2],
    );
  });

  test("--help on every command exits 0; the top-level help documents the exit statuses", () => {
    const top = runBin(["--help"]);
    assert.equal(top.status, 0);
    assert.match(top.stdout, /Exit status:\n {2}0 {2}ok/);
    assert.match(top.stdout, /3 {2}the daemon is unreachable/);
    for (const command of [
      ["apply"],
      ["endpoint", "move"],
      ["vsid", "add"],
      ["route", "del"],
      ["counters"],
      ["tables"],
    ]) {
      const help = runBin([...command, "--help"]);
      assert.equal(help.status, 0, command.join(" "));
      assert.match(help.stdout, /^Usage: nvgre-ctl /);
    }
  });

  test("the bin exits 3 naming the socket when no daemon answers", () => {
    const missing = join(dir, "nobody.sock");
    const result = runBin(["status"], { NVGRE_CTL_SOCKET: missing });
    assert.equal(result.status, 3);
    assert.match(
      result.stderr,
      new RegExp(`cannot reach the nvgre daemon at ${missing}: no such socket`),
    );
  });

  test("bash completion completes commands, subcommands, choices and files", () => {
    const script = runBin(["completion", "bash"]).stdout;
    const complete = (line: string) => {
      const words = line.split(" ");
      const program = `${script}
COMP_WORDS=(${words.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=${words.length - 1}
_nvgre_ctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return spawnSync("bash", ["-c", program], { encoding: "utf8", cwd: dir })
        .stdout.trim()
        .split("\n");
    };
    assert.deepEqual(complete("nvgre-ctl endpoint m"), ["move"]);
    assert.deepEqual(complete("nvgre-ctl endpoint delete --d"), ["--dry-run"]);
    assert.deepEqual(complete("nvgre-ctl get e"), ["endpoints"]);
    assert.deepEqual(complete("nvgre-ctl status -o j"), ["json"]);
    assert.ok(complete("nvgre-ctl apply -f fab").includes("fabric.yaml"));
    const zsh = runBin(["completion", "zsh"]);
    assert.match(zsh.stdout, /^#compdef nvgre-ctl\nautoload -U \+X bashcompinit && bashcompinit\n/);
  });

  test("colour only on a terminal or when FORCE_COLOR asks; never into a pipe, even in CI", () => {
    const env = { NVGRE_CTL_SOCKET: join(dir, "nobody.sock") };
    const ansi = "\x1b[";
    const piped = runBin(["status"], { ...env, CI: "true" });
    assert.equal(piped.status, 3);
    assert.ok(!piped.stderr.includes(ansi), piped.stderr);
    const forced = runBin(["status"], { ...env, FORCE_COLOR: "1" });
    assert.ok(forced.stderr.startsWith(`${ansi}31merror:`), forced.stderr);
    for (const plain of [
      runBin(["status", "--no-color"], { ...env, FORCE_COLOR: "1" }),
      runBin(["status"], { ...env, FORCE_COLOR: "1", NO_COLOR: "1" }),
    ]) {
      assert.equal(plain.status, 3);
      assert.ok(plain.stderr.startsWith("error: cannot reach"), plain.stderr);
    }
  });

  test("the colour rule: NO_COLOR, then FORCE_COLOR, then a terminal that is not dumb", () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    assert.equal(colourWanted(tty, { TERM: "xterm" }), true);
    assert.equal(colourWanted(tty, { TERM: "dumb" }), false);
    assert.equal(colourWanted(pipe, { CI: "true" }), false);
    assert.equal(colourWanted(pipe, { FORCE_COLOR: "1" }), true);
    assert.equal(colourWanted(pipe, { FORCE_COLOR: "" }), true);
    assert.equal(colourWanted(tty, { FORCE_COLOR: "0" }), false);
    assert.equal(colourWanted(tty, { FORCE_COLOR: "false" }), false);
    assert.equal(colourWanted(tty, { NO_COLOR: "1", FORCE_COLOR: "1" }), false);
    assert.equal(colourWanted(tty, { NO_COLOR: "" }), true);
  });
});
