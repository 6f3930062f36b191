// The supervisor's wallboard: today's KPI tiles, every counter, the lines against their targets, the 一事一评 work
// orders with their buttons, the case lights and 督办 orders, and the latest events as sentences.
// What it shows is folded from the topic's snapshot and live events (wallboardview.js), so a
// reload shows what the live board showed.
import { caseCells } from "./caserows.js";
import { cell, clockDateTime, dateTimeIn, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { messenger } from "./staffpage.js";
import { boardOf, dayText, fold, overTarget, sentence, tiles, withLines } from "./wallboardview.js";
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
let board = boardOf({});

function renderLines() {
  const body = lines.tBodies[0];
  body.replaceChildren();
  for (const line of board.lines) {
    const row = document.createElement("tr");
    row.dataset.code = line.code;
    const estimate = line.estimate_minutes;
    const over = overTarget(line);
    const wait = estimate === null ? word("no_counter") : fill(word("minutes"), { n: Math.round(estimate) });
    const name = lang.startsWith("en") && line.name_en ? line.name_en : line.name;
    row.append(
      cell(`${line.prefix} ${name}`),
      cell(String(line.waiting)),
      // A word and a sign, not colour alone, mark a line over its target.
      cell(over ? `⚠ ${wait} · ${word("over")}` : wait, over ? "over" : ""),
      cell(line.target_minutes === null ? "—" : fill(word("minutes"), { n: line.target_minutes }), "target"),
    );
    body.append(row);
  }
}

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

function renderCounters() {
  list.replaceChildren();
  const totals = { open: 0, paused: 0, closed: 0 };
  for (const counter of board.counters) {
    totals[counter.status] += 1;
    const item = document.createElement("li");
    item.className = `counter status-${counter.status}`;
    item.dataset.number = counter.number;
    const number = document.createElement("strong");
    number.textContent = counter.name || counter.number;
    const state = document.createElement("span");
    state.className = "state";
    // The word, not the colour alone, carries the state.
    state.textContent = word(counter.status) + (counter.pause_reason ? ` · ${counter.pause_reason}` : "");
    const who = document.createElement("span");
    who.className = "clerk";
    who.textContent = counter.clerk_name ? `${counter.clerk_name} ${counter.staff_no || ""}` : "—";
    item.append(number, state, who);
    list.append(item);
  }
  summary.textContent = fill(word("summary"), totals);
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

function render() {
  renderTiles();
  renderCounters();
  renderLines();
  renderOrders();
  renderLog();
}

let refreshTimer = null;
function refreshLines() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const answer = await fetch(lines.dataset.queueUrl, { credentials: "same-origin" });
    if (answer.ok) {
      board = withLines(board, (await answer.json()).services);
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
    if (event.type === "rating.alarm") {
      alarm.textContent = fill(word("alarm"), { ...event.data, label: word(`rating_${event.data.level}`) });
      alarm.hidden = false;
    }
  },
});
