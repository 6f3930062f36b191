// What the wallboard shows, from its topic's snapshot and the events that follow it: pure functions,
// no document, so node:test runs them (static/js/tests/wallboardview.test.js) and the server's tests
// check that a snapshot folded forward with the live events equals the next snapshot
// (tests/queueing/test_wallboard.py). wallboard.js draws the board and sends the buttons' requests.
//
//   let board = boardOf(snapshot.data);      // counters, lines, work orders, latest events
//   board = fold(board, event, seq);          // one live event, as the topic delivers it
//   sentence(event, { word, has, timeZone, lang, staff, services });  // "10:05 A023 号到 5 号窗口办理"
//   tiles(board);                             // today's KPIs: arrived, served, waits, 好评率 …
//   lineRows(board, nowMicros); counterRows(board, nowMicros);  // per service, per counter
//   board.alarms                              // open alarms newest first, then acknowledged or cleared ones
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
    // The ticket at the counter, the services its line takes, and when it entered its state.
    current: item.current ?? null,
    services: [...(item.services || [])],
    since: item.since ?? null,
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
    figures: figuresOf(data.figures),
    alarms: alarmList(data.alarms || []),
    cases_today: data.cases_today ? { ...data.cases_today } : null,
  };
}

// The lines with fresh estimates from the queue API; the targets and counts come along.
export function withLines(board, services) {
  return { ...board, lines: services.map(lineOf) };
}

function counterAfter(board, counter, type, data, at) {
  const status = STATUS_AFTER[type];
  const next = { ...counter, status, since: at, pause_reason: status === "paused" ? data.reason || "" : "" };
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
    next.counters = board.counters.map((c) => (c.number === data.counter ? counterAfter(board, c, type, data, event.at) : c));
  } else if (type in AT_COUNTER) {
    next.counters = board.counters.map((c) => currentAfter(c, type, data));
  } else if (type === "alarm.raised" || type === "alarm.acknowledged" || type === "alarm.cleared") {
    next.alarms = alarmList([...board.alarms.filter((a) => a.id !== data.id), { ...data }]);
  } else if (next.cases_today && (type === "case.accepted" || type === "case.completed")) {
    next.cases_today = casesAfter(next.cases_today, type, data, event.at, board.figures?.timezone);
  }
  if (type === "rating.alarm" || type.startsWith("workorder.")) {
    next.work_orders = ordersAfter(board.work_orders, type, data);
  }
  if (next.figures && (type.startsWith("ticket.") || type === "rating.given")) {
    next.figures = figuresAfter(next.figures, board.lines, type, data, event.at);
  }
  if (type.startsWith("ticket.") && data.waiting) {
    next = { ...next, lines: next.lines.map((l) => ({ ...l, waiting: data.waiting[l.code] ?? 0 })) };
  }
  return next;
}

// Ticket events that change what a counter holds: a call puts the ticket there; the end of its
// turn there (finished, no-show, moved on, held, cancelled) takes it away.
const AT_COUNTER = {
  "ticket.called": "call",
  "ticket.recalled": "call",
  "ticket.finished": "end",
  "ticket.no_show": "end",
  "ticket.transferred": "end",
  "ticket.held": "end",
  "ticket.cancelled": "end",
  "ticket.closed": "end",
};

function currentAfter(counter, type, data) {
  if (AT_COUNTER[type] === "call") return counter.number === data.counter ? { ...counter, current: data.number } : counter;
  return counter.current === data.number ? { ...counter, current: null } : counter;
}

// Acknowledged alarms the board keeps listing below the open ones (queueing/live.py says the same).
export const ACKNOWLEDGED_SHOWN = 10;

function newestFirst(a, b) {
  return Date.parse(b.raised_at) - Date.parse(a.raised_at) || b.id.localeCompare(a.id);
}

// When an alarm was acknowledged or cleared (queueing/alarms.py Alarm.handled_at).
function handledAt(alarm) {
  return Date.parse(alarm.acknowledged_at || alarm.cleared_at || alarm.raised_at);
}

