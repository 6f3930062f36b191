// The device console's texts from data: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  agoParts,
  badCounts,
  duration,
  lineSettings,
  reasonCode,
  refusals,
  resultText,
  telemetryText,
  wireBody,
  wireValues,
} from "../devicetext.js";

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

test("a line's settings read as 9600 8N1", () => {
  assert.equal(lineSettings({ baud: 9600, parity: "N", data_bits: 8, stop_bits: 1, address: null }), "9600 8N1");
  assert.equal(lineSettings(null), "");
});

test("bad counts leave out the good frames and the zeros; refusals come most frequent first", () => {
  assert.deepEqual(badCounts({ frames: 12, bad_checksum: 2, truncated: 0, dropped_bytes: 5 }), [
    ["bad_checksum", 2],
    ["dropped_bytes", 5],
  ]);
  assert.deepEqual(refusals({ busy: 1, counter_closed: 3, nak: 0 }), [
    ["counter_closed", 3],
    ["busy", 1],
  ]);
  assert.equal(reasonCode("bad_checksum: expected 0x12"), "bad_checksum");
  assert.equal(reasonCode(""), "");
});

test("the wire form gives numbers as numbers and no empty address", () => {
  const values = { port: " /dev/ttyUSB0 ", baud: "9600", parity: "E", data_bits: "8", stop_bits: "1", address: "3" };
  assert.deepEqual(wireBody(values), {
    wire: { port: "/dev/ttyUSB0", baud: 9600, parity: "E", data_bits: 8, stop_bits: 1, address: 3 },
  });
  assert.equal("address" in wireBody({ ...values, address: "" }).wire, false);
  assert.equal(wireBody({ ...values, address: "x1" }).wire.address, "x1"); // the server says why
  assert.equal(wireBody({ ...values, encoding: "utf-8" }).wire.encoding, "utf-8"); // a display's
  assert.equal("encoding" in wireBody(values).wire, false);
});

test("the wire form starts from the stored wiring, else the protocol's defaults", () => {
  assert.deepEqual(wireValues(null, { baud: 115200 }), {
    port: "",
    baud: "115200",
    parity: "N",
    data_bits: "8",
    stop_bits: "1",
    address: "",
    encoding: "gb18030",
  });
  const stored = { port: "/dev/ttyS1", baud: 19200, parity: "O", data_bits: 7, stop_bits: 2, address: 4 };
  assert.equal(wireValues(stored, { baud: 9600 }).address, "4");
  assert.equal(wireValues(stored, { baud: 9600 }).baud, "19200");
});
