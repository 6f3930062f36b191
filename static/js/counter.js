// The clerk's counter console: the counter's state, its current ticket, its line, and the actions.
//
// Every action POSTs to the counter API with a fresh command_id, so a double click is one action.
// The page follows its counter's topic; after any event it re-reads the counter view (debounced),
// which is simpler and more robust than patching the view from each event. What it shows is worked
// out in counterview.js; this module finds the elements, wires the events and talks to the server.
import {
  allowedActions,
  counterChoices,
  keyAction,
  minutesSince,
  personName as namePerson,
  serviceChoices,
  serviceName as nameService,
  statusText,
} from "./counterview.js";
import { cell, clockTime, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { followTodo } from "./todobadge.js";
import { messenger, post } from "./staffpage.js";
import { followWorkOrders } from "./workorders.js";

const root = document.getElementById("console");
const { word, error } = pageWords(root);
const linkState = document.getElementById("link-state");
const message = document.getElementById("message");
const notice = document.getElementById("notice");
const statusLine = document.getElementById("counter-status");
const holder = document.getElementById("counter-holder");
const followOn = document.getElementById("follow-on");
const transferService = document.getElementById("transfer-service");
const transferCounter = document.getElementById("transfer-counter");
const me = Number(root.dataset.me);
const supervisor = root.dataset.supervisor === "true";
const english = document.documentElement.lang === "en";
const number = Number(root.dataset.number);

let view = null; // the counter view from the API or the topic's snapshot
let staff = {}; // staff id → {name, staff_no}, from the snapshot
let busy = false;
// ticket id → when its hold ends, from ticket.held events (the view's tickets may not carry it).
const holdUntil = new Map();

// -- words -----------------------------------------------------------------------------------

function serviceName(code) {
  return nameService(view?.all_services, code, english);
}

function priorityWord(priority) {
  return word(`priority_${priority}`, priority);
}

function stateWord(state) {
  return word(`state_${state}`, state);
}

function personName(id) {
  return namePerson(staff, id, me, word("you"));
}

// -- messages --------------------------------------------------------------------------------

const say = messenger(message, notice, word("with_detail"), 6000);

function showError(code, text) {
  say.alert(error(code), text);
}

function clearError() {
  say.clear();
}

function showNotice(text) {
  say.notice(text);
}

async function act(action, body = {}, label = "") {
  if (busy) return;
  busy = true;
  root.setAttribute("aria-busy", "true");
  try {
    const { ok, data } = await post(root.dataset.actionUrl + action, body);
    if (!ok) {
      showError(data.error, data.message);
      return;
    }
    clearError();
    const done = fill(word("done"), { action: label || action });
    showNotice(data.ticket ? `${done} ${data.ticket.number}` : done);
    if (action === "finish") followOn.value = "";
    await refresh();
  } catch {
    showError("network", word("err_network"));
  } finally {
    // eslint-disable-next-line require-atomic-updates -- this handler's own flag, set before its await
    busy = false;
    root.removeAttribute("aria-busy");
  }
}

async function requeue(ticket) {
  try {
    const { ok, data } = await post(`${root.dataset.ticketUrl}${encodeURIComponent(ticket.id)}/requeue`, {});
    if (!ok) {
      showError(data.error, data.message);
      return;
    }
    clearError();
    showNotice(`${fill(word("done"), { action: word("requeue") })} ${ticket.number}`);
    await refresh();
  } catch {
    showError("network", word("err_network"));
  }
}

async function refresh() {
  const answer = await fetch(root.dataset.stateUrl, { credentials: "same-origin" });
  if (answer.ok) {
    view = await answer.json();
    render();
  } else if (answer.status === 401 || answer.status === 403) {
    // The session ended (logged out elsewhere, expired): say so rather than show a stale view.
    const data = await answer.json().catch(() => ({}));
    showError(data.error, data.message);
  }
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), 150);
}

// -- rendering -------------------------------------------------------------------------------

function buttonCell(label, onClick, disabled) {
  const td = document.createElement("td");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.disabled = disabled;
  button.addEventListener("click", onClick);
  td.append(button);
  return td;
}

function emptyRow(table, columns, text) {
  const row = document.createElement("tr");
  const td = cell(text, "muted");
  td.colSpan = columns;
  row.append(td);
  table.tBodies[0].append(row);
}

