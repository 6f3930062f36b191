// The supervisor's wallboard: the open alarms with their buttons, today's KPI and case tiles, every
// counter (its ticket and time in state ticking), the lines against their targets, the 一事一评 work
// orders with their buttons, the case lights and 督办 orders, the latest events as sentences, and
// on a district's or a street's board a row of tiles for each hall below.
// What it shows is folded from the topic's snapshot and live events (wallboardview.js), so a
// reload shows what the live board showed.
import { caseCells } from "./caserows.js";
import { cell, clockDateTime, dateTimeIn, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { messenger, post } from "./staffpage.js";
import {
  alarmText,
  boardOf,
  caseTiles,
  counterRows,
  dayText,
  duration,
  fold,
  lineRows,
  micros,
  sentence,
  tiles,
  withLines,
} from "./wallboardview.js";
import { orderDialog, orderRows } from "./workorders.js";

const list = document.getElementById("counters");
const log = document.getElementById("events");
const summary = document.getElementById("summary");
const linkState = document.getElementById("link-state");
const topic = list.dataset.topic;
const words = pageWords(list);
const { word, error } = words;
const lang = document.documentElement.lang || "zh-CN";
const timeZone = list.dataset.timezone;
const lines = document.getElementById("lines");
const ordersTable = document.getElementById("orders");
const alarm = document.getElementById("alarm");
const dialog = document.getElementById("order-dialog");
const say = messenger(
  document.getElementById("order-message"),
  document.getElementById("order-notice"),
  word("with_detail"),
  8000,
);
const pauseLimit = Number(list.dataset.pauseLimit || 15);
let board = boardOf({});
// The server's clock less the screen's, in microseconds, from the time the page was made: times
// in state and waits tick from the server's time.
const offset = micros(list.dataset.serverNow) - Date.now() * 1000;
const serverNow = () => Date.now() * 1000 + offset;

function minutesText(value) {
  return value === null ? "–" : fill(word("minutes"), { n: Math.floor(value) });
}

function renderLines() {
  const body = lines.tBodies[0];
  body.replaceChildren();
  for (const line of lineRows(board, serverNow())) {
    const row = document.createElement("tr");
    row.dataset.code = line.code;
    const estimate = line.estimate_minutes;
    const wait = estimate === null ? word("no_counter") : fill(word("minutes"), { n: Math.round(estimate) });
    const name = lang.startsWith("en") && line.name_en ? line.name_en : line.name;
    const level = line.service_level;
    const longestOver = line.longest_minutes !== null && line.target_minutes !== null && line.longest_minutes > line.target_minutes;
    row.append(
      cell(`${line.prefix} ${name}`, "name"),
      cell(String(line.waiting), "waiting"),
      cell(longestOver ? `⚠ ${minutesText(line.longest_minutes)}` : minutesText(line.longest_minutes), `longest ticking${longestOver ? " over" : ""}`),
      // A word and a sign, not colour alone, mark a line over its target.
      cell(line.over ? `⚠ ${wait} · ${word("over")}` : wait, line.over ? "over estimate" : "estimate"),
      cell(line.target_minutes === null ? "—" : fill(word("minutes"), { n: line.target_minutes }), "target"),
      cell(level.value === null ? "–" : `${Math.round(level.value * 100)}% · ${word(`mark_${level.mark}`)}`, `level mark-${level.mark}`),
      cell(line.counters.length ? line.counters.join("、") : word("counters_none"), "serving"),
    );
    body.append(row);
  }
}

// The open alarms, newest first, in big type, each with a sign, its word and its button; the
// acknowledged ones after them, with who and when.
const alarmList = document.getElementById("alarms");
const alarmCount = document.getElementById("alarms-count");
const alarmSection = document.getElementById("alarms-section");
const alarmSay = messenger(
  document.getElementById("alarm-message"),
  document.getElementById("alarm-notice"),
  word("with_detail"),
  8000,
);

// Alarms listed on the wall at most; the header counts every open one.
const ALARMS_SHOWN = 6;

function renderAlarms() {
  const context = { word, services: board.lines, lang };
  const open = board.alarms.filter((a) => a.state === "open");
  alarmCount.textContent = open.length ? `${open.length}` : "";
  alarmSection.classList.toggle("has-open", open.length > 0);
  // The wall has room for so many: the open ones first (newest on top), the rest counted below.
  const shown = board.alarms.slice(0, ALARMS_SHOWN);
  const items = shown.map((alarm) => {
    const item = document.createElement("li");
    item.className = `alarm-item alarm-${alarm.state} kind-${alarm.kind}`;
    item.dataset.alarm = alarm.id;
    item.dataset.kind = alarm.kind;
    const sign = document.createElement("span");
    sign.className = "sign";
    sign.setAttribute("aria-hidden", "true");
    sign.textContent = alarm.state === "open" ? (alarm.kind === "open_counter" ? "➜" : "⚠") : "✔";
    const when = document.createElement("time");
    when.className = "when";
    when.dateTime = alarm.raised_at;
    when.textContent = timeOf(alarm.raised_at);
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = alarmText(alarm, context);
    const state = document.createElement("span");
    state.className = "state";
    if (alarm.state === "open") {
      state.textContent = word("alarm_open");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "primary";
      button.dataset.alarm = alarm.id;
      button.textContent = word("acknowledge");
      item.append(sign, when, text, state, button);
    } else if (alarm.state === "cleared") {
      // Its condition ended before anyone acknowledged it: the system says so, with when.
      state.textContent = fill(word("cleared_at"), { time: timeOf(alarm.cleared_at) });
      item.append(sign, when, text, state);
    } else {
      const person = board.staff[String(alarm.acknowledged_by)];
      state.textContent = fill(word("acknowledged_by"), {
        by: person ? person.name : `#${alarm.acknowledged_by}`,
        time: timeOf(alarm.acknowledged_at),
      });
      item.append(sign, when, text, state);
    }
    return item;
  });
  const hidden = open.length - shown.filter((a) => a.state === "open").length;
  if (hidden > 0) {
    const item = document.createElement("li");
    item.className = "more";
    item.textContent = fill(word("alarms_more"), { n: hidden });
    items.push(item);
  }
  if (items.length === 0) {
    const item = document.createElement("li");
    item.className = "muted none";
    item.textContent = word("no_alarms");
    items.push(item);
  }
  alarmList.replaceChildren(...items);
}

function timeOf(iso) {
  return dateTimeIn(iso, timeZone, lang, { hour: "2-digit", minute: "2-digit", dateStyle: undefined, timeStyle: undefined });
}

alarmList.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-alarm]");
  if (!button) return;
  button.disabled = true;
  let answer;
  try {
    answer = await post(`${alarmSection.dataset.url}${encodeURIComponent(button.dataset.alarm)}/acknowledge`, {});
  } catch {
    alarmSay.alert(word("err"), word("err_network"));
    button.disabled = false;
    return;
  }
  if (answer.ok) {
    alarmSay.clear();
    alarmSay.notice(word("done_acknowledge"));
  } else {
    const headline = answer.data.code === "bad_transition" ? word("err_bad_transition_alarm") : error(answer.data.code);
    alarmSay.alert(headline, answer.data.message);
    button.disabled = false;
  }
});

