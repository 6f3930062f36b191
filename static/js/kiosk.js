// The ticket kiosk (排号机): a big button per service with people waiting and the estimated wait,
// live; a press takes a ticket, shows it with its QR code, prints it, and returns to the start.
import { newCommandId } from "./ids.js";
import { estimatePair, offReason, statusPair } from "./kioskview.js";
import { linkStatus, pageWords, setBoth } from "./page.js";
import { Realtime } from "./realtime.js";

const RETURN_SECONDS = 15;
const IDLE_RESET_MS = 60000;
const MESSAGE_MS = 10000;
const RETRIES = 3;

const root = document.getElementById("kiosk");
// key → [the page's language, English or ""]; English dropped when it adds nothing.
const { pair } = pageWords(root);
const hallId = root.dataset.hall;
const timeZone = root.dataset.timezone;
const autoprint = root.dataset.autoprint === "1";
const showEnglish = root.dataset.english === "1"; // English under Chinese, unless the page is in English
const csrf = document.querySelector('meta[name="csrf-token"]').content;

const start = document.getElementById("start");
const grid = document.getElementById("services");
const ticketView = document.getElementById("ticket");
const busy = document.getElementById("busy");
const message = document.getElementById("message");
const messageText = document.getElementById("message-text");
const countdown = document.getElementById("countdown");
const linkState = document.getElementById("link-state");
const elderlyToggle = document.getElementById("elderly-mode");
const clock = document.getElementById("clock");

let services = [];
let noCounter = "warn"; // the hall's choice for a service no open counter serves (Rules.no_counter)
let pressing = false;
let returnTimer = null;
let messageTimer = null;
let idleTimer = null;

function serviceButton(service) {
  let button = grid.querySelector(`button[data-code="${CSS.escape(service.code)}"]`);
  if (!button) {
    button = document.createElement("button");
    button.type = "button";
    button.className = "service";
    button.dataset.code = service.code;
    const prefix = document.createElement("span");
    prefix.className = "prefix";
    prefix.setAttribute("aria-hidden", "true");
    const names = document.createElement("span");
    names.className = "names";
    const status = document.createElement("span");
    status.className = "status";
    button.append(prefix, names, status);
  }
  button.querySelector(".prefix").textContent = service.prefix;
  setBoth(button.querySelector(".names"), [service.name, showEnglish ? service.name_en : ""]);
  const reason = offReason(pair, service, noCounter);
  setBoth(button.querySelector(".status"), statusPair(pair, service, noCounter));
  // aria-disabled rather than disabled: the button stays reachable, so its reason can be read.
  button.setAttribute("aria-disabled", reason ? "true" : "false");
  button.classList.toggle("off", Boolean(reason));
  return button;
}

function render() {
  const buttons = services.map(serviceButton);
  const same = buttons.length === grid.children.length && buttons.every((b, i) => grid.children[i] === b);
  // Updated in place as a rule, so a keyboard user's focus stays where it is.
  if (!same) grid.replaceChildren(...buttons);
}

let refreshTimer = null;
let viewAsked = 0;
function refresh(delay = 800) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const asked = ++viewAsked;
    try {
      const answer = await fetch(`/api/v1/halls/${hallId}/queue`, { credentials: "same-origin" });
      if (answer.ok) {
        const view = await answer.json();
        // A later read is under way: what it brings is the newer.
        if (asked !== viewAsked) return;
        services = view.services;
        noCounter = view.no_counter || "warn";
        render();
      }
    } catch {
      // The next event or the minute's refresh tries again.
    }
  }, delay);
}

// -- taking a ticket ------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// -- the ID reader beside the kiosk (optional) ----------------------------------------------------

const reader = root.dataset.reader;
// Proves this page is the reader's own kiosk (hall/web/screen_keys.py); without it there is no card.
const readerKey = root.dataset.readerKey;
const cardState = document.getElementById("card-state");
let cardName = null;

