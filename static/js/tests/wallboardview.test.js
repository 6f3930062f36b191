// The wallboard's pure pieces (wallboardview.js), in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { wordBook } from "../page.js";
import {
  RECENT_EVENTS,
  alarmText,
  boardOf,
  caseTiles,
  clockTime,
  counterRows,
  duration,
  fold,
  lineRows,
  lightText,
  micros,
  nextStep,
  overTarget,
  sentence,
  tiles,
} from "../wallboardview.js";

// The kept figures' counts (queueing/figures.py COUNTS), all nought.
function zeros() {
  const names = ["arrived", "called", "served", "no_shows", "transferred", "wait_count", "wait_sum", "wait_max"];
  names.push("wait_in_target", "wait_0_5", "wait_5_10", "wait_10_20", "wait_20_30", "wait_30_60", "wait_60");
  names.push("service_count", "service_sum", "service_max", "rated_1", "rated_2", "rated_3", "rated_4", "rated_5");
  return Object.fromEntries(names.map((n) => [n, 0]));
}

const snapshot = {
  staff: { 7: { name: "王晓梅", staff_no: "XH0107" } },
  counters: [
    { number: 2, name: "", status: "closed", clerk: null },
    { number: 1, name: "", status: "closed", clerk: null },
  ],
  services: [{ code: "soc", prefix: "A", name: "社会保障", name_en: "Social security", waiting: 0, estimate_minutes: null, target_minutes: 15 }],
  work_orders: [],
  events: [],
  figures: { day: "2026-11-23", timezone: "Asia/Shanghai", sums: { ...zeros() }, waits: {}, serving: {} },
};
const order = { id: "WO-1", number: "A001", counter: 1, clerk: 7, level: 2, label: "不满意", state: "open", due: "2026-11-30" };

test("a snapshot gives counters by number, lines with their targets and the work orders by due day", () => {
  const board = boardOf({ ...snapshot, work_orders: [{ ...order, id: "WO-2", due: "2026-12-01" }, order] });
  assert.deepEqual(board.counters.map((c) => c.number), [1, 2]);
  assert.equal(board.lines[0].target_minutes, 15);
  assert.deepEqual(board.work_orders.map((o) => o.id), ["WO-1", "WO-2"]);
});

