// Times on the hall's clock (page.js timeIn, dateTimeIn), in Node: node --test static/js/tests/
// Node runs in whatever zone the machine has; the hall's zone is given, so the result is the same.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { dateTimeIn, timeIn } from "../page.js";

const AT = "2026-12-21T09:30:05Z";

test("timeIn shows an instant on the clock of the zone it is given", () => {
  assert.equal(timeIn(AT, "Asia/Shanghai"), "17:30");
  assert.equal(timeIn(AT, "Asia/Urumqi"), "15:30");
  assert.equal(timeIn(AT, "UTC"), "09:30");
  assert.equal(timeIn(AT, "Asia/Urumqi", { seconds: true }), "15:30:05");
  assert.equal(timeIn(Date.parse(AT), "UTC"), "09:30");
});

test("timeIn and dateTimeIn leave a missing time empty", () => {
  assert.equal(timeIn("", "UTC"), "");
  assert.equal(timeIn(null, "UTC"), "");
  assert.equal(dateTimeIn(undefined, "UTC"), "");
});

test("dateTimeIn gives the date of the hall's day, not the browser's", () => {
  const late = "2026-12-21T20:30:00Z"; // already the 22nd in Beijing
  assert.match(dateTimeIn(late, "Asia/Shanghai", "zh-CN"), /2026\/12\/22\s+04:30/);
  assert.match(dateTimeIn(late, "UTC", "zh-CN"), /2026\/12\/21\s+20:30/);
  assert.match(dateTimeIn(late, "UTC", "en"), /12\/21\/26,?\s+20:30/);
});

// The class of defect, not the one example: a script that formats a time with the browser's zone
// (toLocaleTimeString, or an Intl.DateTimeFormat without timeZone) shows the wrong hour to a clerk
// whose laptop is set to another zone than the hall.
test("no page script formats a time without the hall's zone", () => {
  const folder = new URL("..", import.meta.url);
  const wrong = [];
  for (const name of readdirSync(folder).filter((n) => n.endsWith(".js"))) {
    const source = readFileSync(new URL(name, folder), "utf8");
    for (const [index, line] of source.split("\n").entries()) {
      if (/\.toLocale(Time|Date)?String\(/.test(line)) wrong.push(`${name}:${index + 1}: ${line.trim()}`);
    }
    for (const match of source.matchAll(/new Intl\.DateTimeFormat\(([^;]*?)\)/gs)) {
      if (!/timeZone/.test(match[1])) wrong.push(`${name}: Intl.DateTimeFormat(${match[1].slice(0, 60)}) has no timeZone`);
    }
  }
  assert.deepEqual(wrong, []);
});