function latestHandledFirst(a, b) {
  return handledAt(b) - handledAt(a) || b.id.localeCompare(a.id);
}

// The open alarms newest first, then the latest acknowledged or cleared ones.
function alarmList(alarms) {
  const open = alarms.filter((a) => a.state === "open").sort(newestFirst);
  const done = alarms.filter((a) => a.state !== "open").sort(latestHandledFirst).slice(0, ACKNOWLEDGED_SHOWN);
  return [...open, ...done].map((a) => ({ ...a, data: { ...a.data } }));
}

// Today's cases after an acceptance or a completion, counted as the case figures count them
// (cases/figures.py): an acceptance where the case was accepted, a completion where it was decided,
// on time only when done before its due time (at the due instant a case is overdue). `halls` is the
// board's hall and those below it; a snapshot without it counts every case event of the log.
function casesAfter(today, type, data, at, timeZone) {
  const day = timeZone ? localDay(at, timeZone) : today.day;
  const next = day === today.day ? { ...today } : { ...today, day, accepted: 0, completed: 0, on_time: 0 };
  const ours = (hall) => !today.halls || today.halls.includes(hall);
  if (type === "case.accepted") {
    if (ours(data.accepted_hall)) next.accepted += 1;
  } else if (ours(data.deciding_hall)) {
    next.completed += 1;
    if (data.due_at && micros(at) < micros(data.due_at)) next.on_time += 1;
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
    ...(event.type.startsWith("alarm.") ? alarmValues(data, { word, staff, services, lang }) : {}),
  };
}

