/**
 * Large fabric files are parsed in a worker thread (the daemon's event loop keeps its lease and
 * answers meanwhile): the same document, and the same issues with their lines, as in place.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IntentError } from "../../../controller/intent/errors.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import {
  loadFabricDocument,
  OFF_THREAD_CHARS,
} from "../../../controller/intent/load-off-thread.js";

/** One leaf, `count` endpoints on ports 1–8: a file of about 150 bytes per endpoint. */
function fabricText(count: number, badVsidAt?: number): string {
  const endpoints = Array.from({ length: count }, (_, i) => {
    const vsid = i === badVsidAt ? "0x10" : "0x5001";
    const mac = `02:00:00:${[(i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
    return `  - { name: ep-${i}, vsid: ${vsid}, mac: "${mac}", ips: [10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}], location: { switch: leaf1, port: ${(i % 8) + 1} } }`;
  });
  const ports = Array.from(
    { length: 8 },
    (_, p) => `      - { port: ${p + 1}, kind: access, untagged: 0x5001 }`,
  );
  return `switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "127.0.0.1:9559", deviceId: 1 }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
${ports.join("\n")}
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso }
endpoints:
${endpoints.join("\n")}
`;
}

test("a large file is parsed off the event loop into the same document", async () => {
  const text = fabricText(3_000);
  assert.ok(text.length > OFF_THREAD_CHARS, "large enough for the worker");
  let turns = 0;
  const ticker = setInterval(() => turns++, 5);
  const document = await loadFabricDocument(text, "big.yaml");
  clearInterval(ticker);
  assert.deepEqual(document, loadFabricText(text, "big.yaml").document);
  assert.ok(turns > 0, "the event loop kept turning while the file was parsed");
});

test("a large file's problems come back with their lines, as in place", async () => {
  const text = fabricText(3_000, 2_500);
  const inPlace = (() => {
    try {
      loadFabricText(text, "big.yaml");
    } catch (error) {
      return error as IntentError;
    }
    assert.fail("the in-place parse accepted it");
  })();
  await assert.rejects(loadFabricDocument(text, "big.yaml"), (error: unknown) => {
    assert.ok(error instanceof IntentError);
    assert.deepEqual(error.issues, inPlace.issues);
    assert.equal(error.issues[0]?.line, 20 + 2_500, "the line of endpoint 2,500");
    return true;
  });
});
