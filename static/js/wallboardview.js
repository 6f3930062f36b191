// What the wallboard shows, from its topic's snapshot and the events that follow it: pure functions,
// no document, so node:test runs them (static/js/tests/wallboardview.test.js) and the server's tests
// check that a snapshot folded forward with the live events equals the next snapshot
// (tests/queueing/test_wallboard.py). wallboard.js draws the board and sends the buttons' requests.
//
//   let board = boardOf(snapshot.data);      // counters, lines, work orders, latest events
//   board = fold(board, event, seq);          // one live event, as the topic delivers it
//   sentence(event, { word, has, timeZone, lang, staff, services });  // "10:05 A023 号到 5 号窗口办理"
//
// A line's estimated wait depends on the whole queue: the board re-reads it from the queue API
// after ticket events; the waiting counts come with every ticket event.

import { fill, timeIn } from "./page.js";

// Events the board keeps in its 最新动态 list.
export const RECENT_EVENTS = 30;

const STATUS_AFTER = {
  "counter.opened": "open",
  "counter.paused": "paused",
  "counter.resumed": "open",
  "counter.closed": "closed",
};

function byDue(a, b) {
  return a.due.localeCompare(b.due) || a.id.localeCompare(b.id);
}

function counterOf(item) {
  return {
    number: item.number,
    name: item.name ?? "",
    status: item.status,
    clerk: item.clerk ?? null,
    clerk_name: item.clerk_name ?? null,
    staff_no: item.staff_no ?? null,
    pause_reason: item.pause_reason || "",
  };
}

function lineOf(service) {
  return {
    code: service.code,
    prefix: service.prefix,
    name: service.name,
    name_en: service.name_en ?? "",
    waiting: service.waiting,
    estimate_minutes: service.estimate_minutes ?? null,
    target_minutes: service.target_minutes ?? null,
  };
}

// The board from a snapshot of the wallboard topic.
export function boardOf(data) {
  return {
    staff: data.staff || {},
    counters: (data.counters || []).map(counterOf).sort((a, b) => a.number - b.number),
    lines: (data.services || []).map(lineOf),
    work_orders: [...(data.work_orders || [])].sort(byDue),
    events: (data.events || []).slice(-RECENT_EVENTS).map((e) => ({ ...e })),
  };
}

// The lines with fresh estimates from the queue API; the targets and counts come along.
export function withLines(board, services) {
  return { ...board, lines: services.map(lineOf) };
}

function counterAfter(board, counter, type, data) {
  const status = STATUS_AFTER[type];
  const next = { ...counter, status, pause_reason: status === "paused" ? data.reason || "" : "" };
  if (status === "closed") return { ...next, clerk: null, clerk_name: null, staff_no: null };
  if (data.clerk !== undefined && data.clerk !== counter.clerk) {
    const person = board.staff[String(data.clerk)];
    return { ...next, clerk: data.clerk, clerk_name: person?.name ?? null, staff_no: person?.staff_no ?? null };
  }
  return next;
}

function ordersAfter(orders, type, data) {
  const others = orders.filter((o) => o.id !== data.id);
  if (type === "workorder.resolved") return others;
  return [...others, { ...data }].sort(byDue);
}

// The board after one live event (`event` is {type, data, at}, `seq` its place in the hall's log).
export function fold(board, event, seq) {
  const { type, data } = event;
  let next = { ...board, events: [...board.events, { seq, type, data, at: event.at }].slice(-RECENT_EVENTS) };
  if (type in STATUS_AFTER) {
    next.counters = board.counters.map((c) => (c.number === data.counter ? counterAfter(board, c, type, data) : c));
  } else if (type === "rating.alarm" || type.startsWith("workorder.")) {
    next.work_orders = ordersAfter(board.work_orders, type, data);
  }
  if (type.startsWith("ticket.") && data.waiting) {
    next = { ...next, lines: next.lines.map((l) => ({ ...l, waiting: data.waiting[l.code] ?? 0 })) };
  }
  return next;
}

// A line is over target when its estimated wait passes the service's target.
export function overTarget(line) {
  return line.estimate_minutes !== null && line.target_minutes !== null && line.estimate_minutes > line.target_minutes;
}

// What can be done next on a work order: record the callback, then the fix.
export function nextStep(order) {
  if (order.state === "open") return "callback";
  if (order.state === "called_back") return "resolve";
  return null;
}

// A time of the log in the hall's time zone, as the page's language writes it.
export function clockTime(iso, { timeZone }) {
  return timeIn(iso, timeZone);
}

// A day (YYYY-MM-DD, already the hall's date) as the page's language writes it.
export function dayText(day, { lang }) {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(lang, { timeZone: "UTC", month: "short", day: "numeric" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

// The words a sentence fills in: who and what an event names, in the page's language.
function values(event, { word, staff, services, lang, timeZone }) {
  const data = event.data;
  const person = data.clerk !== undefined && data.clerk !== null ? staff[String(data.clerk)] : null;
  const service = services?.find((s) => s.code === data.service);
  const english = lang.startsWith("en");
  const due = data.due ?? data.reply_due ?? data.due_at;
  return {
    ...data,
    number: data.number ?? data.case ?? "",
    counter: data.counter ?? "—",
    clerk: person ? person.name : data.clerk ? `#${data.clerk}` : "—",
    service: service ? (english && service.name_en ? service.name_en : service.name) : (data.service ?? ""),
    reason: data.reason || "—",
    label: data.level !== undefined && !data.light ? word(`rating_${data.level}`, data.label ?? "") : "",
    light: data.light ? lightText(data, word) : "",
    stage: data.stage ? word(`stage_${data.stage}`, data.stage) : "",
    due: due ? (/^\d{4}-\d\d-\d\d$/.test(due) ? dayText(due, { lang }) : clockTime(due, { timeZone, lang })) : "",
  };
}

// A light's word with what it is for: "红灯 · 审核环节超时" (caserows.js writes the badges alike).
export function lightText(data, word) {
  if (!data.light_for || data.light === "green") return word(`light_${data.light}`, data.light);
  const stage = word(`span_${data.light_stage}`, data.light_stage ?? "");
  return fill(word(`light_${data.light_for}_${data.light}`), { stage });
}

// The word key of an event's sentence: ev_counter_opened for counter.opened.
export function sentenceKey(type) {
  return `ev_${type.replace(".", "_")}`;
}

// One event of the log as a sentence of the page's language, after its time in the hall's zone.
export function sentence(event, context) {
  const { word, has } = context;
  const key = sentenceKey(event.type);
  const text = has(key) ? word(key) : word("ev_other", "{type}");
  return `${clockTime(event.at, context)} ${fill(text, { ...values(event, context), type: event.type })}`;
}
