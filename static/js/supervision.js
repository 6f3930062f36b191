// The supervision board (督办): open cases counted by light, the yellow and red ones (red first),
// the orders waiting for an answer with their escalation, and the form that opens an order.
//
// The first state comes with the hall's "cases" topic snapshot; after each case or supervision
// event the board is re-read from the API (debounced), and once a minute, because a light may turn
// in a hall below whose events stay in its own log.
import { caseCells } from "./caserows.js";
import { cell, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { messenger, post } from "./staffpage.js";

const root = document.getElementById("supervision");
const { word, error } = pageWords(root);
const linkState = document.getElementById("link-state");
const flagged = document.getElementById("flagged");
const noFlagged = document.getElementById("no-flagged");
const ordersTable = document.getElementById("orders");
const noOrders = document.getElementById("no-orders");
const form = document.getElementById("order-form");
const choice = document.getElementById("order-case");
const note = document.getElementById("order-note");
const due = document.getElementById("order-due");
const noCandidates = document.getElementById("no-candidates");
const updated = document.getElementById("updated");
const items = JSON.parse(root.dataset.items);
const hallNames = JSON.parse(root.dataset.halls);
const signs = JSON.parse(root.dataset.signs);
const people = JSON.parse(root.dataset.people);
const lang = document.documentElement.lang || "zh-CN";
const say = messenger(document.getElementById("message"), document.getElementById("notice"), word("with_detail"), 8000);
const tz = root.dataset.timezone;
const REFRESH_EVERY = 60000;

const { lightBadge, lightWord, waitingOn } = caseCells({ word, signs, hallNames, people, when });

const dateTime = new Intl.DateTimeFormat(lang, {
  timeZone: tz,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

// A datetime-local value in the hall's time zone (the server reads it there).
function localInput(date) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

function caseLink(number) {
  const link = document.createElement("a");
  link.href = root.dataset.caseUrl + number;
  link.textContent = number;
  return link;
}

function render(board) {
  for (const item of root.querySelectorAll("#counts [data-light]")) {
    item.querySelector(".count").textContent = String(board.counts[item.dataset.light] ?? 0);
  }
  const ordered = new Set(board.orders.map((o) => o.case));
  const body = flagged.tBodies[0];
  body.replaceChildren();
  for (const item of board.cases) {
    const row = document.createElement("tr");
    row.dataset.number = item.number;
    const action = document.createElement("td");
    if (!ordered.has(item.number)) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.pick = item.number;
      button.textContent = word("order");
      action.append(button);
    }
    row.append(
      cell(lightBadge(item)),
      cell(caseLink(item.number), "number"),
      cell(items[item.item] ?? item.item),
      cell(word(`stage_${item.stage}`)),
      cell(when(item.due_at)),
      cell(waitingOn(item)),
      action,
    );
    body.append(row);
  }
  flagged.hidden = board.cases.length === 0;
  noFlagged.hidden = board.cases.length !== 0;

  const candidates = board.cases.filter((c) => !ordered.has(c.number));
  const chosen = choice.value;
  choice.replaceChildren(
    ...candidates.map((c) => {
      const option = document.createElement("option");
      option.value = c.number;
      option.textContent = `${c.number} · ${items[c.item] ?? c.item} · ${lightWord(c)}`;
      return option;
    }),
  );
  if (candidates.some((c) => c.number === chosen)) choice.value = chosen;
  form.hidden = candidates.length === 0;
  noCandidates.hidden = candidates.length !== 0;

  const orderBody = ordersTable.tBodies[0];
  orderBody.replaceChildren();
  for (const order of board.orders) {
    const row = document.createElement("tr");
    row.dataset.order = order.id;
    row.className = `order-${order.level}`;
    const level = document.createElement("span");
    level.className = `level level-${order.level}`;
    level.textContent = word(`level_${order.level}`, order.level_label);
    const escalation = cell(level);
    if (order.fix_due) escalation.append(` · ${fill(word("fix_by"), { time: when(order.fix_due) })}`);
    if (order.notice) {
      const notice = document.createElement("p");
      notice.className = "order-notice small";
      notice.textContent = order.notice;
      escalation.append(notice);
    }
    row.append(
      cell(order.id),
      cell(caseLink(order.case), "number"),
      cell(order.note),
      cell(when(order.opened_at)),
      cell(when(order.reply_due)),
      escalation,
    );
    orderBody.append(row);
  }
  ordersTable.hidden = board.orders.length === 0;
  noOrders.hidden = board.orders.length !== 0;
  updated.textContent = fill(word("updated"), { time: dateTime.format(new Date()) });
}

let timer = null;

async function load() {
  try {
    const answer = await fetch(root.dataset.boardUrl, { credentials: "same-origin" });
    if (answer.ok) render(await answer.json());
  } catch {
    // The link state shows a lost connection; the next event or minute reads again.
  }
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(load, 200);
}

flagged.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-pick]");
  if (!button) return;
  choice.value = button.dataset.pick;
  note.focus();
  form.scrollIntoView({ block: "nearest" });
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const number = choice.value;
  if (!number || !note.value.trim() || !due.value) {
    say.alert(word("err_invalid"), word("err_reason"));
    (!note.value.trim() ? note : due).focus();
    return;
  }
  const sent = note.value.trim();
  try {
    const { ok, data } = await post(`${root.dataset.casesUrl}${number}/orders`, {
      note: sent,
      reply_due: due.value,
    });
    if (!ok) {
      say.alert(error(data.error), data.message);
      return;
    }
    say.clear();
    say.notice(fill(word("opened"), { order: data.order.id, number }));
    // The order is opened: its note is cleared for the next, unless more was typed meanwhile.
    if (note.value.trim() === sent) note.value = "";
    await load();
  } catch {
    say.alert(word("err_network"));
  }
});

due.value = localInput(new Date(Date.now() + 24 * 3600 * 1000));

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
rt.subscribe(root.dataset.topic, {
  snapshot(data) {
    render(data.supervision);
  },
  event() {
    soon();
  },
});
setInterval(load, REFRESH_EVERY);
