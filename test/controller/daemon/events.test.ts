/** The daemon's event ring: bounded, ordered by sequence number, readable after a given one, followable. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type DaemonEvent, EventRing } from "../../../controller/daemon/events.js";

test("keeps the newest `capacity` events in order; since() reads after a sequence number", () => {
  const ring = new EventRing(3);
  for (let i = 1; i <= 5; i++) ring.push({ kind: "daemon", level: "info", message: `e${i}` });
  assert.deepEqual(
    ring.since().map((e) => e.message),
    ["e3", "e4", "e5"],
  );
  assert.deepEqual(
    ring.since(3).map((e) => e.seq),
    [4, 5],
  );
  assert.deepEqual(
    ring.since(0, 1).map((e) => e.seq),
    [5],
  );
  assert.deepEqual(ring.since(5), []);
  assert.match(ring.since(4)[0]?.time ?? "", /^\d{4}-\d\d-\d\dT/);
});

test("subscribers see every new event until they unsubscribe", () => {
  const ring = new EventRing(2);
  const seen: DaemonEvent[] = [];
  const stop = ring.subscribe((event) => seen.push(event));
  ring.push({ kind: "learning", level: "info", switch: "leaf1", message: "a" });
  stop();
  ring.push({ kind: "learning", level: "info", message: "b" });
  assert.deepEqual(
    seen.map((e) => [e.seq, e.switch, e.message]),
    [[1, "leaf1", "a"]],
  );
});

test("a capacity that is not a positive integer is refused", () => {
  assert.throws(() => new EventRing(0), /positive integer, got 0/);
});
