// The supervisor's wallboard: every counter, the lines against their targets, the 一事一评 work
// orders with their buttons, the case lights and 督办 orders, and the latest events as sentences.
// What it shows is folded from the topic's snapshot and live events (wallboardview.js), so a
// reload shows what the live board showed.
import { cell, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { messenger, post } from "./staffpage.js";
import { boardOf, dayText, fold, nextStep, overTarget, sentence, withLines } from "./wallboardview.js";

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
const note = document.getElementById("order-note");
const say = messenger(
  document.getElementById("order-message"),
  document.getElementById("order-notice"),
  word("with_detail"),
  8000,
);
let board = boardOf({});
let pending = null;

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

function orderButton(order) {
  const step = nextStep(order);
  if (!step) return cell("");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.order = order.id;
  button.dataset.step = step;
  button.textContent = word(step);
  return cell(button);
}

function renderOrders() {
  const body = ordersTable.tBodies[0];
  body.replaceChildren();
  if (board.work_orders.length === 0) {
    const row = document.createElement("tr");
    const td = cell(word("none"));
    td.colSpan = 7;
    row.append(td);
    body.append(row);
    return;
  }
  for (const order of board.work_orders) {
    const row = document.createElement("tr");
    row.dataset.order = order.id;
    if (order.overdue) row.className = "overdue";
    const person = board.staff[String(order.clerk)];
    const step = order.state === "open" ? word("order_open") : word("order_called_back");
    const due = dayText(order.due, { lang });
    row.append(
      cell(order.number),
      cell(String(order.counter)),
      cell(person ? person.name : "—"),
      cell(word(`rating_${order.level}`, order.label)),
      cell(step),
      // Escalated orders carry a word and a sign, not colour alone.
      cell(order.overdue ? `⚠ ${due} · ${word("overdue")}` : due, order.overdue ? "over" : ""),
      orderButton(order),
    );
    body.append(row);
  }
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

function render() {
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
    }
  }, 300);
}

// The work order buttons: the callback, then the fix, each with a written note.
ordersTable.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-order]");
  if (!button) return;
  pending = { id: button.dataset.order, step: button.dataset.step };
  const order = board.work_orders.find((o) => o.id === pending.id);
  document.getElementById("order-dialog-title").textContent = `${word(pending.step)} · ${order?.number ?? ""}`;
  document.getElementById("order-note-label").textContent = word(`note_${pending.step}`);
  note.value = "";
  dialog.showModal();
});
document.getElementById("order-cancel").addEventListener("click", () => dialog.close());
document.getElementById("order-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!pending || !note.value.trim()) return;
  const { id, step } = pending;
  const order = board.work_orders.find((o) => o.id === id);
  let answer;
  try {
    answer = await post(`${list.dataset.ordersUrl}${encodeURIComponent(id)}/${step}`, { note: note.value });
  } catch {
    say.alert(word("err"), word("err_network"));
    return;
  }
  dialog.close();
  pending = null;
  if (answer.ok) {
    say.clear();
    say.notice(fill(word(`done_${step}`), { number: order?.number ?? "" }));
  } else {
    say.alert(error(answer.data.code), answer.data.message);
  }
});

// Case lights and 督办 orders: re-read from the supervision API when a case or an order changes.
const caseBoard = document.getElementById("case-board");
const caseOrders = document.getElementById("case-orders");
let caseTimer = null;

function renderCaseBoard(cases) {
  for (const item of caseBoard.querySelectorAll("[data-light]")) {
    item.querySelector(".count").textContent = String(cases.counts[item.dataset.light] ?? 0);
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
    const due = new Date(order.reply_due).toLocaleString(lang, { timeZone, dateStyle: "short", timeStyle: "short" });
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
