// The device console's texts from data: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { agoParts, duration, resultText, telemetryText } from "../devicetext.js";

const now = Date.parse("2026-11-23T10:00:00Z");

test("agoParts picks the unit by the distance, negative in the past", () => {
  assert.deepEqual(agoParts("2026-11-23T09:59:30Z", now), [-30, "second"]);
  assert.deepEqual(agoParts("2026-11-23T09:55:00Z", now), [-5, "minute"]);
  assert.deepEqual(agoParts("2026-11-23T07:00:00Z", now), [-3, "hour"]);
  assert.deepEqual(agoParts("2026-11-20T10:00:00Z", now), [-3, "day"]);
  assert.equal(agoParts("not a time", now), null);
});

test("duration says minutes, hours or days", () => {
  assert.equal(duration(600), "10 min");
  assert.equal(duration(5400), "1.5 h");
  assert.equal(duration(3 * 86400), "3.0 d");
});

test("telemetryText joins what was measured, with the page's word for the uptime", () => {
  assert.equal(
    telemetryText({ temperature: 41.25, rssi: -60.4, uptime: 7200, printer: "ok" }, "运行 {time}"),
    "41.3 °C · -60 dBm · 运行 2.0 h · ok",
  );
  assert.equal(telemetryText({ firmware: "1.2" }, "up {time}"), "");
});

test("resultText writes key=value, objects as JSON", () => {
  assert.equal(resultText({ ok: true, slots: [1, 2] }), "ok=true slots=[1,2]");
  assert.equal(resultText(null), "");
});
