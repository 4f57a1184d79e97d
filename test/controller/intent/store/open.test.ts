/** Store URLs (open.ts): what each names, and clear errors for what is wrong in one. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StoreError } from "../../../../controller/intent/store/errors.js";
import { parseStoreUrl } from "../../../../controller/intent/store/open.js";

describe("store URLs", () => {
  test("embedded:<dir> names the embedded store's directory", () => {
    assert.deepEqual(parseStoreUrl("embedded:/var/lib/nvgre"), {
      kind: "embedded",
      dir: "/var/lib/nvgre",
    });
    assert.deepEqual(parseStoreUrl("embedded:state"), { kind: "embedded", dir: "state" });
  });

  test("etcd://: endpoints from the authority, the prefix and credentials from the query; the prefix defaults to /nvgre/<fabric>/", () => {
    assert.deepEqual(
      parseStoreUrl(
        "etcd://127.0.0.1:2379,127.0.0.1:2381/?prefix=/nvgre/demo/&user=ctl&password=pw&dialTimeoutMs=1500",
      ),
      {
        kind: "etcd",
        endpoints: ["127.0.0.1:2379", "127.0.0.1:2381"],
        prefix: "/nvgre/demo/",
        username: "ctl",
        password: "pw",
        dialTimeoutMs: 1500,
      },
    );
    assert.deepEqual(parseStoreUrl("etcd://h1:2379", "lab"), {
      kind: "etcd",
      endpoints: ["h1:2379"],
      prefix: "/nvgre/lab/",
    });
  });

  test("a wrong URL, an unknown parameter or an unreadable certificate file is refused naming it", () => {
    assert.throws(
      () => parseStoreUrl("file:/tmp/x"),
      (e: unknown) =>
        e instanceof StoreError && /expected embedded:<dir> or etcd:\/\//.test(e.message),
    );
    assert.throws(
      () => parseStoreUrl("embedded:"),
      (e: unknown) => e instanceof StoreError && /no directory/.test(e.message),
    );
    assert.throws(
      () => parseStoreUrl("etcd://h:1/?prefx=/a/"),
      (e: unknown) => e instanceof StoreError && /unknown parameter prefx/.test(e.message),
    );
    assert.throws(
      () => parseStoreUrl("etcd://h:1/?ca=/nonexistent/ca.pem"),
      (e: unknown) => e instanceof StoreError && /ca file \/nonexistent\/ca.pem/.test(e.message),
    );
  });
});