function options(select, items, keep) {
  const previous = select.value;
  const first = keep ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []));
  for (const [value, label] of items) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    select.append(option);
  }
  if ([...select.options].some((o) => o.value === previous)) select.value = previous;
}

function renderCounter() {
  const counter = view.counter;
  // Not the wallboard's status-* classes: those draw a card's border.
  statusLine.dataset.status = counter.status;
  statusLine.textContent = statusText(counter, word);
  holder.textContent = counter.clerk ? fill(word("staffed_by"), { name: personName(counter.clerk) }) : "";
}

function renderCurrent() {
  const ticket = view.current;
  // The intake form (intake.js) starts from the ticket at the counter.
  document.dispatchEvent(new CustomEvent("counter:current", { detail: ticket ?? null }));
  document.getElementById("current").hidden = !ticket;
  document.getElementById("no-current").hidden = Boolean(ticket);
  if (!ticket) return;
  document.getElementById("current-number").textContent = ticket.number;
  document.getElementById("current-service").textContent = serviceName(ticket.service);
  const priority = document.getElementById("current-priority");
  priority.textContent = priorityWord(ticket.priority);
  priority.classList.toggle("priority", ticket.priority !== "normal");
  document.getElementById("current-state").textContent = stateWord(ticket.state);
  const applicant = ticket.applicant;
  document.getElementById("current-applicant").textContent = applicant
    ? `${applicant.name} ${applicant.id_number}`
    : word("none");
  document.getElementById("current-recalls").textContent = fill(word("recalls"), { n: ticket.recalls });
}

function renderLists() {
  const status = view.counter.status;
  const free = !view.current && status !== "closed" && view.counter.clerk === me;
  const waiting = document.getElementById("waiting");
  waiting.tBodies[0].replaceChildren();
  const total = document.getElementById("waiting-total");
  total.textContent = `(${fill(word("waiting_total"), { n: view.waiting_total })})`;
  if (view.waiting.length === 0) emptyRow(waiting, 5, word("nobody"));
  for (const ticket of view.waiting) {
    const row = document.createElement("tr");
    row.dataset.ticket = ticket.id;
    const priority = ticket.priority !== "normal";
    row.append(
      cell(ticket.number, "number"),
      cell(serviceName(ticket.service)),
      cell(priorityWord(ticket.priority), priority ? "priority" : ""),
      cell(fill(word("minutes"), { n: minutesSince(ticket.issued_at) })),
      buttonCell(word("call"), () => act("call", { ticket: ticket.id }, word("call")), !free),
    );
    waiting.tBodies[0].append(row);
  }

  const held = document.getElementById("held");
  held.tBodies[0].replaceChildren();
  if (view.held.length === 0) emptyRow(held, 4, word("none"));
  for (const ticket of view.held) {
    const row = document.createElement("tr");
    row.dataset.ticket = ticket.id;
    const until = ticket.hold_until || holdUntil.get(ticket.id);
    row.append(
      cell(ticket.number, "number"),
      cell(serviceName(ticket.service)),
      cell(until ? clockTime(until) : "—", "until"),
      buttonCell(word("call"), () => act("call", { ticket: ticket.id }, word("call")), !free),
    );
    held.tBodies[0].append(row);
  }

  const missed = document.getElementById("missed");
  missed.tBodies[0].replaceChildren();
  if (view.no_shows.length === 0) emptyRow(missed, 3, word("none"));
  for (const ticket of view.no_shows) {
    const row = document.createElement("tr");
    row.dataset.ticket = ticket.id;
    row.append(
      cell(ticket.number, "number"),
      cell(serviceName(ticket.service)),
      buttonCell(word("requeue"), () => requeue(ticket), false),
    );
    missed.tBodies[0].append(row);
  }
}

function renderChoices() {
  const services = serviceChoices(view.all_services, english);
  options(followOn, services, true);
  options(transferService, services, false);
  options(transferCounter, counterChoices(view.counters, number, word), false);
}

// Which actions make sense now; the server stays the judge and says why when it refuses.
function allowed() {
  return allowedActions(view, { me, supervisor });
}

function renderButtons() {
  const can = allowed();
  for (const button of document.querySelectorAll("#console [data-action], #console [data-dialog]")) {
    const key = button.dataset.action || button.dataset.dialog;
    if (key in can) button.disabled = !can[key];
  }
  followOn.disabled = !can.finish;
}