function renderOrders() {
  const body = ordersTable.tBodies[0];
  if (board.work_orders.length === 0) {
    const row = document.createElement("tr");
    const td = cell(word("none"));
    td.colSpan = 7;
    row.append(td);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...orderRows(board.work_orders, { word, lang, staff: board.staff }));
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function renderCounters() {
  list.replaceChildren();
  const totals = { open: 0, paused: 0, closed: 0 };
  for (const counter of counterRows(board, serverNow(), pauseLimit)) {
    totals[counter.status] += 1;
    const item = document.createElement("li");
    item.className = `counter status-${counter.status}${counter.over_limit ? " over-limit" : ""}`;
    item.dataset.number = counter.number;
    const number = document.createElement("strong");
    number.textContent = counter.name || counter.number;
    // The word, not the colour alone, carries the state; a pause past the limit says so too.
    const state = span("state", word(counter.status) + (counter.pause_reason ? ` · ${counter.pause_reason}` : ""));
    if (counter.over_limit) state.textContent = `⚠ ${state.textContent} · ${word("over_limit")}`;
    const who = span("clerk", counter.clerk_name ? `${counter.clerk_name} ${counter.staff_no || ""}`.trim() : "—");
    const ticket = span(counter.current ? "ticket" : "ticket idle", counter.current ?? (counter.status === "closed" ? "" : word("no_ticket")));
    const since = span("since ticking", counter.seconds === null ? "" : fill(word("in_state"), { time: duration(counter.seconds) }));
    const served = span("served", fill(word("served_today"), { n: counter.served }));
    item.append(number, state, ticket, who, since, served);
    list.append(item);
  }
  summary.textContent = fill(word("summary"), totals);
}

// Time alone moves the waits and the times in state: these parts are drawn again each second.
function tick() {
  renderCounters();
  renderLines();
}

function renderLog() {
  const context = { ...words, timeZone, lang, staff: board.staff, services: board.lines };
  log.replaceChildren(
    ...[...board.events].reverse().map((event) => {
      const item = document.createElement("li");
      item.dataset.type = event.type;
      item.dataset.seq = event.seq;
      item.textContent = sentence(event, context);
      return item;
    }),
  );
}

const tileList = document.getElementById("tiles");
const tilesDay = document.getElementById("tiles-day");
const HINTS = { no_show_rate: "hint_no_show", service_level: "hint_level", satisfaction: "hint_satisfaction" };

// Minutes: the number big, its unit small after it, so "12.5 分钟" fits a tile read from afar.
function showMinutes(text, value) {
  if (value === null) {
    text.textContent = "–";
    return;
  }
  const unit = document.createElement("small");
  unit.className = "unit";
  unit.textContent = word("unit_minutes");
  text.replaceChildren(value < 10 ? value.toFixed(1) : String(Math.round(value)), " ", unit);
}

// Today's KPI tiles: counts as they are, times in minutes, shares as whole percentages with a word.
function renderTiles() {
  const shown = tiles(board);
  if (!shown) return;
  tilesDay.textContent = dayText(shown.day, { lang });
  for (const tile of tileList.querySelectorAll("[data-tile]")) {
    const value = shown[tile.dataset.tile];
    const text = tile.querySelector(".value");
    if (tile.dataset.tile.endsWith("_minutes")) showMinutes(text, value);
    else if (typeof value === "number") text.textContent = String(value);
    else if (value !== null) {
      text.textContent = value.value === null ? "–" : `${Math.round(value.value * 100)}%`;
      tile.className = `tile mark-${value.mark}`;
      tile.querySelector(".mark").textContent = word(`mark_${value.mark}`);
      tile.querySelector(".hint").textContent = value.whole ? fill(word(HINTS[tile.dataset.tile]), value) : "";
    }
  }
}

const caseTileList = document.getElementById("case-tiles");

function renderCaseTiles() {
  const shown = caseTiles(board);
  if (!shown) return;
  for (const tile of caseTileList.querySelectorAll("[data-case-tile]")) {
    const value = shown[tile.dataset.caseTile];
    const text = tile.querySelector(".value");
    if (typeof value === "number") text.textContent = String(value);
    else {
      text.textContent = value.value === null ? "–" : `${Math.round(value.value * 100)}%`;
      tile.className = `tile mark-${value.mark}`;
      tile.querySelector(".mark").textContent = word(`mark_${value.mark}`);
      tile.querySelector(".hint").textContent = value.whole ? fill(word("hint_on_time"), value) : "";
    }
  }
}

function render() {
  renderAlarms();
  renderCaseTiles();
  renderTiles();
  renderCounters();
  renderLines();
  renderOrders();
  renderLog();
}

let refreshTimer = null;
let linesAsked = 0;
function refreshLines() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const asked = ++linesAsked;
    const answer = await fetch(lines.dataset.queueUrl, { credentials: "same-origin" });
    if (answer.ok) {
      // The body first, then the board as it is now: events folded while the body was read stay.
      const { services } = await answer.json();
      // A later read is under way: its estimates are the newer, this one's are dropped.
      if (asked !== linesAsked) return;
      board = withLines(board, services);
      renderLines();
      renderTiles();
    }
  }, 300);
}

