/**
 * The uid of the process at the other end of a unix socket connection, for the log and the
 * audit record. Node does not expose SO_PEERCRED, so the peer is found as the kernel reports
 * it to `ss` (iproute2, sock_diag): our end's inode names the peer's inode, whose line names
 * the process; /proc gives its real uid. Looked up once per connection.
 */
import { execFile } from "node:child_process";
import { readFile, readlink } from "node:fs/promises";
import type { Socket } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);
const known = new WeakMap<Socket, Promise<number | undefined>>();

export function peerUid(socket: Socket): Promise<number | undefined> {
  let uid = known.get(socket);
  if (!uid) {
    uid = lookUp(socket).catch(() => undefined);
    known.set(socket, uid);
  }
  return uid;
}

async function lookUp(socket: Socket): Promise<number | undefined> {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return undefined;
  const ours = /socket:\[(\d+)\]/.exec(await readlink(`/proc/self/fd/${fd}`))?.[1];
  if (!ours) return undefined;
  const { stdout } = await run("ss", ["-xpnH"], { maxBuffer: 16 * 1024 * 1024 });
  // Columns: netid state recv-q send-q local-address local-inode peer-address peer-inode users.
  const rows = stdout.split("\n").map((line) => line.trim().split(/\s+/));
  const peerInode = rows.find((cols) => cols[5] === ours)?.[7];
  const peerRow = rows.find((cols) => cols[5] === peerInode);
  const pid = /pid=(\d+)/.exec(peerRow?.slice(8).join(" ") ?? "")?.[1];
  if (!pid) return undefined;
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  return uid === undefined ? undefined : Number(uid);
}