function render() {
  if (!view || !view.counter) return;
  renderCounter();
  renderCurrent();
  renderChoices();
  renderLists();
  renderButtons();
}

// -- actions from buttons, dialogs and keys --------------------------------------------------

function runAction(action, label) {
  if (action === "finish") {
    act("finish", followOn.value ? { follow_on: followOn.value } : {}, label);
  } else {
    act(action, {}, label);
  }
}

for (const button of document.querySelectorAll("#console button[data-action]")) {
  button.addEventListener("click", () => runAction(button.dataset.action, button.dataset.label));
}

function openDialog(id) {
  const dialog = document.getElementById(id);
  if (dialog.open) return;
  dialog.showModal();
  dialog.querySelector("input:not([type=radio]), select")?.focus();
}

for (const button of document.querySelectorAll("#console button[data-dialog]")) {
  button.addEventListener("click", () => openDialog(button.dataset.dialog));
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.querySelector("[data-cancel]").addEventListener("click", () => dialog.close());
}

const pauseDialog = document.getElementById("pause-dialog");
const pauseReason = document.getElementById("pause-reason");
function pause(reason) {
  const text = reason.trim();
  if (!text) {
    showError("invalid", word("ask_reason"));
    return;
  }
  pauseDialog.close();
  pauseReason.value = "";
  act("pause", { reason: text }, pauseDialog.querySelector("h2").textContent);
}
for (const choice of pauseDialog.querySelectorAll("[data-reason]")) {
  choice.addEventListener("click", () => pause(choice.dataset.reason));
}
pauseDialog.querySelector("form").addEventListener("submit", (event) => {
  event.preventDefault();
  pause(pauseReason.value);
});

const transferDialog = document.getElementById("transfer-dialog");
transferDialog.querySelector("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { front: form.get("front") === "true" };
  if (form.get("to") === "counter") body.to_counter = Number(form.get("to_counter"));
  else body.to_service = form.get("to_service");
  transferDialog.close();
  act("transfer", body, transferDialog.querySelector("h2").textContent);
});
for (const select of [transferService, transferCounter]) {
  // Choosing from a list picks the kind of transfer too.
  select.addEventListener("change", () => {
    const kind = select === transferCounter ? "counter" : "service";
    transferDialog.querySelector(`input[name=to][value=${kind}]`).checked = true;
  });
}

const holdDialog = document.getElementById("hold-dialog");
const holdMinutes = document.getElementById("hold-minutes");
function hold(minutes) {
  holdDialog.close();
  act("hold", { minutes }, holdDialog.querySelector("h2").textContent);
}
for (const choice of holdDialog.querySelectorAll("[data-minutes]")) {
  choice.addEventListener("click", () => hold(Number(choice.dataset.minutes)));
}
holdDialog.querySelector("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const minutes = Number(holdMinutes.value);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 240) {
    holdMinutes.focus();
    return;
  }
  hold(minutes);
});

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
  if (typing(event.target) || document.querySelector("dialog[open]")) return;
  const key = keyAction(event.key, view?.counter?.status);
  if (!key) return;
  event.preventDefault(); // F1 would open the browser's help
  const can = allowed();
  if (!can[key]) return;
  if (key.endsWith("-dialog")) {
    openDialog(key);
  } else {
    const button = document.querySelector(`#console button[data-action="${key}"]`);
    runAction(key, button?.dataset.label);
  }
});

// -- live ------------------------------------------------------------------------------------

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
rt.subscribe(root.dataset.topic, {
  snapshot(data) {
    staff = data.staff || {};
    view = data;
    render();
  },
  event(event) {
    if (event.type === "ticket.held" && event.data.until) holdUntil.set(event.data.ticket, event.data.until);
    refreshSoon();
  },
  error(frame) {
    showError(frame.code, frame.message);
  },
});

followTodo(rt, document.getElementById("to-cases"), word);

// A supervisor at the console follows up this counter's 一事一评 work orders (the card is only
// on a supervisor's page; its words come with it).
const orders = document.getElementById("work-orders");
if (supervisor && orders) {
  const book = pageWords(orders);
  followWorkOrders(rt, orders, { word: book.word, error: book.error, say, counter: number });
}

// The page works from the API too, before (or without) the live link.
refresh().catch(() => {});

// Waited minutes grow by themselves.
setInterval(() => {
  if (view) renderLists();
}, 30000);
