/**
 * The order of a multicast group's nodes as PI attaches them in bmv2. Expected orders are what
 * simple_switch_grpc 1.15 (PI) did with these groups (one replica per rid, all on one port,
 * the rid read back from each copy): first insertions, bucket collisions (13 buckets), rehashes
 * past 13 and 29 rids, and a MODIFY.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { piNodeOrder } from "../../softswitch/core/pi-node-order.js";

describe("PI multicast node order (bmv2 replication order)", () => {
  it("matches what bmv2 did on INSERT", () => {
    const cases: [number[], number[]][] = [
      [
        [1, 2, 3],
        [3, 2, 1],
      ],
      [
        [5, 18, 3, 31, 0, 7],
        [7, 0, 3, 31, 18, 5],
      ],
      [
        [1, 14, 27, 2, 15],
        [15, 2, 27, 14, 1],
      ],
      [
        [0, 7, 14, 21, 28, 35, 2, 9, 16, 23, 30, 37, 4, 11, 18, 25, 32, 39, 6, 13],
        [13, 39, 32, 25, 18, 11, 0, 7, 14, 21, 28, 2, 6, 35, 9, 16, 23, 30, 4, 37],
      ],
      [
        [
          3, 14, 25, 36, 47, 58, 69, 80, 91, 5, 16, 27, 38, 49, 60, 71, 82, 93, 7, 18, 29, 40, 51,
          62, 73, 84, 95, 9, 20, 31, 42, 53, 64, 75, 86,
        ],
        [
          53, 42, 31, 64, 5, 91, 80, 51, 69, 40, 58, 29, 47, 18, 7, 38, 9, 86, 27, 75, 16, 62, 3,
          49, 20, 60, 71, 82, 93, 14, 73, 25, 84, 36, 95,
        ],
      ],
    ];
    for (const [rids, bmv2] of cases) assert.deepEqual(piNodeOrder(rids), bmv2, `${rids}`);
  });

  it("matches bmv2 on MODIFY: kept nodes stay in place, new ones follow", () => {
    assert.deepEqual(piNodeOrder([9, 3, 40, 1, 22], piNodeOrder([1, 2, 3])), [3, 1, 40, 22, 9]);
  });
});
