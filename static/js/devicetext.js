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
