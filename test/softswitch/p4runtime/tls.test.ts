/**
 * The softswitch's P4Runtime server over TLS and mutual TLS, with the project's client and the
 * test-only certificates in test/fixtures/tls (a CA, a server certificate for 127.0.0.1, a client
 * certificate).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { P4RuntimeClient, type TlsOptions } from "../../../controller/p4rt/client.js";
import { P4RuntimeRpcError } from "../../../controller/p4rt/errors.js";
import { SoftswitchDevice } from "../../../softswitch/device.js";
import {
  P4RUNTIME_API_VERSION,
  type ServerTlsOptions,
  startP4RuntimeServer,
} from "../../../softswitch/p4runtime/server.js";
import { repoRoot } from "../../../topologies/repo.js";

const file = (name: string) => readFileSync(join(repoRoot, "test/fixtures/tls", name));
const serverTls: ServerTlsOptions = {
  certChain: file("server.pem"),
  privateKey: file("server.key"),
};
const trusting: TlsOptions = { rootCert: file("ca.pem") };
const withClientCert: TlsOptions = {
  ...trusting,
  certChain: file("client.pem"),
  privateKey: file("client.key"),
};

/** The API version the server reports, or the gRPC code it fails with. */
async function capabilities(
  address: string,
  tls: TlsOptions | undefined,
): Promise<string | number> {
  const c = new P4RuntimeClient({
    address,
    deviceId: 0,
    electionId: 1n,
    reconnect: false,
    ...(tls ? { tls } : {}),
  });
  try {
    return await c.capabilities();
  } catch (error) {
    assert.ok(error instanceof P4RuntimeRpcError, String(error));
    return error.code;
  } finally {
    c.close();
  }
}

async function withServer(tls: ServerTlsOptions, body: (address: string) => Promise<void>) {
  const device = new SoftswitchDevice();
  const server = await startP4RuntimeServer({ device, address: "127.0.0.1:0", tls });
  try {
    await body(server.address);
  } finally {
    await server.close();
  }
}

describe("P4Runtime server TLS (softswitch)", () => {
  test("TLS: a client trusting the CA is served; a plaintext client is not", async () => {
    await withServer(serverTls, async (address) => {
      assert.equal(await capabilities(address, trusting), P4RUNTIME_API_VERSION);
      assert.equal(await capabilities(address, undefined), grpc.status.UNAVAILABLE);
    });
  });

  test("mutual TLS: only a client with a certificate from the CA is served", async () => {
    await withServer({ ...serverTls, clientCa: file("ca.pem") }, async (address) => {
      assert.equal(await capabilities(address, withClientCert), P4RUNTIME_API_VERSION);
      assert.equal(await capabilities(address, trusting), grpc.status.UNAVAILABLE);
    });
  });
});