async function readCard() {
  try {
    const answer = await fetch(`/api/v1/halls/${hallId}/readers/${encodeURIComponent(reader)}`, {
      credentials: "same-origin",
      headers: { "X-Screen-Key": readerKey },
    });
    const status = answer.ok ? await answer.json() : { card: false };
    const name = status.card ? status.name : null;
    if (name !== cardName) {
      cardName = name;
      setBoth(cardState, name ? pair("card_read", { name }) : pair("swipe"));
      cardState.classList.toggle("read", Boolean(name));
    }
  } catch {
    // the reader's status is a convenience; the buttons work without it
  }
}

if (reader && cardState) {
  readCard();
  setInterval(readCard, 1500);
}

function priority() {
  return document.querySelector('input[name="priority"]:checked')?.value || "normal";
}

async function take(code) {
  if (pressing) return; // a second press while the first is under way takes nothing more
  pressing = true;
  hideMessage();
  busy.hidden = false;
  // One command id per press: a retry after a lost answer returns the ticket already taken.
  const body = { service: code, command_id: newCommandId() };
  if (priority() !== "normal") body.priority = priority();
  if (reader && cardName) body.reader = reader; // the card on the reader names the ticket's holder
  try {
    for (let attempt = 1; ; attempt += 1) {
      let answer = null;
      try {
        answer = await fetch(`/api/v1/halls/${hallId}/tickets`, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRF-Token": csrf,
            ...(body.reader ? { "X-Screen-Key": readerKey } : {}),
          },
          body: JSON.stringify(body),
        });
      } catch {
        answer = null; // no answer at all: the network
      }
      if (answer && answer.ok) {
        showTicket(await answer.json());
        if (body.reader) readCard(); // the card is used: the line goes back to its hint
        return;
      }
      if (answer && answer.status < 500) {
        const problem = await answer.json().catch(() => ({}));
        showError(answer.status, problem);
        return;
      }
      if (attempt >= RETRIES) {
        showError(answer ? answer.status : 0, {});
        return;
      }
      await sleep(700 * attempt);
    }
  } finally {
    busy.hidden = true;
    // eslint-disable-next-line require-atomic-updates -- this press's own flag, set before its await
    pressing = false;
  }
}

function showError(status, problem) {
  let text;
  if (status === 429) text = pair("err_busy");
  else if (problem.error === "sold_out") text = pair("sold_out");
  else if (problem.error === "closed") text = pair("err_closed");
  else if (problem.error === "priority_not_offered") text = pair("err_priority");
  else if (problem.error === "no_counter") text = pair("err_no_counter");
  else text = pair("err_other");
  setBoth(messageText, text);
  message.hidden = false;
  document.getElementById("message-ok").focus();
  clearTimeout(messageTimer);
  messageTimer = setTimeout(hideMessage, MESSAGE_MS);
  if (["closed", "sold_out", "no_counter"].includes(problem.error)) refresh(0);
}

function hideMessage() {
  clearTimeout(messageTimer);
  if (!message.hidden) {
    message.hidden = true;
    grid.querySelector("button")?.focus();
  }
}

