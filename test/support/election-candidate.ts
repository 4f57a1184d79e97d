/**
 * Child process for the election tests: one controller replica's election on etcd. It joins,
 * campaigns, and reports on stdout in JSON lines:
 *   {"event":"joined","ordinal":n}   {"event":"leading","term":t}   {"event":"lost","term":t,"why":"…"}
 * After losing it campaigns again. Commands on stdin: `resign` (step down, then campaign again
 * after `campaign`), `campaign`, `close` (leave gracefully and exit), `block MS` (hold the event
 * loop busy that long, as a large compile would, then report {"event":"unblocked"}).
 *
 *   node dist/test/support/election-candidate.js ENDPOINTS PREFIX MEMBER_ID TTL_SECONDS [MAX_STALL_SECONDS]
 */
import { hostname } from "node:os";
import { createInterface } from "node:readline";
import { createEtcdElection } from "../../controller/cluster/election.js";
import type { Leadership } from "../../controller/cluster/types.js";
import { openEtcdStore } from "../../controller/intent/store/etcd.js";

const [endpoints, prefix, id, ttl, maxStall] = process.argv.slice(2);
if (!endpoints || !prefix || !id || !ttl) {
  throw new Error("usage: election-candidate.js ENDPOINTS PREFIX MEMBER_ID TTL_SECONDS");
}
const report = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const store = await openEtcdStore({
  endpoints: endpoints.split(","),
  prefix,
  requestTimeoutMs: 1000,
});
const election = createEtcdElection(store, {
  ttlSeconds: Number(ttl),
  ...(maxStall && { maxStallSeconds: Number(maxStall) }),
});
await election.join({
  id,
  host: hostname(),
  pid: process.pid,
  startedAt: new Date().toISOString(),
});
report({ event: "joined", ordinal: election.memberOrdinal() });

let leadership: Leadership | undefined;
let campaigning = false;
let closing = false;
async function campaign(): Promise<void> {
  if (campaigning || leadership) return;
  campaigning = true;
  const won = await election.campaign();
  campaigning = false;
  leadership = won;
  report({ event: "leading", term: won.term, ordinal: election.memberOrdinal() });
  const why = await won.lost;
  leadership = undefined;
  report({ event: "lost", term: won.term, why });
  if (why !== "resigned" && !closing) void campaign();
}
void campaign();

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = line.trim();
  if (command === "resign") void leadership?.resign();
  if (command === "campaign") void campaign();
  if (command.startsWith("block ")) {
    const until = performance.now() + Number(command.slice("block ".length));
    while (performance.now() < until) {
      // busy: no timer, no I/O callback runs meanwhile
    }
    report({ event: "unblocked" });
  }
  if (command === "close") {
    closing = true;
    void election
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  }
});
