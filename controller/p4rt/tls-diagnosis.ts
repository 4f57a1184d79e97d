/**
 * Why a TLS connection to a switch failed. gRPC reports every failed connection as "Failed to
 * connect before the deadline"; this repeats the handshake with node:tls and the same
 * credentials to name the check that failed (unknown CA, hostname, expiry, the switch refusing
 * our certificate), so an operator knows which file to fix.
 */
import { connect, type TLSSocket } from "node:tls";

export interface TlsOptions {
  /** PEM of the CA that signed the switch's certificate; the system roots when absent. */
  rootCert?: Buffer;
  /** Client key and certificate chain (PEM), both or neither: mutual TLS. */
  privateKey?: Buffer;
  certChain?: Buffer;
}

/** OpenSSL verification codes → what they mean for the operator. */
const verifyFailures: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown CA: the switch's certificate is not signed by rootCert",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "unknown CA: the switch's certificate is not signed by rootCert",
  UNABLE_TO_GET_ISSUER_CERT: "unknown CA: the switch's certificate is not signed by rootCert",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown CA: the switch's chain ends in a CA rootCert does not hold",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown CA: the switch's certificate is self-signed",
  CERT_HAS_EXPIRED: "expired: the switch's certificate is past its notAfter date",
  CERT_NOT_YET_VALID: "not yet valid: the switch's certificate is before its notBefore date",
  CERT_REVOKED: "revoked: the switch's certificate is revoked",
};

/** Splits `host:port` / `[v6]:port` as gRPC reads a target. */
function hostAndPort(address: string): { host: string; port: number } {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  return match
    ? { host: match[1] as string, port: Number(match[2]) }
    : { host: address, port: 443 };
}

/**
 * A sentence naming the failed check, or undefined when a TLS handshake with these credentials
 * succeeds (then TLS is not what failed).
 */
export function diagnoseTls(
  address: string,
  tls: TlsOptions,
  timeoutMs = 3000,
): Promise<string | undefined> {
  const { host, port } = hostAndPort(address);
  const isIp = /^[\d.]+$|:/.test(host);
  return new Promise((resolve) => {
    let socket: TLSSocket | undefined;
    const finish = (why: string | undefined) => {
      clearTimeout(timer);
      socket?.destroy();
      resolve(why);
    };
    const timer = setTimeout(
      () => finish(`no TLS handshake within ${timeoutMs} ms (is the switch serving TLS?)`),
      timeoutMs,
    );
    socket = connect({
      host,
      port,
      ...(isIp ? {} : { servername: host }),
      ALPNProtocols: ["h2"],
      ...(tls.rootCert ? { ca: tls.rootCert } : {}),
      ...(tls.privateKey ? { key: tls.privateKey } : {}),
      ...(tls.certChain ? { cert: tls.certChain } : {}),
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(describeFailure(error, host)));
    // With TLS 1.3 the switch judges our certificate after our side is done: wait for its
    // first HTTP/2 frame (accepted) or its alert (refused).
    socket.on("secureConnect", () => socket?.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    socket.on("data", () => finish(undefined));
    socket.on("end", () =>
      finish(
        "handshake refused: the switch closed the connection (does it require a client certificate?)",
      ),
    );
  });
}

function describeFailure(error: NodeJS.ErrnoException, host: string): string {
  const code = error.code ?? "";
  const known = verifyFailures[code];
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `hostname mismatch: the switch's certificate is not for ${host} (${error.message})`;
  }
  if (known) return `${known} (${code})`;
  if (code === "ECONNREFUSED") return `connection refused by ${host}`;
  if (/alert|ERR_SSL/i.test(code) || /alert/i.test(error.message)) {
    return `handshake refused by the switch: ${error.message.replace(/^.*SSL routines:/, "")} (client certificate missing or not trusted by the switch?)`;
  }
  if (code === "ECONNRESET" || code === "EPIPE") {
    return "handshake refused: the switch reset the connection (client certificate missing or not trusted?)";
  }
  return `TLS failed: ${error.message}`;
}