const dateTime = new Intl.DateTimeFormat("en-CA", {
  timeZone,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

// 2026-11-23 09:41 in the hall's time zone, as the printed slip and the ticket's page write it.
function localTime(date) {
  const part = Object.fromEntries(dateTime.formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}`;
}

function showTicket(answer) {
  const ticket = answer.ticket;
  const service = services.find((s) => s.code === ticket.service) || { name: ticket.service, name_en: "" };
  document.getElementById("slip-number").textContent = ticket.number;
  setBoth(document.getElementById("slip-service"), [service.name, showEnglish ? service.name_en : ""]);
  document.getElementById("slip-priority").hidden = ticket.priority === "normal";
  setBoth(document.getElementById("slip-ahead"), pair("ahead", { n: answer.ahead }));
  setBoth(document.getElementById("slip-estimate"), estimatePair(pair, answer.estimate_minutes));
  // Issued for a service no open counter serves (the hall's choice): the resident is told so.
  const warning = document.getElementById("slip-warning");
  warning.hidden = !answer.no_counter;
  if (answer.no_counter) {
    const [main, english] = pair("no_counter_warning");
    setBoth(warning, [`⚠ ${main}`, english]);
  }
  const issued = ticket.issued_at ? new Date(ticket.issued_at) : new Date();
  setBoth(document.getElementById("slip-time"), pair("taken_at", { time: localTime(issued) }));
  const qr = document.getElementById("slip-qr");
  const printed = new Promise((resolve) => {
    qr.onload = resolve;
    qr.onerror = resolve;
  });
  qr.src = `/t/${hallId}/${encodeURIComponent(ticket.id)}/qr.svg`;
  start.hidden = true;
  ticketView.hidden = false;
  document.getElementById("done").focus();
  // The browser is the fallback printer: the print stylesheet shows the slip alone. A kiosk
  // browser started with --kiosk-printing prints it without a dialog.
  if (autoprint) printed.then(() => window.print());
  startCountdown();
}

function startCountdown() {
  clearInterval(returnTimer);
  let left = RETURN_SECONDS;
  setBoth(countdown, pair("back_in", { n: left }));
  returnTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) backToStart();
    else setBoth(countdown, pair("back_in", { n: left }));
  }, 1000);
}

// Ready for the next person: no ticket on screen, no priority, ordinary size.
function backToStart() {
  clearInterval(returnTimer);
  ticketView.hidden = true;
  start.hidden = false;
  // Nothing of the last person's ticket stays behind.
  document.getElementById("slip-warning").hidden = true;
  for (const id of ["slip-number", "slip-service", "slip-ahead", "slip-estimate", "slip-warning", "slip-time"]) {
    document.getElementById(id).replaceChildren();
  }
  document.getElementById("slip-qr").removeAttribute("src");
  resetChoices();
  grid.querySelector("button")?.focus();
}

function resetChoices() {
  const normal = document.querySelector('input[name="priority"][value="normal"]');
  if (normal) normal.checked = true;
  setElderly(false);
}

function setElderly(on) {
  document.documentElement.classList.toggle("elderly", on);
  elderlyToggle.setAttribute("aria-pressed", on ? "true" : "false");
}

// Someone who chose a priority or the elderly mode and walked away leaves no choice behind.
function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (ticketView.hidden) resetChoices();
  }, IDLE_RESET_MS);
}

grid.addEventListener("click", (event) => {
  const button = event.target.closest("button.service");
  if (!button || button.getAttribute("aria-disabled") === "true") return;
  take(button.dataset.code);
});
elderlyToggle.addEventListener("click", () => {
  setElderly(elderlyToggle.getAttribute("aria-pressed") !== "true");
});
document.getElementById("done").addEventListener("click", backToStart);
document.getElementById("reprint").addEventListener("click", () => window.print());
document.getElementById("message-ok").addEventListener("click", hideMessage);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    if (!message.hidden) hideMessage();
    else if (!ticketView.hidden) backToStart();
  }
});
for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, touched, { passive: true });

const clockFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone,
  month: "long",
  day: "numeric",
  weekday: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
function tick() {
  clock.textContent = clockFormat.format(new Date());
}
tick();
setInterval(tick, 10000);

const rt = new Realtime();
rt.onstatus = linkStatus(linkState);
rt.subscribe(`hall/${hallId}/queue`, {
  snapshot(data) {
    services = data.services || [];
    noCounter = data.no_counter || "warn";
    render();
  },
  event(event) {
    if (event.type.startsWith("ticket.") && event.data.waiting) {
      for (const service of services) service.waiting = event.data.waiting[service.code] ?? 0;
      render();
    }
    // Estimates follow counters opening and services finishing: ask for them, once per burst.
    // An administrator's change to the services (hours, names, one taken out of use) too.
    if (["ticket.", "counter.", "service.", "rules.", "hall."].some((kind) => event.type.startsWith(kind))) refresh();
  },
});
// Opening hours begin and end without an event.
setInterval(() => refresh(0), 60000);