// An alarm event's words: the alarm as a sentence, and who acknowledged it.
function alarmValues(alarm, context) {
  const person = alarm.acknowledged_by != null ? context.staff[String(alarm.acknowledged_by)] : null;
  return {
    alarm: alarmText(alarm, context),
    by: person ? person.name : alarm.acknowledged_by != null ? `#${alarm.acknowledged_by}` : "—",
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

// -- today's KPI tiles ---------------------------------------------------------------------------
// The snapshot carries the kept figures of the hall's local day (queue_figures) with the waits and
// services under way; each ticket or rating event adds what queueing/figures.py adds for it, so the
// tiles are the server's figures at every moment, not a second count that drifts.

// Upper bounds of the wait buckets in minutes, as queueing/figures.py BUCKETS.
const BUCKETS = [
  [5, "wait_0_5"],
  [10, "wait_5_10"],
  [20, "wait_10_20"],
  [30, "wait_20_30"],
  [60, "wait_30_60"],
];

// An ISO time in whole microseconds: Date keeps milliseconds only, and the server's seconds are
// rounded from microseconds, so a millisecond cut could round a wait the other way.
export function micros(iso) {
  const found = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(iso);
  if (!found) return Date.parse(iso) * 1000;
  const [, base, fraction = "", zone] = found;
  return Date.parse(base + zone) * 1000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}

// Whole seconds from one time to another, never below zero (figures.whole_seconds).
function seconds(from, to) {
  return Math.max(0, Math.round((to - from) / 1e6));
}

// The hall's local day of a time, YYYY-MM-DD.
export function localDay(iso, timeZone) {
  const format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  return format.format(new Date(iso));
}

function figuresOf(figures) {
  if (!figures) return null;
  const waits = {};
  for (const [id, wait] of Object.entries(figures.waits || {})) waits[id] = { since: micros(wait.since), counts: wait.counts };
  const serving = {};
  for (const [id, since] of Object.entries(figures.serving || {})) serving[id] = micros(since);
  for (const [id, wait] of Object.entries(figures.waits || {})) waits[id].service = wait.service;
  const byService = {};
  for (const [code, sums] of Object.entries(figures.by_service || {})) byService[code] = { ...sums };
  return {
    day: figures.day,
    timezone: figures.timezone,
    sums: { ...figures.sums },
    waits,
    serving,
    by_service: byService,
    served_by_counter: { ...(figures.served_by_counter || {}) },
  };
}

function bucketOf(waited) {
  for (const [upper, name] of BUCKETS) if (waited < upper * 60) return name;
  return "wait_60";
}

// The figures after one ticket or rating event, as queueing.figures.fold counts it.
function figuresAfter(figures, lines, type, data, at) {
  const day = localDay(at, figures.timezone);
  // A new local day starts from nothing, as the kept figures do.
  const fresh = day !== figures.day;
  const sums = fresh ? Object.fromEntries(Object.keys(figures.sums).map((k) => [k, 0])) : { ...figures.sums };
  const byService = fresh ? {} : Object.fromEntries(Object.entries(figures.by_service).map(([k, v]) => [k, { ...v }]));
  const servedBy = fresh ? {} : { ...figures.served_by_counter };
  const waits = { ...figures.waits };
  const serving = { ...figures.serving };
  const add = (name, n = 1) => {
    sums[name] = (sums[name] ?? 0) + n;
  };
  const now = micros(at);
  const id = data.ticket;
  const waitFrom = (counts) => {
    waits[id] = { since: now, counts, service: data.service };
  };
  if (type === "ticket.issued") {
    add("arrived");
    waitFrom(true);
  } else if (type === "ticket.called") {
    add("called");
    const wait = waits[id];
    delete waits[id];
    if (wait?.counts) {
      const waited = seconds(wait.since, now);
      const target = lines.find((l) => l.code === data.service)?.target_minutes ?? null;
      add("wait_count");
      add("wait_sum", waited);
      sums.wait_max = Math.max(sums.wait_max ?? 0, waited);
      const line = (byService[data.service] ??= { wait_count: 0, wait_in_target: 0 });
      line.wait_count += 1;
      if (target !== null && waited <= target * 60) {
        add("wait_in_target");
        line.wait_in_target += 1;
      }
      add(bucketOf(waited));
    }
  } else if (type === "ticket.started") {
    serving[id] = now;
  } else if (type === "ticket.finished") {
    const served = id in serving ? seconds(serving[id], now) : 0;
    delete serving[id];
    add("served");
    if (data.counter) servedBy[String(data.counter)] = (servedBy[String(data.counter)] ?? 0) + 1;
    add("service_count");
    add("service_sum", served);
    sums.service_max = Math.max(sums.service_max ?? 0, served);
  } else if (type === "ticket.no_show") {
    add("no_shows");
  } else if (type === "ticket.transferred") {
    if (!data.follow_on) add("transferred");
    delete serving[id];
    waitFrom(true);
  } else if (type === "ticket.requeued") {
    waitFrom(true);
  } else if (type === "ticket.released") {
    // Back from a hold: it waited already, so its next call counts no wait.
    waitFrom(false);
  } else if (["ticket.held", "ticket.cancelled", "ticket.closed"].includes(type)) {
    delete waits[id];
    delete serving[id];
  } else if (type === "rating.given" && [1, 2, 3, 4, 5].includes(data.level)) {
    add(`rated_${data.level}`);
  }
  return { ...figures, day, sums, waits, serving, by_service: byService, served_by_counter: servedBy };
}

// A share with what it is of, so the page can say "12 of 15 waits within target".
function share(part, whole) {
  return { value: whole ? part / whole : null, part, whole };
}

// How a share reads against a hall's usual goals: good, watch or poor (the page writes a word
// beside the colour). Higher is better unless `lower` is set.
function mark(value, good, watch, lower = false) {
  if (value === null) return "none";
  const [v, g, w] = lower ? [-value, -good, -watch] : [value, good, watch];
  if (v >= g) return "good";
  return v >= w ? "watch" : "poor";
}

// Today's KPI tiles from the board: numbers, minutes and shares (fractions of 1), null where there
// is nothing to divide by, each share with its mark (queueing.figures.kpis says the same).
export function tiles(board) {
  const f = board.figures;
  if (!f) return null;
  const s = f.sums;
  const rated = [1, 2, 3, 4, 5].reduce((n, level) => n + s[`rated_${level}`], 0);
  const noShow = share(s.no_shows, s.called);
  const level = share(s.wait_in_target, s.wait_count);
  const satisfaction = share(s.rated_3 + s.rated_4 + s.rated_5, rated);
  return {
    day: f.day,
    arrived: s.arrived,
    served: s.served,
    waiting: board.lines.reduce((n, l) => n + l.waiting, 0),
    no_show_rate: { ...noShow, mark: mark(noShow.value, 0.05, 0.1, true) },
    wait_mean_minutes: s.wait_count ? s.wait_sum / s.wait_count / 60 : null,
    wait_max_minutes: s.wait_count ? s.wait_max / 60 : null,
    service_mean_minutes: s.service_count ? s.service_sum / s.service_count / 60 : null,
    service_level: { ...level, mark: mark(level.value, 0.8, 0.6) },
    satisfaction: { ...satisfaction, mark: mark(satisfaction.value, 0.95, 0.85) },
  };
}

// -- rows per service and per counter ----------------------------------------------------------
// `now` is the server's time in microseconds (the page keeps the offset from the snapshot's `now`),
// so a wait or a time in state counts on from the server's clock, not the screen's.

// Each line: waiting, the longest wait now (minutes), estimate, target, today's service level,
// and the open counters serving it.
export function lineRows(board, now) {
  const f = board.figures;
  return board.lines.map((line) => {
    let oldest = null;
    for (const wait of Object.values(f?.waits || {})) {
      if (wait.service === line.code && (oldest === null || wait.since < oldest)) oldest = wait.since;
    }
    const sums = f?.by_service?.[line.code];
    const level = share(sums?.wait_in_target ?? 0, sums?.wait_count ?? 0);
    return {
      ...line,
      longest_minutes: oldest === null ? null : Math.max(0, (now - oldest) / 6e7),
      service_level: { ...level, mark: mark(level.value, 0.8, 0.6) },
      counters: board.counters
        .filter((c) => c.status === "open" && c.services.includes(line.code))
        .map((c) => c.number),
      over: overTarget(line),
    };
  });
}

// Each counter: its state, clerk, ticket, seconds in its state, served today; a pause past the
// hall's limit is marked (the alarm itself comes from the server, once).
export function counterRows(board, now, pauseLimitMinutes) {
  const served = board.figures?.served_by_counter || {};
  return board.counters.map((counter) => {
    const seconds = counter.since ? Math.max(0, Math.floor((now - micros(counter.since)) / 1e6)) : null;
    const overLimit = counter.status === "paused" && seconds !== null && seconds > pauseLimitMinutes * 60;
    return { ...counter, seconds, served: served[String(counter.number)] ?? 0, over_limit: overLimit };
  });
}

// A time in state as the wall shows it: "12:05" (minutes:seconds) or "1:02:05".
export function duration(seconds) {
  if (seconds === null) return "–";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

// Today's case tiles: accepted, completed, and the share completed on time.
export function caseTiles(board) {
  const today = board.cases_today;
  if (!today) return null;
  const onTime = share(today.on_time, today.completed);
  return { ...today, on_time_rate: { ...onTime, mark: mark(onTime.value, 0.95, 0.85) } };
}

// An alarm as a sentence of the page's language: its kind's words filled from its data.
export function alarmText(alarm, { word, services, lang }) {
  const data = alarm.data;
  const service = services?.find((s) => s.code === data.service);
  const english = lang.startsWith("en");
  const values = {
    ...data,
    service: service ? (english && service.name_en ? service.name_en : service.name) : (data.service ?? ""),
    counters: (data.counters || []).join("、"),
    label: data.level !== undefined ? word(`rating_${data.level}`, data.label ?? "") : "",
    reason: data.reason || "—",
  };
  return fill(word(`alarm_${alarm.kind}`, alarm.kind), values);
}
