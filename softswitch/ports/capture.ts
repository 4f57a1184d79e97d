/**
 * A pcap capture file writer (the classic libpcap format, microsecond timestamps, Ethernet link
 * type), as bmv2 writes with `--pcap DIR`. Each record is written with one synchronous write, as
 * bmv2 flushes after every packet (pcap_dump_flush), so a capture is complete up to the last
 * frame even when the switch is killed.
 */
import { closeSync, openSync, writeSync } from "node:fs";

/** pcap-savefile(5): magic, version 2.4, thiszone, sigfigs, snaplen, network. */
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
export const CAPTURE_SNAPLEN = 65535;

function wallMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class CaptureError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`capture file ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = "CaptureError";
  }
}

export class CaptureWriter {
  private fd: number | undefined;

  /** Creates (or truncates) `path` and writes the file header. */
  constructor(
    readonly path: string,
    /** Wall-clock time in microseconds since the epoch. */
    private readonly now: () => number = wallMicros,
  ) {
    try {
      this.fd = openSync(path, "w");
      const header = Buffer.alloc(24);
      header.writeUInt32LE(MAGIC_MICROSECONDS, 0);
      header.writeUInt16LE(2, 4);
      header.writeUInt16LE(4, 6);
      header.writeInt32LE(0, 8);
      header.writeUInt32LE(0, 12);
      header.writeUInt32LE(CAPTURE_SNAPLEN, 16);
      header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
      writeSync(this.fd, header);
    } catch (error) {
      throw new CaptureError(path, error);
    }
  }

  /** Appends one frame (cut to the snap length, with its original length recorded). */
  write(frame: Uint8Array): void {
    if (this.fd === undefined) return;
    const us = this.now();
    const captured = Math.min(frame.length, CAPTURE_SNAPLEN);
    const record = Buffer.alloc(16 + captured);
    record.writeUInt32LE(Math.floor(us / 1e6), 0);
    record.writeUInt32LE(us % 1e6, 4);
    record.writeUInt32LE(captured, 8);
    record.writeUInt32LE(frame.length, 12);
    record.set(frame.subarray(0, captured), 16);
    try {
      writeSync(this.fd, record);
    } catch (error) {
      throw new CaptureError(this.path, error);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
