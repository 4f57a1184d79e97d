/**
 * Audit, history and rollback through the API and nvgre-ctl, on a daemon driving a real
 * softswitch (daemon-on-target.ts): changes by two actors — the unix socket's peer uid and a
 * TLS client certificate's subject — are listed by `history` with their author, time,
 * resources and revision; `diff` names the resources that differ; `rollback --dry-run` plans
 * and changes nothing; `rollback --to` makes the switch hold again exactly the entries it held
 * at that revision (read back from the switch) and is itself a new, audited change. An unknown
 * revision is a 404 naming it; a viewer certificate may read history but not roll back (R17).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DaemonMetrics } from "../../../controller/api/metrics.js";
import { daemonRoutes, metricsRoutes } from "../../../controller/api/routes.js";
import { responses } from "../../../controller/api/schemas.js";
import { type ApiServer, startApiServer } from "../../../controller/api/server.js";
import type {
  ChangeResult,
  DiffResponse,
  HistoryResponse,
  TableEntriesResponse,
  TablesResponse,
} from "../../../controller/daemon/protocol.js";
import { type Pem, ThrowawayPki } from "../../../topologies/pki.js";
import { runCaptured } from "../../support/cli-capture.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "../daemon/daemon-on-target.js";
import { type Answer, call, type Door } from "./http.js";
import { oneLeafFabric } from "./one-leaf-fabric.js";

const [softswitch] = targets();
if (!softswitch) throw new Error("no softswitch target");

function json<T>(answer: Answer, what: string): T {
  assert.equal(answer.status, 200, `${what}: ${answer.body}`);
  return JSON.parse(answer.body) as T;
}

describe("audit, history and rollback on a daemon driving a softswitch", () => {
  const harness = daemonOnTarget(softswitch, {
    ports: [1, 2],
    fabric: oneLeafFabric,
  });
  let api: ApiServer | undefined;
  let metrics: DaemonMetrics | undefined;
  let pki: ThrowawayPki;
  let operator: Pem;
  let viewer: Pem;
  const socket = (): Door => ({ socket: harness.socket });
  const tls = (client: Pem): Door => ({ address: api?.tcpAddress ?? "", ca: pki.ca.cert, client });
  /** nvgre-ctl over TLS with a client certificate. */
  const tlsCli = (client: Pem, ...args: string[]) =>
    runCaptured(
      `https://${api?.tcpAddress}`,
      ...["--cert", client.cert, "--key", client.key, "--cacert", pki.ca.cert],
      ...args,
    );
  /** Every entry of every table of the switch, read from the switch through the API. */
  const switchEntries = async () => {
    const { tables } = json<TablesResponse>(
      await call(socket(), "GET", "/v1/tables/leaf1"),
      "tables",
    );
    const held: Record<string, string[]> = {};
    for (const table of tables) {
      const { entries } = json<TableEntriesResponse>(
        await call(socket(), "GET", `/v1/tables/leaf1/${table.name}`),
        table.name,
      );
      held[table.name] = entries.map((entry) => JSON.stringify(entry)).sort();
    }
    return held;
  };
  const history = async () =>
    json<HistoryResponse>(await call(socket(), "GET", "/v1/history"), "history");

  /** The revision the harness's apply produced and what the switch held then. */
  let first = 0;
  let heldAtFirst: Record<string, string[]> = {};

  before(async () => {
    const daemon = harness.daemon;
    if (!daemon) throw new Error("the harness's daemon did not start");
    pki = new ThrowawayPki(harness.dir);
    const server = pki.issue("server", "/CN=localhost", { server: true });
    operator = pki.issue("operator", "/CN=alice/OU=operator");
    viewer = pki.issue("viewer", "/CN=bob/OU=viewer");
    metrics = new DaemonMetrics(daemon, { countersIntervalMs: 60_000 });
    api = await startApiServer({
      socketPath: join(harness.dir, "tls-api.sock"),
      tls: {
        listen: "127.0.0.1:0",
        cert: readFileSync(server.cert),
        key: readFileSync(server.key),
        clientCa: readFileSync(pki.ca.cert),
      },
      routes: [...daemonRoutes(daemon), ...metricsRoutes(metrics)],
      logger: daemon.logger,
    });
    first = daemon.revision;
    heldAtFirst = await switchEntries();

    // Three more changes, by the certificate and by the socket's caller (root here).
    const added = await tlsCli(
      operator,
      ...["endpoint", "add", "web-2", "--vsid", "0x5001", "--mac", "02:00:00:00:01:02"],
      ...["--ip", "10.1.1.11", "--to", "leaf1:2"],
    );
    assert.equal(added.code, 0, added.err);
    const vsid = await harness.cli("vsid", "add", "0x5002", "--name", "db", "--tenant", "contoso");
    assert.equal(vsid.code, 0, vsid.err);
    const moved = await call(tls(operator), "PUT", "/v1/endpoints/web-1/location", {
      location: { switch: "leaf1", port: 2 },
    });
    assert.equal(moved.status, 200, moved.body);
  });

  after(async () => {
    await api?.close();
    metrics?.close();
  });

  test("history lists every change with its author, time, resources and revision", async () => {
    const answer = await call(tls(viewer), "GET", "/v1/history");
    const parsed = responses.history.safeParse(json(answer, "history"));
    assert.ok(parsed.success, parsed.error?.message);
    const { records, revision } = parsed.data;
    assert.equal(records.length, 4);
    assert.equal(records.at(-1)?.revision, revision);
    assert.deepEqual(
      records.map((r) => r.actor),
      ["uid:0", "CN=alice,OU=operator", "uid:0", "CN=alice,OU=operator"],
    );
    assert.deepEqual(
      records.slice(1).map((r) => r.trigger),
      ["endpoint add web-2", "vsid add 0x5002", "endpoint move web-1"],
    );
    assert.match(records[0]?.trigger ?? "", /^apply .*fabric\.yaml$/);
    assert.equal(records[0]?.revision, first);
    for (const [i, record] of records.entries()) {
      assert.ok(Math.abs(Date.now() - Date.parse(record.time)) < 3_600_000, record.time);
      if (i > 0) assert.ok(record.revision > (records[i - 1]?.revision ?? 0));
    }
    assert.deepEqual(records[1]?.changes, [{ resource: "resources/endpoint/web-2", op: "added" }]);
    assert.deepEqual(records[2]?.changes, [{ resource: "resources/vsid/0x5002", op: "added" }]);
    assert.deepEqual(records[3]?.changes, [
      { resource: "resources/endpoint/web-1", op: "changed" },
    ]);

    // --since, and the CLI's table and JSON.
    const since = await harness.cli("history", "--since", String(records[1]?.revision));
    assert.equal(since.code, 0, since.err);
    assert.doesNotMatch(since.out, /endpoint add web-2/);
    assert.match(since.out, /vsid add 0x5002/);
    assert.match(since.out, /CN=alice,OU=operator/);
    assert.match(since.out, /~endpoint\/web-1/);
    const asJson = await tlsCli(viewer, "history", "-o", "json");
    assert.equal(asJson.code, 0, asJson.err);
    assert.deepEqual((JSON.parse(asJson.out) as HistoryResponse).records, records);
  });

  test("diff REV1 REV2 names the resources changed, with their values before and after", async () => {
    const { records } = await history();
    const [, , third, fourth] = records;
    const answer = json<DiffResponse>(
      await call(socket(), "GET", `/v1/diff?from=${first}&to=${fourth?.revision}`),
      "diff",
    );
    assert.ok(responses.diff.safeParse(answer).success);
    assert.deepEqual(
      answer.changes.map((c) => [c.resource, c.op]),
      [
        ["resources/endpoint/web-1", "changed"],
        ["resources/endpoint/web-2", "added"],
        ["resources/vsid/0x5002", "added"],
      ],
    );
    const web1 = answer.changes[0] as {
      before?: { location: unknown };
      after?: { location: unknown };
    };
    assert.deepEqual(web1.before?.location, {
      switch: "leaf1",
      port: 1,
    });
    assert.deepEqual(web1.after?.location, {
      switch: "leaf1",
      port: 2,
    });
    const viaCli = await harness.cli("diff", String(third?.revision), String(fourth?.revision));
    assert.equal(viaCli.code, 0, viaCli.err);
    assert.match(viaCli.out, /^~endpoint\/web-1$/m);
    assert.doesNotMatch(viaCli.out, /web-2|0x5002/);
  });

  test("rollback --dry-run plans the way back and changes nothing", async () => {
    const before = await history();
    const heldBefore = await switchEntries();
    const planned = await harness.cli("rollback", "--to", String(first), "--dry-run", "-o", "json");
    assert.equal(planned.code, 0, planned.err);
    const result = JSON.parse(planned.out) as ChangeResult;
    assert.equal(result.dryRun, true);
    assert.equal(result.revision, before.revision);
    const [plan] = result.switches;
    // web-2's entries go, web-1's move back: something to delete and something to write.
    assert.ok((plan?.deletes ?? 0) > 0, planned.out);
    assert.ok((plan?.inserts ?? 0) + (plan?.modifies ?? 0) > 0, planned.out);
    assert.deepEqual(await history(), before);
    assert.deepEqual(await switchEntries(), heldBefore);
  });

  test("a viewer certificate reads history but cannot roll back (R17: 403, nothing changed)", async () => {
    const before = await history();
    const refused = await call(tls(viewer), "POST", "/v1/rollback", { revision: first });
    assert.equal(refused.status, 403, refused.body);
    assert.match(refused.body, /CN=bob,OU=viewer is a viewer/);
    const viaCli = await tlsCli(viewer, "rollback", "--to", String(first));
    assert.equal(viaCli.code, 1, viaCli.out);
    assert.match(viaCli.err, /needs operator/);
    assert.deepEqual(await history(), before);
  });

  test("rollback to an unknown revision is a 404 naming it; the CLI exits non-zero", async () => {
    const before = await history();
    const unknown = before.revision + 1000;
    const answer = await call(socket(), "POST", "/v1/rollback", { revision: unknown });
    assert.equal(answer.status, 404, answer.body);
    assert.match(answer.body, new RegExp(`revision ${unknown} is not a recorded change`));
    const viaCli = await harness.cli("rollback", "--to", String(unknown));
    assert.equal(viaCli.code, 1, viaCli.out);
    assert.match(viaCli.err, new RegExp(`revision ${unknown}`));
    const diff = await harness.cli("diff", String(first), String(unknown));
    assert.equal(diff.code, 1);
    assert.match(diff.err, new RegExp(`revision ${unknown}`));
    assert.deepEqual(await history(), before);
  });

  test("rollback --to the first revision: the switch holds what it held then; the rollback is a new audited change", async () => {
    const before = await history();
    assert.notDeepEqual(
      await switchEntries(),
      heldAtFirst,
      "the changes left the switch as it was",
    );
    const rolled = await tlsCli(operator, "rollback", "--to", String(first));
    assert.equal(rolled.code, 0, `${rolled.err}${rolled.out}`);
    const after = await history();
    assert.equal(after.records.length, before.records.length + 1);
    const last = after.records.at(-1);
    assert.ok((last?.revision ?? 0) > before.revision);
    assert.equal(last?.trigger, `rollback to revision ${first}`);
    assert.equal(last?.actor, "CN=alice,OU=operator");
    assert.deepEqual(
      last?.changes.map((c) => [c.resource, c.op]),
      [
        ["resources/endpoint/web-1", "changed"],
        ["resources/endpoint/web-2", "deleted"],
        ["resources/vsid/0x5002", "deleted"],
      ],
    );
    assert.match(rolled.out, new RegExp(`intent revision ${last?.revision}`));
    // Read back from the switch: exactly the entries of the first revision.
    assert.deepEqual(await switchEntries(), heldAtFirst);
    // The intent is the first revision's again: nothing differs between the two.
    const same = json<DiffResponse>(
      await call(socket(), "GET", `/v1/diff?from=${first}&to=${last?.revision}`),
      "diff",
    );
    assert.deepEqual(same.changes, []);
  });

  test("/metrics: this replica leads, its term, no revision lag", async () => {
    await metrics?.readSwitches();
    const text = (await call(tls(viewer), "GET", "/metrics")).body;
    const status = await harness.daemon?.status();
    const sample = (name: string) => new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1];
    assert.equal(sample("nvgre_cluster_leader"), "1", text);
    assert.equal(sample("nvgre_cluster_term"), String(status?.cluster?.term), text);
    assert.ok(Number(sample("nvgre_cluster_term")) >= 1);
    assert.equal(sample("nvgre_cluster_revision_lag"), "0", text);
    // The status route carries the cluster section too (the CLI's status prints it).
    const answer = json<{ cluster?: { role: string } }>(
      await call(socket(), "GET", "/v1/status"),
      "status",
    );
    assert.equal(answer.cluster?.role, "leader");
  });
});
