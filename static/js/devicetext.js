// The device console's texts made from data alone (no document): how long ago, how long up, a
// device's telemetry, a command's result. devices.js draws and wires the page with them.
//
//   import { agoParts, duration, resultText, telemetryText } from "./devicetext.js";
//   agoParts("2026-11-23T09:30:00Z", now)        // [-5, "minute"], for Intl.RelativeTimeFormat
//   telemetryText({ temperature: 41.2, rssi: -60 }, "up {time}")  // "41.2 °C · -60 dBm"
import { fill } from "./page.js";

// The value and unit Intl.RelativeTimeFormat says "5 minutes ago" with: negative in the past.
export function agoParts(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps = [
    [60, "second"],
    [3600, "minute", 60],
    [86400, "hour", 3600],
    [Infinity, "day", 86400],
  ];
  for (const [limit, unit, size = 1] of steps) {
    if (Math.abs(seconds) < limit) return [Math.round(seconds / size), unit];
  }
  return null; // an unreadable time
}

export function duration(seconds) {
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

// What a device last measured; `uptime` is the page's word for "up {time}".
export function telemetryText(values, uptime) {
  const parts = [];
  if (typeof values.temperature === "number") parts.push(`${values.temperature.toFixed(1)} °C`);
  if (typeof values.rssi === "number") parts.push(`${Math.round(values.rssi)} dBm`);
  if (typeof values.uptime === "number") parts.push(fill(uptime, { time: duration(values.uptime) }));
  if (typeof values.printer === "string") parts.push(values.printer);
  return parts.join(" · ");
}

export function resultText(result) {
  if (!result) return "";
  return Object.entries(result)
    .map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join(" ");
}

// -- wired devices (GET /api/v1/halls/{hall}/serial, the wire form) ---------------------------

// A line's settings as a technician writes them: "9600 8N1".
export function lineSettings(settings) {
  if (!settings) return "";
  return `${settings.baud} ${settings.data_bits}${settings.parity}${settings.stop_bits}`;
}

// The decoder's counters of thrown-away frames that are not zero, as [reason, count] pairs;
// `frames` (the good ones) is not among them.
export function badCounts(counters) {
  return Object.entries(counters || {}).filter(([reason, n]) => reason !== "frames" && n > 0);
}

// Refusals by reason, the most frequent first.
export function refusals(refused) {
  return Object.entries(refused || {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

// A frame's reason is its code, then a detail after ": " (devices/wire_log.py): the code alone.
export function reasonCode(reason) {
  return (reason || "").split(":")[0].trim();
}

// The body of POST …/devices/{id}/wire from the wire form's values (strings, as a form gives
// them). The server checks everything; this only turns numbers into numbers, and leaves out an
// empty address (a SAM reader has none) so that the server says what is missing.
export function wireBody(values) {
  const number = (text) => (/^\d+$/.test(String(text ?? "").trim()) ? Number(text) : text);
  const wire = {
    port: String(values.port ?? "").trim(),
    baud: number(values.baud),
    parity: values.parity,
    data_bits: number(values.data_bits),
    stop_bits: number(values.stop_bits),
  };
  const address = String(values.address ?? "").trim();
  if (address !== "") wire.address = number(address);
  // Only a display's form has it: the text encoding the device declares.
  if (values.encoding) wire.encoding = values.encoding;
  return { wire };
}

// The wire form's values for a device: its stored wiring, else its protocol's defaults.
export function wireValues(wire, defaults) {
  return {
    port: wire?.port ?? "",
    baud: String(wire?.baud ?? defaults?.baud ?? 9600),
    parity: wire?.parity ?? "N",
    data_bits: String(wire?.data_bits ?? 8),
    stop_bits: String(wire?.stop_bits ?? 1),
    address: wire?.address === null || wire?.address === undefined ? "" : String(wire.address),
    encoding: wire?.encoding ?? "gb18030",
  };
}
