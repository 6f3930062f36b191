// The supervisor's wallboard: every counter's state, live, and the latest events.
import { cell, clockDateTime, clockTime, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";

const list = document.getElementById("counters");
const log = document.getElementById("events");
const summary = document.getElementById("summary");
const linkState = document.getElementById("link-state");
const topic = list.dataset.topic;
const { word } = pageWords(list);
const counters = new Map();
let directory = {};
let services = [];
let targets = {};
const orders = new Map();
const lines = document.getElementById("lines");
const ordersTable = document.getElementById("orders");
const alarm = document.getElementById("alarm");

function renderLines() {
  const body = lines.tBodies[0];
  body.replaceChildren();
  for (const service of services) {
    const row = document.createElement("tr");
    const target = targets[service.code];
    const estimate = service.estimate_minutes;
    const over = estimate !== null && target !== undefined && estimate > target;
    const wait =
      estimate === null ? word("no_counter") : fill(word("minutes"), { n: Math.round(estimate) });
    row.append(
      cell(`${service.prefix} ${service.name}`),
      cell(String(service.waiting)),
      // A word and a sign, not colour alone, mark a line over its target.
      cell(over ? `⚠ ${wait} · ${word("over")}` : wait, over ? "over" : ""),
      cell(target === undefined ? "" : fill(word("minutes"), { n: target })),
    );
    body.append(row);
  }
}

function renderOrders() {
  const body = ordersTable.tBodies[0];
  body.replaceChildren();
  if (orders.size === 0) {
    const row = document.createElement("tr");
    const td = cell(word("none"));
    td.colSpan = 6;
    row.append(td);
    body.append(row);
    return;
  }
  for (const order of [...orders.values()].sort((a, b) => a.due.localeCompare(b.due))) {
    const row = document.createElement("tr");
    const person = directory[order.clerk];
    const step = order.state === "open" ? word("order_open") : word("order_called_back");
    row.append(
      cell(order.number),
      cell(String(order.counter)),
      cell(person ? person.name : "—"),
      cell(order.label),
      cell(step),
      cell(order.due),
    );
    body.append(row);
  }
}

let refreshTimer = null;
function refreshLines() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const answer = await fetch(lines.dataset.queueUrl, { credentials: "same-origin" });
    if (answer.ok) {
      services = (await answer.json()).services;
      renderLines();
    }
  }, 300);
}

function render() {
  list.replaceChildren();
  const totals = { open: 0, paused: 0, closed: 0 };
  for (const counter of [...counters.values()].sort((a, b) => a.number - b.number)) {
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

function note(event, seq) {
  const item = document.createElement("li");
  const time = clockTime(event.at, { seconds: true });
  item.textContent = `#${seq} ${time} ${event.type} ${JSON.stringify(event.data)}`;
  log.prepend(item);
  while (log.children.length > 30) log.lastChild.remove();
}

// Case lights and 督办 orders: re-read from the supervision API when a case or an order changes.
const caseBoard = document.getElementById("case-board");
const caseOrders = document.getElementById("case-orders");
let caseTimer = null;

function renderCaseBoard(board) {
  for (const item of caseBoard.querySelectorAll("[data-light]")) {
    item.querySelector(".count").textContent = String(board.counts[item.dataset.light] ?? 0);
  }
  caseOrders.replaceChildren();
  for (const order of board.orders) {
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
  if (board.orders.length === 0) {
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

const STATUS_AFTER = {
  "counter.opened": "open",
  "counter.paused": "paused",
  "counter.resumed": "open",
  "counter.closed": "closed",
};

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
rt.subscribe(topic, {
  snapshot(data) {
    counters.clear();
    directory = data.staff || {};
    for (const counter of data.counters) counters.set(counter.number, counter);
    render();
    services = data.services || [];
    targets = data.targets || {};
    renderLines();
    orders.clear();
    for (const order of data.work_orders || []) orders.set(order.id, order);
    renderOrders();
    refreshCaseBoard();
  },
  event(event, seq) {
    note(event, seq);
    if (event.type.startsWith("ticket.")) refreshLines();
    if (event.type.startsWith("case.") || event.type.startsWith("supervision.")) refreshCaseBoard();
    if (event.type === "rating.alarm") {
      orders.set(event.data.id, event.data);
      renderOrders();
      alarm.textContent = fill(word("alarm"), event.data);
      alarm.hidden = false;
    } else if (event.type === "workorder.called_back") {
      orders.set(event.data.id, event.data);
      renderOrders();
    } else if (event.type === "workorder.resolved") {
      orders.delete(event.data.id);
      renderOrders();
    }
    const status = STATUS_AFTER[event.type];
    const counter = counters.get(event.data.counter);
    if (status && counter) {
      counter.status = status;
      counter.pause_reason = status === "paused" ? event.data.reason || "" : "";
      if (status === "closed") {
        counter.clerk = null;
        counter.clerk_name = null;
        counter.staff_no = null;
      } else if (counter.clerk !== event.data.clerk) {
        const person = directory[event.data.clerk] || { name: `#${event.data.clerk}`, staff_no: "" };
        counter.clerk = event.data.clerk;
        counter.clerk_name = person.name;
        counter.staff_no = person.staff_no;
      }
      render();
    }
  },
});