// The work order buttons: the callback, then the fix, each with a written note.
const ask = orderDialog({ dialog, word, error, say, url: list.dataset.ordersUrl });
ordersTable.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-order]");
  const order = button && board.work_orders.find((o) => o.id === button.dataset.order);
  if (order) ask(order, button.dataset.step);
});

// Case lights and 督办 orders: re-read from the supervision API when a case or an order changes.
const caseBoard = document.getElementById("case-board");
const caseOrders = document.getElementById("case-orders");
const caseFlagged = document.getElementById("case-flagged");
// The yellow and red cases the board has room for; the supervision page lists them all.
const FLAGGED_SHOWN = 8;
const stamp = { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", dateStyle: undefined, timeStyle: undefined };
const when = (iso) => dateTimeIn(iso, timeZone, lang, stamp);
const { lightBadge } = caseCells({ word, signs: JSON.parse(caseBoard.dataset.signs), hallNames: {}, people: {}, when });
let caseTimer = null;

function renderCaseBoard(cases) {
  for (const item of caseBoard.querySelectorAll("[data-light]")) {
    item.querySelector(".count").textContent = String(cases.counts[item.dataset.light] ?? 0);
  }
  // Red first, then yellow, each light saying what it is for (the server's order).
  caseFlagged.replaceChildren(
    ...cases.cases.slice(0, FLAGGED_SHOWN).map((c) => {
      const item = document.createElement("li");
      item.dataset.number = c.number;
      const link = document.createElement("a");
      link.href = caseBoard.dataset.caseUrl + c.number;
      link.textContent = c.number;
      item.append(lightBadge(c), " ", link);
      return item;
    }),
  );
  if (cases.cases.length === 0) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = word("none");
    caseFlagged.append(item);
  }
  caseOrders.replaceChildren();
  for (const order of cases.orders) {
    const item = document.createElement("li");
    item.className = `order-${order.level}`;
    const link = document.createElement("a");
    link.href = caseBoard.dataset.caseUrl + order.case;
    link.textContent = order.case;
    const level = document.createElement("strong");
    level.className = `level level-${order.level}`;
    level.textContent = word(`level_${order.level}`, order.level_label);
    const due = clockDateTime(order.reply_due, document.documentElement.lang || "zh-CN");
    item.append(link, " · ", level, ` · ${fill(word("reply_by"), { time: due })} · ${order.note}`);
    caseOrders.append(item);
  }
  if (cases.orders.length === 0) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = word("none");
    caseOrders.append(item);
  }
}

