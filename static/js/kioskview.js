// What the kiosk's buttons and slip say, from the queue's public view: pure functions, no
// document, so node:test runs them (static/js/tests/kioskview.test.js). kiosk.js does the rest.
// queueing/web/screen_words.py says the same for the page the server renders (_wait, slip_estimate, kiosk_button).
//
//   import { offReason, statusPair, estimatePair } from "/static/js/kioskview.js";
//   statusPair(pair, { waiting: 2, estimate_minutes: 0.3 });  // ["等候 2 人 · 不到 1 分钟", "…"]
//   estimatePair(pair, 0);                                     // ["预计等候不到 1 分钟", "…"]
//
// `pair(key, values)` gives a word in the page's language and in English (page.js pageWords).

// "等候 3 人 · 约 18 分钟": the no-break space keeps the dot at the end of a line when it wraps.
export function join(first, second) {
  return [`${first[0]}\u00a0· ${second[0]}`, first[1] && second[1] ? `${first[1]}\u00a0· ${second[1]}` : ""];
}

const unknown = (minutes) => minutes === null || minutes === undefined;

// A service's wait: "no wait" only when no one waits and a counter is free, never while people
// wait; under a minute is said so, never "about 0 minutes".
export function waitPair(pair, minutes, waiting) {
  if (unknown(minutes)) return pair("no_counter");
  if (minutes <= 0 && !waiting) return pair("no_wait");
  if (minutes < 1) return pair("under_minute");
  return pair("about", { n: Math.ceil(minutes) });
}

// The wait a ticket's slip promises.
export function estimatePair(pair, minutes) {
  if (unknown(minutes)) return pair("estimate_none");
  if (minutes < 1) return pair("estimate_under");
  return pair("estimate", { n: Math.ceil(minutes) });
}

// Why a service's button takes no tickets now, or null when it does. `noCounter` is the hall's
// choice for a service no open counter serves: "refuse" turns its button off, "warn" does not.
export function offReason(pair, service, noCounter) {
  if (service.sold_out) return pair("sold_out");
  if (!service.open) return service.hours ? pair("closed", { hours: service.hours.join("–") }) : pair("closed_today");
  if (noCounter === "refuse" && unknown(service.estimate_minutes)) return pair("no_counter");
  return null;
}

// What a service's button says under its name.
export function statusPair(pair, service, noCounter) {
  return (
    offReason(pair, service, noCounter) ||
    join(pair("waiting", { n: service.waiting }), waitPair(pair, service.estimate_minutes, service.waiting))
  );
}
