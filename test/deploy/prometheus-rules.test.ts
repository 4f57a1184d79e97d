/**
 * deploy/prometheus/alerts.yml passes Debian's `promtool check rules`, and its unit tests
 * (alerts_test.yml: switch not primary / disconnected / out of sync, drift, drops by reason
 * rising, a VSID losing its traffic, and the cases that must not fire) pass `promtool test rules`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";

const dir = `${repoRoot}deploy/prometheus`;

function promtool(...args: string[]) {
  return spawnSync("promtool", args, { cwd: dir, encoding: "utf8" });
}

test("the alert rules pass promtool check rules", () => {
  const result = promtool("check", "rules", "alerts.yml");
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /SUCCESS: 7 rules found/);
});

test("the alert rules' unit tests pass promtool test rules (each alert fires when it should, not before)", () => {
  const result = promtool("test", "rules", "alerts_test.yml");
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /SUCCESS/);
});
