/**
 * A throwaway certificate authority for the demo's and the tests' mTLS, made with Debian's
 * `openssl` in a directory the caller owns: a CA, certificates it signs (a server with
 * loopback names, clients with a subject of the caller's choice, e.g. `OU=operator`), and a
 * PKCS#12 bundle of one for a browser to import. Never for production: keys are unencrypted.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pem {
  cert: string;
  key: string;
}

export class ThrowawayPki {
  readonly ca: Pem;

  /** Creates the CA `name` in `dir` (files `<name>-ca.pem`, `<name>-ca.key`). */
  constructor(
    private readonly dir: string,
    readonly name = "nvgre-test",
  ) {
    this.ca = { cert: join(dir, `${name}-ca.pem`), key: join(dir, `${name}-ca.key`) };
    openssl(
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      ...["-keyout", this.ca.key, "-out", this.ca.cert, "-days", "2"],
      ...["-subj", `/CN=${name} CA`],
    );
  }

  /** A certificate the CA signs for `subject` (e.g. `/CN=alice/OU=operator`). */
  issue(file: string, subject: string, options: { server?: boolean } = {}): Pem {
    const pem = { cert: join(this.dir, `${file}.pem`), key: join(this.dir, `${file}.key`) };
    const csr = join(this.dir, `${file}.csr`);
    const ext = join(this.dir, `${file}.ext`);
    writeFileSync(
      ext,
      options.server
        ? "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        : "extendedKeyUsage=clientAuth\n",
    );
    openssl(
      ...["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      ...["-keyout", pem.key, "-out", csr, "-subj", subject],
    );
    openssl(
      ...["x509", "-req", "-in", csr, "-CA", this.ca.cert, "-CAkey", this.ca.key],
      ...["-CAcreateserial", "-out", pem.cert, "-days", "2", "-extfile", ext],
    );
    return pem;
  }
}

export function pkcs12(pem: Pem, file: string, password: string): void {
  openssl(
    ...["pkcs12", "-export", "-in", pem.cert, "-inkey", pem.key, "-out", file],
    ...["-passout", `pass:${password}`],
  );
}

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}
