/**
 * The etcd store's connection options against a real etcd that requires them: TLS with client
 * certificates (mTLS; certificates made here with openssl), then user/password authentication.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { StoreError, StoreUnavailableError } from "../../../../controller/intent/store/errors.js";
import { type EtcdStoreOptions, openEtcdStore } from "../../../../controller/intent/store/etcd.js";
import { openStore } from "../../../../controller/intent/store/open.js";
import { type EtcdCluster, startEtcdCluster } from "../../../../topologies/etcd.js";

const dir = mkdtempSync(join(tmpdir(), `nvgre-etcd-tls-${process.pid}-`));
const file = (name: string) => join(dir, name);
let cluster: EtcdCluster | undefined;

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(): void {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=nvgre test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  writeFileSync(file("client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const name of ["server", "client"]) {
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name === "server" ? "127.0.0.1" : "root"}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
  }
}

before(async () => {
  makeCertificates();
  cluster = await startEtcdCluster({
    tls: { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key") },
  });
});

after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<EtcdStoreOptions> = {}): EtcdStoreOptions {
  return {
    endpoints: cluster?.endpoints ?? [],
    prefix: "/nvgre/secure/",
    dialTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    tls: {
      ca: readFileSync(file("ca.pem")),
      cert: readFileSync(file("client.pem")),
      key: readFileSync(file("client.key")),
    },
    ...extra,
  };
}

describe("etcd store security options", () => {
  test("mTLS: with the CA and a client certificate the store works; without the certificate it is refused", async () => {
    const url = `etcd://${cluster?.endpoints.join(",")}/nvgre/secure/?caFile=${file("ca.pem")}&certFile=${file("client.pem")}&keyFile=${file("client.key")}`;
    const store = await openStore(url);
    try {
      const revision = await store.commit({
        puts: [{ key: "resources/vsid/20481", value: { tenant: "blue" } }],
      });
      assert.equal((await store.get("resources/vsid/20481"))?.modRevision, revision);
    } finally {
      await store.close();
    }
    await assert.rejects(
      openEtcdStore(options({ tls: { ca: readFileSync(file("ca.pem")) } })),
      // etcd's TLS handshake refuses a client without a certificate.
      (error: unknown) =>
        error instanceof StoreUnavailableError && /certificate/i.test(error.detail),
    );
  });

  test("user/password: once etcd has authentication on, only the right password opens the store", async () => {
    const admin = await openEtcdStore(options());
    try {
      await admin.client.user("root").create("root-secret");
      await admin.client.user("root").addRole("root");
      await admin.client.auth.authEnable({});
    } finally {
      await admin.close();
    }
    const store = await openEtcdStore(options({ username: "root", password: "root-secret" }));
    try {
      await store.commit({ puts: [{ key: "authenticated", value: true }] });
      assert.equal((await store.get("authenticated"))?.value, true);
    } finally {
      await store.close();
    }
    await assert.rejects(
      openEtcdStore(options({ username: "root", password: "wrong" })),
      StoreError,
    );
  });
});