function refreshCaseBoard() {
  clearTimeout(caseTimer);
  caseTimer = setTimeout(async () => {
    const answer = await fetch(caseBoard.dataset.boardUrl, { credentials: "same-origin" });
    if (answer.ok) renderCaseBoard(await answer.json());
  }, 300);
}

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
rt.subscribe(topic, {
  snapshot(data) {
    board = boardOf(data);
    render();
    refreshCaseBoard();
  },
  event(event, seq) {
    board = fold(board, event, seq);
    render();
    if (event.type.startsWith("ticket.")) refreshLines();
    if (event.type.startsWith("case.") || event.type.startsWith("supervision.")) refreshCaseBoard();
    if (event.type.startsWith("alarm.")) renderAlarms();
    if (event.type === "rating.alarm") {
      alarm.textContent = fill(word("alarm"), { ...event.data, label: word(`rating_${event.data.level}`) });
      alarm.hidden = false;
    }
  },
});

setInterval(tick, 1000);

// A district's or a street's board: each hall below, one row of tiles, from that hall's own topic.
for (const row of document.querySelectorAll("#district tr[data-topic]")) {
  let hallBoard = boardOf({});
  const show = () => {
    const shown = tiles(hallBoard);
    if (!shown) return;
    const open = hallBoard.alarms.filter((a) => a.state === "open").length;
    const values = {
      arrived: String(shown.arrived),
      served: String(shown.served),
      waiting: String(shown.waiting),
      wait_mean_minutes: shown.wait_mean_minutes === null ? "–" : fill(word("minutes"), { n: shown.wait_mean_minutes.toFixed(1) }),
      service_level: shown.service_level.value === null ? "–" : `${Math.round(shown.service_level.value * 100)}% · ${word(`mark_${shown.service_level.mark}`)}`,
      satisfaction: shown.satisfaction.value === null ? "–" : `${Math.round(shown.satisfaction.value * 100)}% · ${word(`mark_${shown.satisfaction.mark}`)}`,
      alarms: open ? `⚠ ${open}` : "0",
    };
    for (const td of row.querySelectorAll("[data-tile]")) {
      td.textContent = values[td.dataset.tile];
      const mark = shown[td.dataset.tile]?.mark;
      td.className = mark ? `mark-${mark}` : td.dataset.tile === "alarms" && open ? "mark-poor" : "";
    }
  };
  rt.subscribe(row.dataset.topic, {
    snapshot(data) {
      hallBoard = boardOf(data);
      show();
    },
    event(event, seq) {
      hallBoard = fold(hallBoard, event, seq);
      show();
    },
  });
}
