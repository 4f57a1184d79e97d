/** The daemon's settings: defaults, a YAML file, command-line overrides, errors naming the field. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadDaemonConfig } from "../../../controller/daemon/config.js";
import { nvgreBuild } from "../../../controller/nvgre-build.js";

const dir = mkdtempSync(join(tmpdir(), "nvgre-daemon-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("defaults: the embedded store in /var/lib/nvgre, drift check every 30 s, lease 3 s, the committed pipeline", () => {
  const config = loadDaemonConfig({ socket: "/tmp/x.sock" });
  assert.equal(config.stateDir, "/var/lib/nvgre");
  assert.equal(config.store, "embedded");
  assert.equal(config.memberId, undefined);
  assert.equal(config.leaseTtlSeconds, 3);
  assert.equal(config.leaderMaxStallSeconds, 15);
  assert.equal(config.socketPath, "/tmp/x.sock");
  assert.equal(config.reconcileIntervalMs, 30_000);
  assert.deepEqual(config.pipeline, nvgreBuild);
  assert.equal(config.listen, undefined);
  assert.equal(config.learnedAgeingSeconds, 300);
});

test("learned-endpoint ageing: from the file, from --learned-ageing, 0 = never; a bad value is named", () => {
  const file = join(dir, "ageing.yaml");
  writeFileSync(file, "learnedAgeingSeconds: 60\n");
  assert.equal(loadDaemonConfig({ config: file }).learnedAgeingSeconds, 60);
  assert.equal(loadDaemonConfig({ config: file, learnedAgeing: "0" }).learnedAgeingSeconds, 0);
  assert.throws(
    () => loadDaemonConfig({ learnedAgeing: "-5" }),
    /learnedAgeingSeconds: Too small: expected number to be >=0/,
  );
  assert.throws(() => loadDaemonConfig({ learnedAgeing: "soon" }), /learnedAgeingSeconds: /);
});

test("a YAML file, then command-line options over it", () => {
  const file = join(dir, "daemon.yaml");
  const pem = join(dir, "some.pem");
  writeFileSync(pem, "not really a PEM");
  writeFileSync(
    file,
    `stateDir: /srv/nvgre\nleaseTtlSeconds: 5\nleaderMaxStallSeconds: 40\nreconcileIntervalSeconds: 5\nlisten: 127.0.0.1:9701\nlistenTls: { cert: ${pem}, key: ${pem}, clientCa: ${pem} }\nlogLevel: debug\n`,
  );
  const config = loadDaemonConfig({ config: file, reconcileInterval: "0", leaseTtl: "4" });
  assert.equal(config.stateDir, "/srv/nvgre");
  assert.equal(config.reconcileIntervalMs, 0);
  assert.equal(config.leaseTtlSeconds, 4);
  assert.equal(config.leaderMaxStallSeconds, 40);
  assert.equal(config.listen?.address, "127.0.0.1:9701");
  assert.equal(config.listen?.clientCa.toString(), "not really a PEM");
  assert.equal(config.logLevel, "debug");
  assert.equal(loadDaemonConfig({ config: file }).leaseTtlSeconds, 5);
});

test("etcd store: from the file with TLS and credentials, --store replaces endpoints and prefix only", () => {
  const file = join(dir, "etcd.yaml");
  writeFileSync(
    file,
    "store:\n  etcd:\n    endpoints: [10.0.0.1:2379]\n    prefix: /nvgre/prod/\n    caFile: /etc/nvgre/ca.pem\n    username: nvgre\n    passwordFile: /etc/nvgre/etcd.pass\n",
  );
  const fromFile = loadDaemonConfig({ config: file }).store;
  assert.deepEqual(fromFile, {
    etcd: {
      endpoints: ["10.0.0.1:2379"],
      prefix: "/nvgre/prod/",
      caFile: "/etc/nvgre/ca.pem",
      username: "nvgre",
      passwordFile: "/etc/nvgre/etcd.pass",
    },
  });
  const overridden = loadDaemonConfig({
    config: file,
    store: "etcd://127.0.0.1:2379,127.0.0.1:2381/nvgre/demo",
    member: "ctl-a",
  });
  assert.deepEqual(overridden.store, {
    etcd: {
      endpoints: ["127.0.0.1:2379", "127.0.0.1:2381"],
      prefix: "/nvgre/demo/",
      caFile: "/etc/nvgre/ca.pem",
      username: "nvgre",
      passwordFile: "/etc/nvgre/etcd.pass",
    },
  });
  assert.equal(overridden.memberId, "ctl-a");
  assert.deepEqual(loadDaemonConfig({ store: "etcd://h:2379" }).store, {
    etcd: { endpoints: ["h:2379"] },
  });
  assert.throws(
    () => loadDaemonConfig({ store: "zookeeper://h:2181" }),
    /--store: store URL zookeeper:\/\/h:2181: expected embedded:<dir> or etcd:\/\//,
  );
  assert.throws(
    () => loadDaemonConfig({ store: "etcd://h" }),
    /--store: store URL etcd:\/\/h: endpoints\.0: host:port/,
  );
  assert.throws(
    () => loadDaemonConfig({ store: "embedded:/srv/nvgre" }),
    /the embedded store's directory is --state-dir/,
  );
  // The URL's own settings win over the file's; the file's others stay.
  assert.deepEqual(
    loadDaemonConfig({ config: file, store: "etcd://h:2379/nvgre/x/?username=other&maxTxnOps=256" })
      .store,
    {
      etcd: {
        endpoints: ["h:2379"],
        prefix: "/nvgre/x/",
        caFile: "/etc/nvgre/ca.pem",
        username: "other",
        passwordFile: "/etc/nvgre/etcd.pass",
        maxTxnOps: 256,
      },
    },
  );
  assert.throws(() => loadDaemonConfig({ leaseTtl: "1" }), /leaseTtlSeconds: /);
});

test("R17: a TCP listener exists only with TLS and a client CA (no unauthenticated door)", () => {
  assert.throws(
    () => loadDaemonConfig({ listen: "127.0.0.1:9701" }),
    /listen 127\.0\.0\.1:9701 needs listenTls \(cert, key, clientCa/,
  );
  assert.throws(
    () =>
      loadDaemonConfig({
        listen: "127.0.0.1:9701",
        listenCert: "/nonexistent/cert.pem",
        listenKey: "/nonexistent/key.pem",
        clientCa: "/nonexistent/ca.pem",
      }),
    /listenTls\.cert: cannot read \/nonexistent\/cert\.pem/,
  );
});

test("errors name the file and the field", () => {
  const file = join(dir, "bad.yaml");
  writeFileSync(file, "leaseTtlSeconds: 0\nreconcileIntervalSeconds: soon\ncolour: blue\n");
  assert.throws(
    () => loadDaemonConfig({ config: file }),
    (error: Error) => {
      assert.match(error.message, /bad\.yaml: leaseTtlSeconds: /);
      assert.match(error.message, /bad\.yaml: reconcileIntervalSeconds: /);
      assert.match(error.message, /colour/);
      return true;
    },
  );
  assert.throws(
    () => loadDaemonConfig({ config: join(dir, "missing.yaml") }),
    /cannot read .*missing\.yaml/,
  );
  assert.throws(() => loadDaemonConfig({ member: "-x" }), /memberId/);
});
