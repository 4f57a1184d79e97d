/**
 * A P4Runtime connection that fails TLS says which check failed (issue 16), against the
 * softswitch's real TLS server: unknown CA, hostname mismatch, expired certificate, and the
 * switch refusing a client without a certificate. The expired certificate and its CA are made
 * by the test (Python's cryptography package), in a temporary directory.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { P4RuntimeClient, type TlsOptions } from "../../../controller/p4rt/client.js";
import { P4RuntimeRpcError } from "../../../controller/p4rt/errors.js";
import { SoftswitchDevice } from "../../../softswitch/device.js";
import {
  type ServerTlsOptions,
  startP4RuntimeServer,
} from "../../../softswitch/p4runtime/server.js";
import { repoRoot } from "../../../topologies/repo.js";

const fixture = (name: string) => readFileSync(join(repoRoot, "test/fixtures/tls", name));
const serverTls: ServerTlsOptions = {
  certChain: fixture("server.pem"),
  privateKey: fixture("server.key"),
};
const trusting: TlsOptions = { rootCert: fixture("ca.pem") };

/** A CA and a server certificate for 127.0.0.1 that expired in 2020. */
const expiredScript = `
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
import ipaddress
out = sys.argv[1]
def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def pem(path, data): open(path, "wb").write(data)
ca_key = ec.generate_private_key(ec.SECP256R1())
start = datetime.datetime(2019, 1, 1); end = datetime.datetime(2020, 1, 1)
ca = (x509.CertificateBuilder().subject_name(name("expired test CA")).issuer_name(name("expired test CA"))
      .public_key(ca_key.public_key()).serial_number(1).not_valid_before(start).not_valid_after(datetime.datetime(2126, 1, 1))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
key = ec.generate_private_key(ec.SECP256R1())
cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(2).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256()))
pem(out + "/ca.pem", ca.public_bytes(serialization.Encoding.PEM))
pem(out + "/server.pem", cert.public_bytes(serialization.Encoding.PEM))
pem(out + "/server.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
`;

/** The message connect() fails with. */
async function connectFailure(address: string, tls: TlsOptions): Promise<string> {
  const client = new P4RuntimeClient({
    address,
    deviceId: 0,
    electionId: 1n,
    reconnect: false,
    connectTimeoutMs: 1500,
    tls,
  });
  try {
    await client.connect();
    assert.fail("the connection should have failed");
  } catch (error) {
    assert.ok(error instanceof P4RuntimeRpcError, String(error));
    return error.message;
  } finally {
    client.close();
  }
}

async function withServer(
  tls: ServerTlsOptions,
  host: string,
  body: (address: string) => Promise<void>,
) {
  const server = await startP4RuntimeServer({
    device: new SoftswitchDevice(),
    address: `${host}:0`,
    tls,
  });
  try {
    await body(server.address);
  } finally {
    await server.close();
  }
}

describe("P4Runtime client: TLS failures name the failed check", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nvgre-tls-"));
    execFileSync("/usr/bin/python3", ["-c", expiredScript, dir]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: {
    name: string;
    server: () => ServerTlsOptions;
    host: string;
    client: () => TlsOptions;
    expect: RegExp;
  }[] = [
    {
      name: "a switch certificate from a CA the client does not trust",
      server: () => serverTls,
      host: "127.0.0.1",
      client: () => ({ rootCert: fixture("client.pem") }),
      expect: /TLS: unknown CA/,
    },
    {
      name: "a certificate for another address (127.0.0.1, reached as 127.0.0.2)",
      server: () => serverTls,
      host: "127.0.0.2",
      client: () => trusting,
      expect: /TLS: hostname mismatch: the switch's certificate is not for 127\.0\.0\.2/,
    },
    {
      name: "an expired switch certificate",
      server: () => ({
        certChain: readFileSync(join(dir, "server.pem")),
        privateKey: readFileSync(join(dir, "server.key")),
      }),
      host: "127.0.0.1",
      client: () => ({ rootCert: readFileSync(join(dir, "ca.pem")) }),
      expect: /TLS: expired/,
    },
    {
      name: "mutual TLS: the switch refuses a client without a certificate",
      server: () => ({ ...serverTls, clientCa: fixture("ca.pem") }),
      host: "127.0.0.1",
      client: () => trusting,
      expect: /TLS: handshake refused/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      await withServer(c.server(), c.host, async (address) => {
        const message = await connectFailure(address, c.client());
        assert.match(message, c.expect);
        assert.doesNotMatch(message, /Failed to connect before the deadline/);
      });
    });
  }
});
