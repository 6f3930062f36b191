// The kiosk's words (kioskview.js), in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { estimatePair, offReason, statusPair, waitPair } from "../kioskview.js";
import { wordBook } from "../page.js";

// The zh-CN catalog's words, as the kiosk page hands them over.
const { pair } = wordBook({
  waiting: ["等候 {n} 人", "Waiting: {n}"],
  about: ["约 {n} 分钟", "About {n} min"],
  no_wait: ["无需等候", "No wait"],
  under_minute: ["不到 1 分钟", "Under 1 minute"],
  no_counter: ["暂无窗口开放", "No counter open"],
  estimate: ["预计等候约 {n} 分钟", "Estimated wait: about {n} min"],
  estimate_under: ["预计等候不到 1 分钟", "Estimated wait: under 1 minute"],
  estimate_none: ["尚无窗口开放", "No counter is open yet"],
  sold_out: ["今日号已取完", "All of today's tickets are taken"],
  closed: ["暂停取号 · 办理时间 {hours}", "Not taking tickets now · hours {hours}"],
  closed_today: ["今日不办理", "Not offered today"],
});

const open = { waiting: 0, estimate_minutes: 0, open: true, sold_out: false, hours: ["09:00", "17:00"] };

test("no wait is said only when no one waits and a counter is free", () => {
  assert.deepEqual(waitPair(pair, 0, 0), ["无需等候", "No wait"]);
  assert.deepEqual(statusPair(pair, open, "warn"), ["等候 0 人\u00a0· 无需等候", "Waiting: 0\u00a0· No wait"]);
});

test("while people wait, a wait under a minute is under 1 minute, never no wait", () => {
  assert.deepEqual(waitPair(pair, 0, 2), ["不到 1 分钟", "Under 1 minute"]);
  assert.deepEqual(waitPair(pair, 0.4, 2), ["不到 1 分钟", "Under 1 minute"]);
  assert.deepEqual(waitPair(pair, 0.4, 0), ["不到 1 分钟", "Under 1 minute"]); // a counter still busy
  const line = statusPair(pair, { ...open, waiting: 2, estimate_minutes: 0.3 }, "warn");
  assert.deepEqual(line, ["等候 2 人\u00a0· 不到 1 分钟", "Waiting: 2\u00a0· Under 1 minute"]);
  assert.equal(line[0].includes("无需等候"), false);
  assert.deepEqual(waitPair(pair, 1, 2), ["约 1 分钟", "About 1 min"]);
  assert.deepEqual(waitPair(pair, 12.1, 5), ["约 13 分钟", "About 13 min"]);
});

test("the slip never promises about 0 minutes", () => {
  assert.deepEqual(estimatePair(pair, 0), ["预计等候不到 1 分钟", "Estimated wait: under 1 minute"]);
  assert.deepEqual(estimatePair(pair, 0.99), ["预计等候不到 1 分钟", "Estimated wait: under 1 minute"]);
  assert.deepEqual(estimatePair(pair, 1), ["预计等候约 1 分钟", "Estimated wait: about 1 min"]);
  assert.deepEqual(estimatePair(pair, null), ["尚无窗口开放", "No counter is open yet"]);
});

test("a service no open counter serves takes tickets unless the hall refuses them then", () => {
  const unserved = { ...open, estimate_minutes: null };
  assert.equal(offReason(pair, unserved, "warn"), null);
  assert.deepEqual(statusPair(pair, unserved, "warn"), ["等候 0 人\u00a0· 暂无窗口开放", "Waiting: 0\u00a0· No counter open"]);
  assert.deepEqual(offReason(pair, unserved, "refuse"), ["暂无窗口开放", "No counter open"]);
  assert.equal(offReason(pair, open, "refuse"), null); // served: no reason to refuse
  // Closed and sold out come first, whatever the policy.
  assert.deepEqual(offReason(pair, { ...unserved, sold_out: true }, "refuse"), ["今日号已取完", "All of today's tickets are taken"]);
  assert.deepEqual(offReason(pair, { ...open, open: false }, "warn"), ["暂停取号 · 办理时间 09:00–17:00", "Not taking tickets now · hours 09:00–17:00"]);
  assert.deepEqual(offReason(pair, { ...open, open: false, hours: null }, "warn"), ["今日不办理", "Not offered today"]);
});
