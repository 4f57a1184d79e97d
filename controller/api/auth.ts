/**
 * Who is asking and what they may do. On the unix socket (mode 0600: only the daemon's user
 * and root can open it) the caller is the local operator. On TCP the caller is the subject
 * of a client certificate our CA signed, with its role in the subject's OU: `viewer` reads
 * (GET), `operator` also changes. Roles live in the certificate rather than in bearer tokens
 * because then the daemon keeps no secret store at all: the CA decides who is who, revocation
 * is the CA's short lifetimes, and a stolen token file cannot be replayed without the key.
 */
import type { PeerCertificate, TLSSocket } from "node:tls";
import { ApiError } from "./errors.js";

export type Role = "viewer" | "operator";

export interface Actor {
  /** How the caller is named in logs and events: `uid:1000` or the certificate subject. */
  name: string;
  role: Role;
  transport: "unix" | "tls";
}

export const roles: readonly Role[] = ["viewer", "operator"];

/** A certificate subject as one line, e.g. `CN=alice,OU=operator,O=example`. */
export function subjectText(certificate: PeerCertificate | undefined): string {
  const subject = certificate?.subject;
  if (!subject || Object.keys(subject).length === 0) return "(no certificate)";
  return Object.entries(subject)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : value}`)
    .join(",");
}

/** The role named by the certificate's OU (several OUs: the first that is a role). */
function roleOf(certificate: PeerCertificate): Role | undefined {
  const ou = certificate.subject?.OU;
  const units = Array.isArray(ou) ? ou : ou ? [ou] : [];
  return roles.find((role) => units.includes(role));
}

/** The actor of a TLS connection, or a 401/403 saying why not. */
export function tlsActor(socket: TLSSocket): Actor {
  const certificate = socket.getPeerCertificate();
  const subject = subjectText(certificate);
  if (!certificate || Object.keys(certificate).length === 0) {
    throw new ApiError(401, "unauthenticated", "a client certificate is required");
  }
  if (!socket.authorized) {
    throw new ApiError(
      401,
      "unauthenticated",
      `client certificate ${subject} is not trusted: ${String(socket.authorizationError)}`,
    );
  }
  const role = roleOf(certificate);
  if (!role) {
    throw new ApiError(
      403,
      "forbidden",
      `client certificate ${subject} names no role (OU=viewer or OU=operator)`,
    );
  }
  return { name: subject, role, transport: "tls" };
}

/** Refuses a change to a viewer. */
export function authorize(actor: Actor, access: "read" | "change", what: string): void {
  if (access === "change" && actor.role !== "operator") {
    throw new ApiError(
      403,
      "forbidden",
      `${actor.name} is a ${actor.role}: ${what} needs operator`,
    );
  }
}
