// What the counter console shows, from the counter view and the page's words: pure functions, no
// document, so node:test runs them (static/js/tests/counterview.test.js). counter.js does the rest:
// the buttons, dialogs and keys, the requests, the realtime topic.
//
//   import { allowedActions, keyAction, statusText } from "/static/js/counterview.js";
//   const can = allowedActions(view, { me, supervisor });   // {"call-next": true, recall: false, …}
//   keyAction("n", view.counter.status);                     // "call-next"; "p" pauses or resumes
//   statusText(view.counter, word);                          // "暂停 · 午休"
//
// The server stays the judge of every action: allowedActions only greys out what it would refuse,
// so a clerk is not invited to press a button that cannot work.

// A service's name in the page's language; the code when the view does not know it.
export function serviceName(services, code, english) {
  const found = services?.find((s) => s.code === code);
  if (!found) return code;
  return english && found.name_en ? found.name_en : found.name;
}

// [code, name] for each service, for the follow-on and transfer lists.
export function serviceChoices(services, english) {
  return (services || []).map((s) => [s.code, serviceName(services, s.code, english)]);
}

// [number, "name · state"] for every other counter, for the transfer list.
export function counterChoices(counters, number, word) {
  return (counters || [])
    .filter((c) => c.number !== number)
    .map((c) => [String(c.number), `${c.name || c.number} · ${word(c.status)}`]);
}

// Whole minutes since a time, never below zero (a clock a little ahead of the server's).
export function minutesSince(iso, now = Date.now()) {
  return Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
}

// A staff member as the console names them: "name · staff no.", "(you)" after the clerk's own.
export function personName(staff, id, me, you) {
  if (id === null || id === undefined) return "";
  const person = staff[String(id)];
  const name = person ? `${person.name}${person.staff_no ? ` · ${person.staff_no}` : ""}` : `#${id}`;
  return id === me ? `${name} (${you})` : name;
}

// The counter's state, with the pause's reason after it.
export function statusText(counter, word) {
  const reason = counter.status === "paused" && counter.pause_reason ? ` · ${counter.pause_reason}` : "";
  return word(counter.status) + reason;
}

// Which actions make sense now (keys are the buttons' data-action and data-dialog).
export function allowedActions(view, { me, supervisor }) {
  const status = view?.counter?.status ?? "closed";
  // A supervisor may pause, resume or close another clerk's counter, but only its clerk serves.
  const mine = view?.counter?.clerk === me;
  const steer = mine || supervisor;
  const ticket = view?.current;
  const state = ticket?.state;
  const live = status !== "closed" && mine;
  const withTicket = live && (state === "called" || state === "serving");
  return {
    open: status === "closed",
    "pause-dialog": status === "open" && steer,
    resume: status === "paused" && steer,
    close: status !== "closed" && steer,
    "call-next": status === "open" && mine && !ticket,
    recall: live && state === "called",
    start: live && state === "called",
    finish: live && state === "serving",
    "no-show": live && state === "called",
    "transfer-dialog": withTicket,
    "transfer-back": withTicket && Boolean(ticket?.previous_service),
    "hold-dialog": withTicket,
  };
}

// The console's shortcuts (documented on the page). F1 and N call the next; P pauses an open
// counter and resumes a paused one.
const KEYS = {
  F1: "call-next",
  n: "call-next",
  r: "recall",
  s: "start",
  f: "finish",
  x: "no-show",
  t: "transfer-dialog",
  h: "hold-dialog",
};

export function keyAction(key, status) {
  if (key.toLowerCase() === "p") return status === "paused" ? "resume" : "pause-dialog";
  return KEYS[key] || KEYS[key.toLowerCase()] || null;
}
