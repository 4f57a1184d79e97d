/** Store URLs (open.ts): what each names, and clear errors for what is wrong in one. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { StoreError } from "../../../../controller/intent/store/errors.js";
import { etcdStoreOptions, parseStoreUrl } from "../../../../controller/intent/store/open.js";

describe("store URLs", () => {
  test("embedded:<dir> names the embedded store's directory", () => {
    assert.deepEqual(parseStoreUrl("embedded:/var/lib/nvgre"), {
      kind: "embedded",
      dir: "/var/lib/nvgre",
    });
    assert.deepEqual(parseStoreUrl("embedded:state"), { kind: "embedded", dir: "state" });
  });

  test("etcd://: members from the authority, the prefix as the path, other settings as query parameters named like the config file's", () => {
    assert.deepEqual(
      parseStoreUrl(
        "etcd://127.0.0.1:2379,127.0.0.1:2381/nvgre/demo/?username=ctl&passwordFile=/etc/nvgre/pw&dialTimeoutSeconds=1.5&maxTxnOps=512",
      ),
      {
        kind: "etcd",
        endpoints: ["127.0.0.1:2379", "127.0.0.1:2381"],
        prefix: "/nvgre/demo/",
        username: "ctl",
        passwordFile: "/etc/nvgre/pw",
        dialTimeoutSeconds: 1.5,
        maxTxnOps: 512,
      },
    );
    // A prefix without its trailing slash gets one; none at all leaves the default to the opener.
    assert.deepEqual(parseStoreUrl("etcd://h1:2379/nvgre/lab"), {
      kind: "etcd",
      endpoints: ["h1:2379"],
      prefix: "/nvgre/lab/",
    });
    assert.deepEqual(parseStoreUrl("etcd://h1:2379"), { kind: "etcd", endpoints: ["h1:2379"] });
  });

  test("the client options of a location: the default prefix is /nvgre/<fabric>/; files are read; a certificate needs its key and a CA", () => {
    const dir = mkdtempSync(join(tmpdir(), "store-url-"));
    try {
      for (const name of ["ca.pem", "client.pem", "client.key"]) {
        writeFileSync(join(dir, name), `PEM ${name}`);
      }
      writeFileSync(join(dir, "pw"), "s3cret\n");
      const options = etcdStoreOptions(
        {
          endpoints: ["h1:2379"],
          caFile: join(dir, "ca.pem"),
          certFile: join(dir, "client.pem"),
          keyFile: join(dir, "client.key"),
          username: "ctl",
          passwordFile: join(dir, "pw"),
        },
        "lab",
      );
      assert.equal(options.prefix, "/nvgre/lab/");
      assert.equal(options.tls?.ca.toString(), "PEM ca.pem");
      assert.equal(options.tls?.cert?.toString(), "PEM client.pem");
      assert.equal(options.tls?.key?.toString(), "PEM client.key");
      assert.deepEqual([options.username, options.password], ["ctl", "s3cret"]);
      assert.throws(
        () => etcdStoreOptions({ endpoints: ["h:1"], caFile: "/nonexistent/ca.pem" }),
        (e: unknown) =>
          e instanceof StoreError &&
          /store\.etcd\.caFile: cannot read \/nonexistent\/ca\.pem/.test(e.message),
      );
      assert.throws(
        () => etcdStoreOptions({ endpoints: ["h:1"], certFile: join(dir, "client.pem") }),
        (e: unknown) =>
          e instanceof StoreError && /needs both certFile and keyFile/.test(e.message),
      );
      assert.throws(
        () =>
          etcdStoreOptions({
            endpoints: ["h:1"],
            certFile: join(dir, "client.pem"),
            keyFile: join(dir, "client.key"),
          }),
        (e: unknown) => e instanceof StoreError && /need caFile/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
      () => parseStoreUrl("etcd://h:1/?ca=/etc/ca.pem"),
      (e: unknown) =>
        e instanceof StoreError && /unknown parameter ca \(known: .*caFile/.test(e.message),
    );
    assert.throws(
      () => parseStoreUrl("etcd://h:1/?maxTxnOps=many"),
      (e: unknown) => e instanceof StoreError && /maxTxnOps: /.test(e.message),
    );
    assert.throws(
      () => parseStoreUrl("etcd://h/"),
      (e: unknown) => e instanceof StoreError && /endpoints\.0: host:port/.test(e.message),
    );
  });
});
