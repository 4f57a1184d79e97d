/**
 * A switch restarted under a connected client: the client reports the loss, reconnects by
 * itself when the switch is back, is primary again, and sees that the new switch process has
 * no pipeline (so the controller knows to push it). Runs against each switch process kind.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { ensurePipeline } from "../../../controller/p4rt/pipeline.js";
import { startBmv2 } from "../../../topologies/bmv2.js";
import { startSoftswitch } from "../../../topologies/softswitch.js";
import type { RunningSwitch, SwitchProcessOptions } from "../../../topologies/switch-process.js";
import { skipUnless } from "../../../topologies/toolchain.js";

const kinds: {
  name: string;
  skip: string | false;
  start: (options: SwitchProcessOptions) => Promise<RunningSwitch>;
}[] = [
  { name: "softswitch", skip: false, start: startSoftswitch },
  { name: "bmv2", skip: skipUnless("simple_switch_grpc"), start: startBmv2 },
];

for (const kind of kinds) {
  describe(`client across a ${kind.name} restart`, () => {
    const running: RunningSwitch[] = [];
    let client: P4RuntimeClient | undefined;
    after(async () => {
      client?.close();
      for (const sw of running) await sw.stop();
    });

    test("reports disconnected, reconnects as primary, finds the pipeline gone", {
      skip: kind.skip,
    }, async () => {
      const first = await kind.start({});
      running.push(first);
      client = new P4RuntimeClient({
        address: first.address,
        deviceId: first.deviceId,
        electionId: 7n,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      assert.equal((await client.connect()).primary, true);
      const pipeline = loadNvgrePipeline();
      assert.equal(await ensurePipeline(client, pipeline), true);
      assert.equal(await client.pipelineCookie(), pipeline.cookie);

      const disconnected = new Promise<string>((resolve) => client?.once("disconnected", resolve));
      await first.stop();
      assert.equal(typeof (await disconnected), "string");
      assert.equal(client.isPrimary, false, "no longer primary while the switch is gone");

      const reconnected = new Promise<void>((resolve) => client?.once("connected", resolve));
      running.push(await kind.start({ address: first.address }));
      await reconnected;
      assert.equal(client.isPrimary, true);
      assert.equal(await client.pipelineCookie(), undefined, "the new process starts empty");
      assert.equal(await ensurePipeline(client, pipeline), true, "so the pipeline is pushed");
    });
  });
}