test("live events open and close counters, add, advance and remove work orders, and count the lines", () => {
  let board = boardOf(snapshot);
  const at = "2026-11-23T01:30:00+00:00";
  board = fold(board, { type: "counter.opened", data: { counter: 1, clerk: 7 }, at }, 1);
  assert.deepEqual([board.counters[0].status, board.counters[0].clerk_name], ["open", "王晓梅"]);
  board = fold(board, { type: "ticket.issued", data: { number: "A001", service: "soc", waiting: { soc: 1 } }, at }, 2);
  assert.equal(board.lines[0].waiting, 1);
  board = fold(board, { type: "rating.alarm", data: order, at }, 3);
  assert.deepEqual(board.work_orders.map((o) => [o.id, nextStep(o)]), [["WO-1", "callback"]]);
  board = fold(board, { type: "workorder.called_back", data: { ...order, state: "called_back" }, at }, 4);
  assert.deepEqual(board.work_orders.map((o) => nextStep(o)), ["resolve"]);
  board = fold(board, { type: "workorder.resolved", data: { ...order, state: "resolved" }, at }, 5);
  assert.deepEqual(board.work_orders, []);
  board = fold(board, { type: "counter.paused", data: { counter: 1, clerk: 7, reason: "午休" }, at }, 6);
  assert.deepEqual([board.counters[0].status, board.counters[0].pause_reason], ["paused", "午休"]);
  assert.deepEqual(board.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
});

test("the log keeps the latest events only", () => {
  let board = boardOf(snapshot);
  for (let seq = 1; seq <= RECENT_EVENTS + 5; seq += 1) {
    board = fold(board, { type: "counter.resumed", data: { counter: 1 }, at: "2026-11-23T01:30:00Z" }, seq);
  }
  assert.equal(board.events.length, RECENT_EVENTS);
  assert.equal(board.events[0].seq, 6);
});

test("a line is over target only when its estimate passes the target", () => {
  assert.equal(overTarget({ estimate_minutes: 20, target_minutes: 15 }), true);
  assert.equal(overTarget({ estimate_minutes: 15, target_minutes: 15 }), false);
  assert.equal(overTarget({ estimate_minutes: null, target_minutes: 15 }), false);
});

test("an event is a sentence in the page's language, at the hall's local time", () => {
  const words = wordBook({
    ev_ticket_called: "请 {number} 号到 {counter} 号窗口",
    ev_counter_opened: "{counter} 号窗口开放（{clerk}）",
    ev_rating_alarm: "差评：{number} 号评价 {counter} 号窗口“{label}”",
    ev_workorder_overdue: "{number} 号的工单已超期（应于 {due} 前办结）",
    ev_other: "事件 {type}",
    rating_2: "不满意",
  });
  const context = { ...words, timeZone: "Asia/Shanghai", lang: "zh-CN", staff: snapshot.staff, services: snapshot.services };
  const at = "2026-11-23T01:30:00+00:00"; // 09:30 in Beijing
  assert.equal(sentence({ type: "ticket.called", data: { number: "A001", counter: 5 }, at }, context), "09:30 请 A001 号到 5 号窗口");
  assert.equal(sentence({ type: "counter.opened", data: { counter: 1, clerk: 7 }, at }, context), "09:30 1 号窗口开放（王晓梅）");
  assert.equal(sentence({ type: "rating.alarm", data: order, at }, context), "09:30 差评：A001 号评价 1 号窗口“不满意”");
  assert.match(sentence({ type: "workorder.overdue", data: order, at }, context), /^09:30 A001 号的工单已超期（应于 11月30日 前办结）$/);
  assert.equal(sentence({ type: "thing.unknown", data: {}, at }, context), "09:30 事件 thing.unknown");
  assert.equal(clockTime(at, { timeZone: "UTC", lang: "en" }), "01:30");
});

test("a light is written with what it is for: the case's deadline or its stage's", () => {
  const { word } = wordBook({
    light_green: "绿灯 · 正常",
    light_stage_red: "红灯 · {stage}环节超时",
    light_case_red: "红灯 · 办件已超期",
    span_review: "审核",
  });
  assert.equal(lightText({ light: "red", light_for: "stage", light_stage: "review" }, word), "红灯 · 审核环节超时");
  assert.equal(lightText({ light: "red", light_for: "case", light_stage: null }, word), "红灯 · 办件已超期");
  assert.equal(lightText({ light: "green", light_for: null }, word), "绿灯 · 正常");
});

test("today's tiles: the snapshot folded with the live events equals the next snapshot", () => {
  const at = (minute, second = 0) => `2026-11-23T01:${String(minute).padStart(2, "0")}:${String(second).padStart(2, "0")}.400000+00:00`;
  const ticket = (id, more = {}) => ({ ticket: id, number: id, service: "soc", counter: 1, clerk: 7, ...more });
  let board = boardOf(snapshot);
  const events = [
    ["ticket.issued", ticket("A001", { waiting: { soc: 1 } }), at(0)],
    ["ticket.issued", ticket("A002", { waiting: { soc: 2 } }), at(1)],
    ["ticket.called", ticket("A001", { waiting: { soc: 1 } }), at(10, 30)], // waited 10.5 min: within 15
    ["ticket.started", ticket("A001"), at(11)],
    ["ticket.finished", ticket("A001"), at(15, 20)],
    ["rating.given", ticket("A001", { level: 2 }), at(16)],
    ["ticket.called", ticket("A002", { waiting: { soc: 0 } }), at(21)], // waited 20 min: over 15
    ["ticket.no_show", ticket("A002"), at(23)],
    ["ticket.issued", ticket("A003", { waiting: { soc: 1 } }), at(24)],
  ];
  events.forEach(([type, data, when], i) => {
    board = fold(board, { type, data, at: when }, i + 1);
  });
  const sums = {
    ...zeros(),
    arrived: 3,
    called: 2,
    served: 1,
    no_shows: 1,
    wait_count: 2,
    wait_sum: 630 + 1200,
    wait_max: 1200,
    wait_in_target: 1,
    wait_10_20: 1,
    wait_20_30: 1,
    service_count: 1,
    service_sum: 260,
    service_max: 260,
    rated_2: 1,
  };
  const next = {
    ...snapshot,
    services: [{ ...snapshot.services[0], waiting: 1 }],
    figures: {
      ...snapshot.figures,
      sums,
      waits: { A003: { since: "2026-11-23T01:24:00.4+00:00", counts: true, service: "soc" } },
      by_service: { soc: { wait_count: 2, wait_in_target: 1 } },
      served_by_counter: { 1: 1 },
    },
  };
  assert.deepEqual(board.figures, boardOf(next).figures);
  const shown = tiles(board);
  assert.deepEqual([shown.arrived, shown.served, shown.waiting], [3, 1, 1]);
  assert.deepEqual(shown.service_level, { value: 0.5, part: 1, whole: 2, mark: "poor" });
  assert.deepEqual(shown.no_show_rate, { value: 0.5, part: 1, whole: 2, mark: "poor" });
  assert.deepEqual(shown.satisfaction, { value: 0, part: 0, whole: 1, mark: "poor" });
  assert.equal(tiles(boardOf(snapshot)).satisfaction.mark, "none");
  assert.equal(shown.wait_max_minutes, 20);
  assert.equal(Math.round(shown.service_mean_minutes * 60), 260);
});

test("a wait back from a hold counts nothing, and a new local day starts the tiles from nought", () => {
  let board = boardOf({ ...snapshot, figures: { ...snapshot.figures, sums: { ...zeros(), arrived: 9 } } });
  board = fold(board, { type: "ticket.released", data: { ticket: "A005", service: "soc" }, at: "2026-11-23T02:00:00Z" }, 1);
  board = fold(board, { type: "ticket.called", data: { ticket: "A005", service: "soc" }, at: "2026-11-23T02:30:00Z" }, 2);
  assert.deepEqual([board.figures.sums.called, board.figures.sums.wait_count], [1, 0]);
  // 16:00 UTC is midnight in Beijing: the 24th begins.
  board = fold(board, { type: "ticket.issued", data: { ticket: "B001", service: "soc" }, at: "2026-11-23T16:00:00Z" }, 3);
  assert.deepEqual([board.figures.day, board.figures.sums.arrived, board.figures.sums.called], ["2026-11-24", 1, 0]);
  assert.equal(micros("2026-11-23T16:00:00.000001+00:00") - micros("2026-11-23T16:00:00+00:00"), 1);
});

test("alarms: raised on top newest first, acknowledged below with who and when, each written in words", () => {
  const alarm = (id, minute, more = {}) => ({
    id,
    key: `k-${id}`,
    kind: "pause_over_limit",
    data: { counter: 3, paused_minutes: 16, limit_minutes: 15, reason: "午休" },
    state: "open",
    raised_at: `2026-11-23T01:${String(minute).padStart(2, "0")}:00+00:00`,
    acknowledged_by: null,
    acknowledged_at: null,
    ...more,
  });
  let board = boardOf({ ...snapshot, alarms: [alarm("a", 1)] });
  board = fold(board, { type: "alarm.raised", data: alarm("b", 5), at: "2026-11-23T01:05:00Z" }, 1);
  assert.deepEqual(board.alarms.map((a) => a.id), ["b", "a"]);
  const done = alarm("b", 5, { state: "acknowledged", acknowledged_by: 7, acknowledged_at: "2026-11-23T01:06:00+00:00" });
  board = fold(board, { type: "alarm.acknowledged", data: done, at: "2026-11-23T01:06:00Z" }, 2);
  assert.deepEqual(board.alarms.map((a) => [a.id, a.state]), [["a", "open"], ["b", "acknowledged"]]);
  // The system clears the other one (its counter resumed): nothing is left open, and it lists as cleared.
  const cleared = alarm("a", 1, { state: "cleared", cleared_at: "2026-11-23T01:07:00+00:00" });
  board = fold(board, { type: "alarm.cleared", data: cleared, at: "2026-11-23T01:07:00Z" }, 3);
  // Handled ones are listed by when they were handled: "a", raised first, was cleared last.
  assert.deepEqual(board.alarms.map((a) => [a.id, a.state]), [["a", "cleared"], ["b", "acknowledged"]]);
  assert.equal(board.alarms.filter((a) => a.state === "open").length, 0);
  const word = wordBook({ alarm_pause_over_limit: "{counter} 号窗口已暂停 {paused_minutes} 分钟（上限 {limit_minutes} 分钟）：{reason}" }).word;
  assert.equal(alarmText(board.alarms[0], { word, services: [], lang: "zh-CN" }), "3 号窗口已暂停 16 分钟（上限 15 分钟）：午休");
});

test("rows per counter and per service: ticket, time in state, served, longest wait, counters serving", () => {
  const since = "2026-11-23T01:00:00+00:00";
  const data = {
    ...snapshot,
    counters: [
      { number: 1, status: "open", current: null, services: ["soc"], since },
      { number: 2, status: "paused", current: null, services: ["soc"], since, pause_reason: "午休" },
    ],
    figures: {
      ...snapshot.figures,
      waits: { A007: { since: "2026-11-23T01:02:00+00:00", counts: true, service: "soc" } },
      by_service: { soc: { wait_count: 4, wait_in_target: 3 } },
      served_by_counter: { 1: 5 },
    },
  };
  let board = boardOf(data);
  board = fold(board, { type: "ticket.called", data: { ticket: "A007", number: "A007", service: "soc", counter: 1 }, at: "2026-11-23T01:12:00Z" }, 1);
  const now = micros("2026-11-23T01:16:30+00:00");
  const [one, two] = counterRows(board, now, 15);
  assert.deepEqual([one.current, one.served, one.seconds, one.over_limit], ["A007", 5, 990, false]);
  assert.deepEqual([two.status, two.over_limit], ["paused", true]);
  assert.equal(duration(two.seconds), "16:30");
  assert.equal(duration(3725), "1:02:05");
  const [line] = lineRows(board, now);
  assert.deepEqual(line.counters, [1]);
  assert.equal(line.longest_minutes, null); // A007 was called: nobody waits
  assert.deepEqual(line.service_level, { value: 0.8, part: 4, whole: 5, mark: "good" });
  board = fold(board, { type: "ticket.finished", data: { ticket: "A007", number: "A007", service: "soc", counter: 1 }, at: "2026-11-23T01:15:00Z" }, 2);
  assert.deepEqual([board.counters[0].current, board.figures.served_by_counter["1"]], [null, 6]);
});

test("today's cases: accepted where accepted, completed where decided, on time only before the due time; a new day starts at nought", () => {
  const halls = [1, 2];
  let board = boardOf({ ...snapshot, cases_today: { day: "2026-11-23", accepted: 2, completed: 1, on_time: 1, halls } });
  board = fold(board, { type: "case.accepted", data: { number: "C1", accepted_hall: 2, deciding_hall: 1 }, at: "2026-11-23T02:00:00Z" }, 1);
  board = fold(board, { type: "case.completed", data: { number: "C0", deciding_hall: 1, due_at: "2026-11-23T01:00:00+00:00" }, at: "2026-11-23T02:00:00Z" }, 2);
  assert.deepEqual(board.cases_today, { day: "2026-11-23", accepted: 3, completed: 2, on_time: 1, halls });
  assert.deepEqual(caseTiles(board).on_time_rate, { value: 0.5, part: 1, whole: 2, mark: "poor" });
  // At the due instant the case is overdue; decided or accepted in a hall outside the board's, it is not counted.
  board = fold(board, { type: "case.completed", data: { number: "C3", deciding_hall: 2, due_at: "2026-11-23T03:00:00+00:00" }, at: "2026-11-23T03:00:00Z" }, 3);
  board = fold(board, { type: "case.completed", data: { number: "C4", deciding_hall: 7, due_at: "2026-11-24T03:00:00+00:00" }, at: "2026-11-23T03:10:00Z" }, 4);
  board = fold(board, { type: "case.accepted", data: { number: "C5", accepted_hall: 7, deciding_hall: 1 }, at: "2026-11-23T03:20:00Z" }, 5);
  assert.deepEqual(board.cases_today, { day: "2026-11-23", accepted: 3, completed: 3, on_time: 1, halls });
  board = fold(board, { type: "case.accepted", data: { number: "C2", accepted_hall: 1 }, at: "2026-11-23T16:30:00Z" }, 6);
  assert.deepEqual(board.cases_today, { day: "2026-11-24", accepted: 1, completed: 0, on_time: 0, halls });
});
