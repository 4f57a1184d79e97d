/**
 * The API contract: the committed OpenAPI document is what the routes' zod schemas generate
 * and is served at /v1/openapi.json; every route answers what its response schema says (the
 * schema the document was made from); bad requests are 400 naming the field, oversized ones
 * 413 naming the limit, and neither changes the intent. A daemon in this process drives an
 * in-process softswitch (daemon-on-target.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { openApiDocument } from "../../../controller/api/openapi.js";
import { daemonRoutes } from "../../../controller/api/routes.js";
import { responses } from "../../../controller/api/schemas.js";
import { type ApiServer, startApiServer } from "../../../controller/api/server.js";
import { repoRoot } from "../../../topologies/repo.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "../daemon/daemon-on-target.js";
import { call } from "./http.js";
import { oneLeafFabric } from "./one-leaf-fabric.js";

test("controller/api/openapi.json is fresh (regenerate with `make openapi`)", async () => {
  // Compared as JSON: the committed file is laid out by the project's formatter.
  const committed = JSON.parse(readFileSync(`${repoRoot}controller/api/openapi.json`, "utf8"));
  assert.deepEqual(
    committed,
    JSON.parse(JSON.stringify(await openApiDocument())),
    "controller/api/openapi.json is stale: run make openapi",
  );
});

const [softswitch] = targets();
if (!softswitch) throw new Error("no softswitch target");

describe("the API's routes against their schemas, on a daemon driving a softswitch", () => {
  const harness = daemonOnTarget(softswitch, {
    ports: [1, 2],
    fabric: oneLeafFabric,
  });
  const door = () => ({ socket: harness.socket });
  const revision = async () => {
    const answer = await call(door(), "GET", "/v1/intent");
    return (JSON.parse(answer.body) as { revision: number }).revision;
  };

  test("the served OpenAPI document is the generated one, and lists every route", async () => {
    const answer = await call(door(), "GET", "/v1/openapi.json");
    assert.equal(answer.status, 200);
    const served = JSON.parse(answer.body) as { openapi: string; paths: Record<string, unknown> };
    assert.deepEqual(served, JSON.parse(JSON.stringify(await openApiDocument())));
    assert.match(served.openapi, /^3\./);
    for (const path of ["/v1/status", "/v1/apply", "/v1/endpoints/{name}/location", "/v1/drops"]) {
      assert.ok(served.paths[path], `${path} is not in the document`);
    }
  });

  test("every read route's answer matches its response schema", async () => {
    const reads: [string, keyof typeof responses][] = [
      ["/v1/status", "status"],
      ["/v1/intent", "intent"],
      ["/v1/get/switches", "get"],
      ["/v1/get/vsids", "get"],
      ["/v1/get/endpoints", "get"],
      ["/v1/get/nves", "get"],
      ["/v1/get/routes", "get"],
      ["/v1/counters", "counters"],
      ["/v1/counters?vsid=0x5001&switch=leaf1", "counters"],
      ["/v1/drops", "drops"],
      ["/v1/tables/leaf1", "tables"],
      ["/v1/tables/leaf1/mac", "tableEntries"],
      ["/v1/events?last=5", "events"],
    ];
    for (const [path, schema] of reads) {
      const answer = await call(door(), "GET", path);
      assert.equal(answer.status, 200, `${path}: ${answer.body}`);
      const parsed = responses[schema].safeParse(JSON.parse(answer.body));
      assert.ok(parsed.success, `${path}: ${parsed.error?.message}`);
    }
  });

  test("change routes answer a change result; apply streams lines of its schema", async () => {
    const changes: [string, string, unknown][] = [
      ["POST", "/v1/vsids", { vsid: 0x5002, name: "db", tenant: "contoso", dryRun: true }],
      [
        "POST",
        "/v1/endpoints",
        {
          name: "web-2",
          vsid: 0x5001,
          mac: "02:00:00:00:01:02",
          location: { switch: "leaf1", port: 2 },
        },
      ],
      ["PUT", "/v1/endpoints/web-2/location", { location: { switch: "leaf1", port: 1 } }],
      ["DELETE", "/v1/endpoints/web-2", {}],
    ];
    for (const [method, path, body] of changes) {
      const answer = await call(door(), method, path, body);
      assert.equal(answer.status, 200, `${method} ${path}: ${answer.body}`);
      const parsed = responses.change.safeParse(JSON.parse(answer.body));
      assert.ok(parsed.success, `${method} ${path}: ${parsed.error?.message}`);
    }
    const text = oneLeafFabric(harness.target.address, harness.target.deviceId);
    const applied = await call(door(), "POST", "/v1/apply", { text, dryRun: true, progress: true });
    assert.equal(applied.status, 200, applied.body);
    assert.match(applied.contentType, /application\/x-ndjson/);
    const lines = applied.body.trim().split("\n");
    for (const line of lines) {
      const parsed = responses.applyLine.safeParse(JSON.parse(line));
      assert.ok(parsed.success, `${line}: ${parsed.error?.message}`);
    }
    assert.match(lines.at(-1) ?? "", /"type":"result"/);
  });

  test("bad requests are 400 naming the field, domain errors keep their status; nothing changes", async () => {
    const before = await revision();
    const cases: [string, string, unknown, number, RegExp][] = [
      [
        "POST",
        "/v1/vsids",
        { vsid: "one", name: "x", tenant: "contoso" },
        400,
        /body\.vsid: .*number/,
      ],
      [
        "POST",
        "/v1/vsids",
        { vsid: 0x5003, name: "x", tenant: "contoso", colour: "blue" },
        400,
        /body: .*"colour"/,
      ],
      [
        "PUT",
        "/v1/endpoints/web-1/location",
        { location: { switch: "leaf1", port: "3" } },
        400,
        /body\.location/,
      ],
      ["POST", "/v1/vsids", "{not json", 400, /JSON/],
      ["GET", "/v1/get/widgets", undefined, 400, /params\.kind/],
      ["GET", "/v1/counters?vsid=lots", undefined, 400, /querystring\.vsid/],
      ["DELETE", "/v1/vsids/0x7777", {}, 404, /VSID 0x7777 is not in the intent/],
      ["POST", "/v1/vsids", { vsid: 0x5001, name: "x", tenant: "contoso" }, 409, /already exists/],
      ["POST", "/v1/vsids", { vsid: 0x10, name: "x", tenant: "contoso" }, 422, /invalid/],
      ["GET", "/v1/tables/leaf9", undefined, 404, /switch leaf9 is not in the intent/],
      ["GET", "/v1/nothing", undefined, 404, /no API route/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const answer = await call(door(), method, path, body);
      assert.equal(answer.status, status, `${method} ${path}: ${answer.body}`);
      const error = JSON.parse(answer.body) as { error: { message: string } };
      assert.match(error.error.message, message, `${method} ${path}`);
    }
    assert.equal(await revision(), before, "a refused request changed the intent");
  });

  describe("a body over the API's limit", () => {
    const socket = () => join(harness.dir, "small.sock");
    let small: ApiServer | undefined;
    before(async () => {
      if (!harness.daemon) return;
      small = await startApiServer({
        socketPath: socket(),
        routes: daemonRoutes(harness.daemon),
        logger: pino({ level: "silent" }),
        maxBodyBytes: 4096,
      });
    });
    after(() => small?.close());

    test("is 413 naming the limit; nothing changes", async () => {
      const before = await revision();
      const text = `${oneLeafFabric("127.0.0.1:1", 1)}# ${"x".repeat(8192)}\n`;
      const answer = await call({ socket: socket() }, "POST", "/v1/apply", { text });
      assert.equal(answer.status, 413, answer.body);
      assert.match(answer.body, /over the API's limit of 4096 bytes/);
      assert.equal(await revision(), before);
    });
  });
});
