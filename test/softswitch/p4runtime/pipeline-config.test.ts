/**
 * SetForwardingPipelineConfig / GetForwardingPipelineConfig, asserted identically against the
 * softswitch and simple_switch_grpc where PI behaves as the spec says, and on the softswitch
 * alone where it refuses what bmv2 accepts or crashes on (a JSON that does not load, a P4Info
 * that does not describe it).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { EntityBuilder } from "../../../controller/p4rt/entities.js";
import { forwardingPipelineConfig } from "../../../controller/p4rt/pipeline.js";
import type { SetForwardingPipelineConfigRequest } from "../../../proto/gen/p4/v1/SetForwardingPipelineConfigRequest.js";
import { toUint128 } from "../../../proto/uint128.js";
import {
  fixturePipeline,
  type RunningTarget,
  rawStream,
  softswitchTarget,
  stub,
  targets,
  unary,
} from "./targets.js";

const ELECTION_ID = 1n;

function session(running: RunningTarget) {
  const s = stub(running);
  const stream = rawStream(s, { deviceId: running.deviceId, electionId: ELECTION_ID });
  const header = { device_id: String(running.deviceId), election_id: toUint128(ELECTION_ID) };
  return {
    s,
    ready: () => stream.until(() => stream.messages.length > 0),
    set: (action: SetForwardingPipelineConfigRequest["action"], config: unknown) =>
      unary(s.SetForwardingPipelineConfig.bind(s), {
        ...header,
        action,
        config: config as SetForwardingPipelineConfigRequest["config"],
      }),
    get: (responseType: string) =>
      unary(s.GetForwardingPipelineConfig.bind(s), {
        device_id: header.device_id,
        response_type: responseType as "ALL",
      }),
    close() {
      stream.call.end();
      s.close();
    },
  };
}

for (const target of targets) {
  describe(`P4Runtime pipeline config (${target.name})`, () => {
    const skip = target.skip;
    let running: RunningTarget;
    let ses: ReturnType<typeof session>;

    before(async () => {
      if (skip) return;
      running = await target.start();
      ses = session(running);
      await ses.ready();
    });
    after(async () => {
      ses?.close();
      await running?.stop();
    });

    test("no pipeline: Get and Read are FAILED_PRECONDITION", { skip }, async () => {
      assert.deepEqual(await ses.get("ALL"), {
        code: grpc.status.FAILED_PRECONDITION,
        details: "No forwarding pipeline config set for this device",
      });
    });

    test("an action that is not one is INVALID_ARGUMENT", { skip }, async () => {
      const result = await ses.set("UNSPECIFIED", forwardingPipelineConfig(fixturePipeline()));
      assert.deepEqual(result, {
        code: grpc.status.INVALID_ARGUMENT,
        details: "Invalid SetForwardingPipeline action",
      });
    });

    test("VERIFY_AND_COMMIT installs the pipeline; every response type returns its parts and the cookie", {
      skip,
    }, async () => {
      const pipeline = fixturePipeline();
      assert.equal(
        (await ses.set("VERIFY_AND_COMMIT", forwardingPipelineConfig(pipeline))).code,
        0,
      );
      const cookie = { cookie: pipeline.cookie.toString() };
      const all = (await ses.get("ALL")).response?.config;
      assert.deepEqual(all?.cookie, cookie);
      assert.deepEqual(all?.p4_device_config, pipeline.deviceConfig);
      assert.deepEqual(
        all?.p4info?.tables.map((t) => t.preamble?.name),
        pipeline.index.p4info.tables.map((t) => t.preamble?.name),
      );
      const cookieOnly = (await ses.get("COOKIE_ONLY")).response?.config;
      assert.deepEqual(cookieOnly?.cookie, cookie);
      assert.equal(cookieOnly?.p4info, null);
      assert.equal(cookieOnly?.p4_device_config.length, 0);
      const info = (await ses.get("P4INFO_AND_COOKIE")).response?.config;
      assert.equal(info?.p4info?.tables.length, pipeline.index.p4info.tables.length);
      assert.equal(info?.p4_device_config.length, 0);
      const device = (await ses.get("DEVICE_CONFIG_AND_COOKIE")).response?.config;
      assert.equal(device?.p4info, null);
      assert.deepEqual(device?.p4_device_config, pipeline.deviceConfig);
    });

    test("VERIFY changes nothing; a config without a cookie reads back without one", {
      skip,
    }, async () => {
      const nvgre = loadNvgrePipeline();
      const before = (await ses.get("COOKIE_ONLY")).response?.config?.cookie;
      assert.equal((await ses.set("VERIFY", forwardingPipelineConfig(nvgre))).code, 0);
      assert.deepEqual((await ses.get("COOKIE_ONLY")).response?.config?.cookie, before);
      const { cookie: _, ...withoutCookie } = forwardingPipelineConfig(nvgre);
      assert.equal((await ses.set("VERIFY_AND_COMMIT", withoutCookie)).code, 0);
      const config = (await ses.get("P4INFO_AND_COOKIE")).response?.config;
      assert.equal(config?.cookie, null);
      assert.equal(config?.p4info?.tables.length, nvgre.index.p4info.tables.length);
    });

    test("VERIFY_AND_SAVE then COMMIT switches pipelines", { skip }, async () => {
      const pipeline = fixturePipeline();
      assert.equal((await ses.set("VERIFY_AND_SAVE", forwardingPipelineConfig(pipeline))).code, 0);
      assert.equal((await ses.set("COMMIT", {})).code, 0);
      assert.deepEqual((await ses.get("COOKIE_ONLY")).response?.config?.cookie, {
        cookie: pipeline.cookie.toString(),
      });
    });
  });
}

describe("P4Runtime pipeline config, softswitch only", () => {
  let running: RunningTarget;
  let ses: ReturnType<typeof session>;
  before(async () => {
    running = await softswitchTarget.start();
    ses = session(running);
    await ses.ready();
  });
  after(async () => {
    ses.close();
    await running.stop();
  });

  const installed = async () => (await ses.get("COOKIE_ONLY")).response?.config?.cookie?.cookie;

  test("a JSON that does not load is INVALID_ARGUMENT naming the construct; nothing changes", async () => {
    const pipeline = fixturePipeline();
    assert.equal((await ses.set("VERIFY_AND_COMMIT", forwardingPipelineConfig(pipeline))).code, 0);
    const json = JSON.parse(pipeline.deviceConfig.toString("utf8"));
    json.__meta__.version = [3, 0];
    const bad = await ses.set("VERIFY_AND_COMMIT", {
      ...forwardingPipelineConfig(pipeline),
      p4_device_config: Buffer.from(JSON.stringify(json)),
      cookie: { cookie: "7" },
    });
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
    assert.match(bad.details, /__meta__\.version.*not supported/);
    const notJson = await ses.set("VERIFY", {
      ...forwardingPipelineConfig(pipeline),
      p4_device_config: Buffer.from("not json"),
    });
    assert.equal(notJson.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(await installed(), pipeline.cookie.toString());
    assert.ok(running.device?.switch?.tables.has("MyIngress.l2"));
  });

  test("a P4Info that does not describe the JSON is INVALID_ARGUMENT naming the object", async () => {
    const fixture = fixturePipeline();
    const mixed = await ses.set("VERIFY_AND_COMMIT", {
      ...forwardingPipelineConfig(fixture),
      p4_device_config: loadNvgrePipeline().deviceConfig,
    });
    assert.equal(mixed.code, grpc.status.INVALID_ARGUMENT);
    assert.match(
      mixed.details,
      /P4Info (table|action|action profile) "[^"]+" does not match the device config/,
    );
    const p4info = structuredClone(fixture.index.p4info);
    const field = p4info.tables.find((t) => t.preamble?.name === "MyIngress.l2")?.match_fields[0];
    assert.ok(field);
    field.bitwidth = 32;
    const narrowed = await ses.set("VERIFY", { ...forwardingPipelineConfig(fixture), p4info });
    assert.equal(narrowed.code, grpc.status.INVALID_ARGUMENT);
    assert.match(narrowed.details, /MyIngress\.l2.*hdr\.ethernet\.dst.*bit<32>.*bit<48>/);
    assert.equal(await installed(), fixture.cookie.toString());
  });

  test("COMMIT without a saved config is FAILED_PRECONDITION", async () => {
    const result = await ses.set("COMMIT", {});
    assert.equal(result.code, grpc.status.FAILED_PRECONDITION);
  });

  test("the data plane keeps the old program until COMMIT", async () => {
    const before = running.device?.switch;
    assert.equal(
      (await ses.set("VERIFY_AND_SAVE", forwardingPipelineConfig(loadNvgrePipeline()))).code,
      0,
    );
    assert.equal(running.device?.switch, before);
    assert.equal((await ses.set("COMMIT", {})).code, 0);
    assert.notEqual(running.device?.switch, before);
    assert.ok(running.device?.switch?.tables.has("vsid"));
  });

  test("RECONCILE_AND_COMMIT keeps the forwarding state that fits the new pipeline; refuses, changing nothing, when it does not", async () => {
    const fixture = fixturePipeline();
    assert.equal((await ses.set("VERIFY_AND_COMMIT", forwardingPipelineConfig(fixture))).code, 0);
    const b = new EntityBuilder(fixture.index);
    const header = { device_id: "1", election_id: toUint128(ELECTION_ID) };
    const entities = [
      b.actionProfileMember("ecmp_selector", 1, { action: "set_dst", params: { dst: 1, port: 1 } }),
      b.actionProfileGroup("ecmp_selector", 2, [{ id: 1, weight: 2 }]),
      b.tableEntry("ecmp", { match: { "hdr.ipv4.dstAddr": "10.0.0.1" }, target: { group: 2 } }),
      b.tableEntry("l2", {
        match: { "hdr.ethernet.dst": 5 },
        target: { action: "forward", params: { port: 5 } },
      }),
      b.multicastGroup(1, [{ port: 1, instance: 1 }]),
      b.counterEntry("port_both", 4, { packets: 1, bytes: 64 }),
    ];
    const write = await unary(ses.s.Write.bind(ses.s), {
      ...header,
      updates: entities.map((entity, i) => ({
        type: i === 5 ? ("MODIFY" as const) : ("INSERT" as const),
        entity,
      })),
    });
    assert.equal(write.code, 0, write.details);
    const readAll = async () => {
      const call = ses.s.Read({
        device_id: "1",
        entities: [
          { table_entry: {} },
          { action_profile_member: {} },
          { action_profile_group: {} },
          { packet_replication_engine_entry: { multicast_group_entry: {} } },
          {
            counter_entry: {
              counter_id: fixture.index.counters.id("port_both"),
              index: { index: 4 },
            },
          },
        ],
      });
      const out: unknown[] = [];
      for await (const response of call)
        out.push(...(response as { entities: unknown[] }).entities);
      return out;
    };
    const before = await readAll();
    const sw = running.device?.switch;
    assert.equal(
      (await ses.set("RECONCILE_AND_COMMIT", forwardingPipelineConfig(fixture))).code,
      0,
    );
    assert.notEqual(running.device?.switch, sw, "a new program instance runs");
    assert.deepEqual(await readAll(), before);

    const other = await ses.set(
      "RECONCILE_AND_COMMIT",
      forwardingPipelineConfig(loadNvgrePipeline()),
    );
    assert.equal(other.code, grpc.status.FAILED_PRECONDITION);
    assert.match(other.details, /Error when reconciling config/);
    assert.deepEqual(await readAll(), before);
  });
});
