/** Capture files (pcap) read back by Scapy, the tests' reference, not by the code that wrote them. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { debianPython } from "../../topologies/scapy.js";

const READ = `
import json, sys
from scapy.utils import PcapReader
r = PcapReader(sys.argv[1])
print(json.dumps({"linktype": r.linktype, "frames": [bytes(p).hex() for p in r]}))
`;

/** The link type and the frames (hex) of a pcap file. */
export function readCapture(path: string): { linktype: number; frames: string[] } {
  const out = spawnSync(debianPython, ["-c", READ, path], { encoding: "utf8" });
  assert.equal(out.status, 0, `reading ${path}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}
