// The technician's device console: every device of the hall, live; registration, binding,
// credentials, retirement, and commands with their acknowledgement.
//
// The page follows the hall's "devices" topic and, after its snapshot and after any device event,
// re-reads the device list from the API (debounced): simpler and more robust than patching rows
// from events. Telemetry and last-seen times are measurements, not events, so the list is also
// re-read every 15 s. The wired devices' lines (devicewires.js) are read again with each event
// and on their Refresh button.
import { agoParts, resultText, telemetryText as measured } from "./devicetext.js";
import { wiredPanel } from "./devicewires.js";
import { cell, clockDateTime, clockTime, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { messenger, post } from "./staffpage.js";

const root = document.getElementById("devices");
const linkState = document.getElementById("link-state");
const busLine = document.getElementById("bus");
const summary = document.getElementById("summary");
const message = document.getElementById("message");
const notice = document.getElementById("notice");
const pendingTable = document.getElementById("pending");
const noPending = document.getElementById("no-pending");
const table = document.getElementById("table");
const noDevices = document.getElementById("no-devices");
const detail = document.getElementById("detail");
const detailTitle = document.getElementById("detail-title");
const bindForm = document.getElementById("bind-form");
const commandButtons = document.getElementById("command-buttons");
const outcomeLine = document.getElementById("command-outcome");
const commandsTable = document.getElementById("commands");
const brightnessField = document.getElementById("brightness-field");
const brightness = document.getElementById("brightness-percent");
const log = document.getElementById("events");
const secretDialog = document.getElementById("secret-dialog");
const confirmDialog = document.getElementById("confirm-dialog");
const kinds = JSON.parse(root.dataset.kinds);
const counters = JSON.parse(root.dataset.counters);
const kindOf = new Map(kinds.map((k) => [k.value, k]));
const counterName = new Map(counters.map((c) => [c.number, c.name]));
const REFRESH_EVERY = 15000;

let devices = []; // from the API, pending first
let selected = null; // the device id shown in the detail panel
let sending = false;

// -- words -----------------------------------------------------------------------------------

const { word, error } = pageWords(root);

function kindLabel(value) {
  const kind = kindOf.get(value);
  return kind ? { zh: kind.zh, en: kind.en } : { zh: value || word("unknown_kind"), en: "" };
}

function counterLabel(number) {
  if (number === null || number === undefined) return word("no_counter");
  return counterName.get(number) || String(number);
}

const relative = new Intl.RelativeTimeFormat(document.documentElement.lang || "zh-CN", { numeric: "auto" });

function ago(iso) {
  if (!iso) return word("never");
  const parts = agoParts(iso);
  return parts ? relative.format(...parts) : "";
}

function localTime(iso) {
  return clockDateTime(iso, document.documentElement.lang || "zh-CN");
}

function telemetryText(values) {
  return measured(values, word("uptime"));
}

// -- messages --------------------------------------------------------------------------------

const say = messenger(message, notice, word("with_detail"), 8000);

function showError(code, text) {
  say.alert(error(code), text);
}

function clearError() {
  say.clear();
}

function showNotice(text) {
  say.notice(text);
}

const wires = wiredPanel({ root, word, error, say, changed: () => refresh() });

// One change to the registry: POST, show the error or the notice, re-read the list.
async function change(url, body, done) {
  try {
    const { ok, data } = await post(url, body);
    if (!ok) {
      showError(data.error, data.message);
      return null;
    }
    clearError();
    if (done) showNotice(done);
    if (data.secret) showSecret(data.username, data.secret);
    await refresh();
    return data;
  } catch {
    showError("network", word("err_network"));
    return null;
  }
}

let refreshing = null;
let again = false;

async function refresh() {
  // One read at a time; a request made meanwhile is served by one more read after it.
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      try {
        const answer = await fetch(root.dataset.listUrl, { credentials: "same-origin" });
        if (answer.ok) {
          const data = await answer.json();
          devices = data.devices;
          render(data);
        }
      } catch {
        // The link state shows a lost connection; the next event or tick reads again.
      }
    } while (again);
    refreshing = null;
  })();
  return refreshing;
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refresh();
    wires.refresh();
  }, 250);
}

// -- building blocks -------------------------------------------------------------------------

function bilingual({ zh, en }) {
  const span = document.createElement("span");
  span.className = "kind";
  span.textContent = zh;
  if (en && en !== zh) {
    const small = document.createElement("small");
    small.lang = "en";
    small.textContent = en;
    span.append(" ", small);
  }
  return span;
}

function kindOptions(select, chosen) {
  select.replaceChildren();
  for (const kind of kinds) {
    const option = new Option(`${kind.zh} · ${kind.en}`, kind.value);
    option.dataset.atCounter = kind.at_counter ? "true" : "false";
    if (kind.value === chosen) option.selected = true;
    select.append(option);
  }
}

function counterOptions(select, chosen) {
  select.replaceChildren(new Option(word("no_counter"), ""));
  for (const counter of counters) {
    const option = new Option(counter.name, String(counter.number));
    if (counter.number === chosen) option.selected = true;
    select.append(option);
  }
}

function presence(device) {
  const span = document.createElement("span");
  // The word and a sign carry the state; the colour only repeats it.
  span.className = `presence ${device.online ? "is-online" : "is-offline"}`;
  span.textContent = device.online ? word("online") : word("offline");
  return span;
}

function statusWord(status) {
  const span = document.createElement("span");
  span.className = `reg reg-${status}`;
  span.textContent = word(`status_${status}`, status);
  return span;
}

function paperWord(level) {
  if (!level) return "—";
  const span = document.createElement("span");
  span.className = `paper paper-${level}`;
  span.textContent = word(`paper_${level}`, level);
  return span;
}

// A queue display's sound, as it reports it (`voice` telemetry): a sign when it is not heard.
function telemetryCell(values) {
  const text = telemetryText(values);
  if (!values.voice) return cell(text || "—", "telemetry");
  const span = document.createElement("span");
  span.className = `voice voice-${values.voice}`;
  span.textContent = word(`voice_${values.voice}`, values.voice);
  const td = cell(span, "telemetry");
  if (text) td.append(` · ${text}`);
  return td;
}

function counts(named) {
  return Object.entries(named || {})
    .map(([reason, n]) => `${reason}: ${n}`)
    .join("\n");
}

function rejectedCell(device) {
  const total = device.rejected_total || 0;
  const td = cell(total ? `⚠ ${total}` : "0", total ? "rejected has-rejected" : "rejected");
  if (total) {
    td.title = counts(device.rejected);
    const reasons = document.createElement("small");
    reasons.textContent = Object.keys(device.rejected).join(", ");
    td.append(reasons);
  }
  // Presses the hall refused (a closed counter, nothing waiting): no fault, but worth seeing.
  const refused = device.refused_total || 0;
  if (refused) {
    const line = document.createElement("small");
    line.className = "refused";
    line.textContent = `${word("refused_events")} ${refused}`;
    line.title = counts(device.refused);
    td.append(line);
  }
  return td;
}

function timeCell(iso) {
  const td = cell(ago(iso), "when");
  if (iso) td.title = localTime(iso);
  return td;
}

// -- rendering -------------------------------------------------------------------------------

function render(data) {
  renderBus(data.bus);
  const pending = devices.filter((d) => d.status === "pending");
  const listed = devices.filter((d) => d.status !== "pending");
  const online = listed.filter((d) => d.status === "active" && d.online).length;
  const offline = listed.filter((d) => d.status === "active" && !d.online).length;
  summary.textContent = fill(word("summary"), { online, offline, pending: pending.length });
  renderPending(pending);
  renderTable(listed);
  renderDetail();
}

function renderBus(bus) {
  if (bus === null) {
    busLine.dataset.state = "none";
    return; // the template says there is no bus
  }
  busLine.dataset.state = bus.connected ? "connected" : "down";
  busLine.textContent = bus.connected ? fill(word("bus_connected"), { waiting: bus.waiting }) : word("bus_down");
}

function renderPending(pending) {
  const body = pendingTable.tBodies[0];
  // What a technician chose in a register form survives the refreshes that rebuild the rows.
  const chosen = new Map();
  for (const row of body.rows) {
    const form = row.querySelector("form");
    if (form) chosen.set(row.dataset.device, { kind: form.elements.kind.value, counter: form.elements.counter.value });
  }
  const focused = document.activeElement?.closest?.("#pending tr")?.dataset.device;
  const focusedName = document.activeElement?.name;
  pendingTable.hidden = pending.length === 0;
  noPending.hidden = pending.length > 0;
  body.replaceChildren();
  for (const device of pending) {
    const row = document.createElement("tr");
    row.dataset.device = device.id;
    const id = document.createElement("code");
    id.textContent = device.id;
    const form = document.createElement("form");
    form.className = "register-form inline-form";
    const kind = document.createElement("select");
    kind.name = "kind";
    kind.setAttribute("aria-label", `${word("kind")} ${device.id}`);
    kindOptions(kind, device.kind);
    const counter = document.createElement("select");
    counter.name = "counter";
    counter.setAttribute("aria-label", `${word("counter")} ${device.id}`);
    counterOptions(counter, null);
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "primary";
    button.textContent = word("register");
    form.append(kind, counter, button);
    const before = chosen.get(device.id);
    if (before) {
      kind.value = before.kind;
      counter.value = before.counter;
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      register(device.id, kind.value, counter.value);
    });
    row.append(
      cell(id),
      cell(device.kind ? bilingual(kindLabel(device.kind)) : word("unknown_kind")),
      cell(device.firmware || "—"),
      timeCell(device.first_seen),
      cell(form),
    );
    body.append(row);
    if (device.id === focused && focusedName) form.elements[focusedName]?.focus();
  }
}

function renderTable(listed) {
  const body = table.tBodies[0];
  body.replaceChildren();
  noDevices.hidden = listed.length > 0;
  for (const device of listed) {
    const row = document.createElement("tr");
    row.dataset.device = device.id;
    row.className = `device-row status-${device.status}${device.id === selected ? " selected" : ""}`;
    const id = document.createElement("code");
    id.textContent = device.id;
    const manage = document.createElement("button");
    manage.type = "button";
    manage.textContent = word("manage");
    manage.setAttribute("aria-label", `${word("manage")} ${device.id}`);
    manage.addEventListener("click", () => selectDevice(device.id));
    row.append(
      cell(id),
      cell(bilingual(kindLabel(device.kind))),
      cell(counterCell(device)),
      cell(statusWord(device.status)),
      cell(device.status === "retired" ? "—" : presence(device)),
      timeCell(device.last_seen || device.last_connect),
      cell(device.firmware || device.telemetry?.firmware || "—"),
      cell(paperWord(device.paper || device.telemetry?.paper)),
      telemetryCell(device.telemetry || {}),
      rejectedCell(device),
      cell(manage),
    );
    body.append(row);
  }
}

function current() {
  return devices.find((d) => d.id === selected) || null;
}

function renderDetail() {
  const device = current();
  if (!device || device.status === "pending") {
    detail.hidden = true;
    wires.showDevice(null);
    return;
  }
  detail.hidden = false;
  const label = kindLabel(device.kind);
  detailTitle.replaceChildren(`${device.id} · ${label.zh} `, statusWord(device.status));
  const active = device.status === "active";
  // The bind form is reset only when another device is shown or the device's counter changed,
  // so a refresh does not undo a choice not yet sent.
  const shown = `${device.id}:${device.counter}`;
  if (bindForm.dataset.shown !== shown) {
    bindForm.dataset.shown = shown;
    counterOptions(bindForm.elements.counter, device.counter);
  }
  for (const control of [...bindForm.elements, document.getElementById("rekey"), document.getElementById("retire")]) {
    control.disabled = !active;
  }
  for (const button of commandButtons.querySelectorAll("button")) {
    const fits = active && applies(button.dataset.command, device);
    button.disabled = !fits || sending;
    // A command no device of this kind takes is not offered at all; one it takes later is greyed.
    button.hidden = !applies(button.dataset.command, device);
    button.title = active && !fits ? word("not_for_kind") : "";
  }
  brightnessField.hidden = !applies("brightness", device);
  wires.showDevice(device);
}

// As devices/web/api.py command_applies: a wired strip or window display takes ping, show,
// brightness and clear over its line; other wired devices take none; on the bus, brightness and
// clear are no command (a display shows what the feed sends it).
const WIRED_COMMANDS = new Set(["ping", "show", "brightness", "clear"]);
function applies(command, device) {
  const kind = device.kind;
  if (device.wire) return WIRED_COMMANDS.has(command) && (kind === "led" || kind === "window");
  if (command === "brightness" || command === "clear") return false;
  if (command === "show") return Boolean(kindOf.get(kind)?.shows);
  if (command === "paper_refill") return kind === "kiosk";
  return true;
}

function selectDevice(id) {
  selected = id;
  outcomeLine.textContent = "";
  outcomeLine.dataset.status = "";
  for (const row of table.tBodies[0].rows) row.classList.toggle("selected", row.dataset.device === id);
  renderDetail();
  loadCommands();
  detail.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function outcomeWord(status) {
  return word(`outcome_${status}`, status);
}

async function loadCommands() {
  const id = selected;
  if (!id) return;
  let data;
  try {
    const answer = await fetch(`${root.dataset.deviceUrl}${encodeURIComponent(id)}/commands`, {
      credentials: "same-origin",
    });
    if (!answer.ok || id !== selected) return;
    data = await answer.json();
  } catch {
    return;
  }
  const body = commandsTable.tBodies[0];
  body.replaceChildren();
  const rows = [...data.in_flight.map((c) => ({ ...c, done_at: null })), ...data.recent];
  if (rows.length === 0) {
    const td = cell(word("commands_none"), "muted");
    td.colSpan = 5;
    const row = document.createElement("tr");
    row.append(td);
    body.append(row);
    return;
  }
  for (const command of rows) {
    const row = document.createElement("tr");
    const status = document.createElement("span");
    status.className = `outcome-word outcome-${command.status}`;
    status.textContent = outcomeWord(command.status);
    row.append(
      cell(localTime(command.done_at || command.sent_at)),
      cell(word(`cmd_${command.name}`, command.name)),
      cell(status),
      cell(String(command.attempts)),
      cell(resultText(command.result), "result"),
    );
    body.append(row);
  }
}

// -- actions ---------------------------------------------------------------------------------

function deviceUrl(id, action) {
  return `${root.dataset.deviceUrl}${encodeURIComponent(id)}/${action}`;
}

function counterValue(value) {
  return value === "" ? null : Number(value);
}

// A reader beside a kiosk or a queue display: the address to open on its screen, with its key.
function counterCell(device) {
  if (device.counter !== null) return counterLabel(device.counter);
  if (!device.screen_url) return "—";
  const link = document.createElement("a");
  link.href = device.screen_url;
  link.textContent = word("screen_page");
  return link;
}

async function register(id, kind, counter) {
  const body = { device: id, kind, counter: counterValue(counter) };
  return change(root.dataset.listUrl, body, fill(word("registered"), { device: id }));
}

function ask(title, text, yes) {
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-yes").textContent = yes;
  confirmDialog.returnValue = "";
  confirmDialog.showModal();
  return new Promise((resolve) => {
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "yes"), { once: true });
  });
}

function showSecret(user, secret) {
  document.getElementById("secret-user").textContent = user;
  const field = document.getElementById("secret-value");
  field.value = secret;
  const hint = document.getElementById("copy-hint");
  hint.dataset.original ??= hint.textContent;
  hint.textContent = hint.dataset.original;
  secretDialog.showModal();
  field.focus();
  field.select();
}

secretDialog.addEventListener("close", () => {
  // Nothing of the secret stays in the page once the dialog is closed.
  document.getElementById("secret-value").value = "";
});

document.getElementById("copy-secret").addEventListener("click", async () => {
  const field = document.getElementById("secret-value");
  const hint = document.getElementById("copy-hint");
  field.select();
  let copied;
  try {
    // The clipboard API exists only on HTTPS pages; halls often serve plain HTTP.
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } else {
      copied = document.execCommand("copy");
    }
  } catch {
    copied = false;
  }
  if (copied) hint.textContent = word("copied");
});

document.getElementById("register-new").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const id = form.elements.device.value.trim();
  const done = await register(id, form.elements.kind.value, form.elements.counter.value);
  if (done) form.reset();
});

bindForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const device = current();
  if (!device) return;
  const counter = counterValue(bindForm.elements.counter.value);
  const done =
    counter === null
      ? fill(word("unbound"), { device: device.id })
      : fill(word("bound"), { device: device.id, counter: counterLabel(counter) });
  change(deviceUrl(device.id, "bind"), { counter }, done);
});

document.getElementById("rekey").addEventListener("click", async () => {
  const device = current();
  if (!device) return;
  const yes = await ask(
    fill(word("confirm_rekey"), { device: device.id }),
    word("confirm_rekey_text"),
    document.getElementById("rekey").textContent,
  );
  if (yes) change(deviceUrl(device.id, "rekey"), {}, fill(word("rekeyed"), { device: device.id }));
});

document.getElementById("retire").addEventListener("click", async () => {
  const device = current();
  if (!device) return;
  const yes = await ask(
    fill(word("confirm_retire"), { device: device.id }),
    word("confirm_retire_text"),
    document.getElementById("retire").textContent,
  );
  if (yes) change(deviceUrl(device.id, "retire"), {}, fill(word("retired"), { device: device.id }));
});

commandButtons.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-command]");
  const device = current();
  if (!button || !device || sending) return;
  const name = button.dataset.command;
  const label = word(`cmd_${name}`, name);
  if (name === "reboot") {
    const yes = await ask(fill(word("confirm_reboot"), { device: device.id }), word("confirm_reboot_text"), label);
    if (!yes) return;
  }
  // eslint-disable-next-line require-atomic-updates -- the confirmation is modal: no second press can set it meanwhile
  sending = true;
  renderDetail();
  outcomeLine.dataset.status = "sent";
  outcomeLine.textContent = fill(word("sending"), { command: label, device: device.id });
  // The answer comes when the command is over; meanwhile the list shows it queued or sent, read
  // once while it waits (the bus's and the lines' commands in flight).
  const inFlight = setTimeout(loadCommands, 400);
  const body = name === "brightness" ? { name, args: { percent: Number(brightness.value) } } : { name };
  try {
    const { ok, data } = await post(deviceUrl(device.id, "commands"), body);
    if (!ok) {
      outcomeLine.dataset.status = "failed";
      outcomeLine.textContent = "";
      showError(data.error, data.message);
      return;
    }
    clearError();
    outcomeLine.dataset.status = data.status;
    const attempts = fill(word("attempts"), { n: data.attempts });
    const result = resultText(data.result);
    const detail = `${outcomeWord(data.status)} · ${attempts}${result ? ` · ${result}` : ""}`;
    outcomeLine.textContent = fill(word("with_detail"), { headline: label, detail });
  } catch {
    outcomeLine.dataset.status = "failed";
    outcomeLine.textContent = "";
    showError("network", word("err_network"));
  } finally {
    clearTimeout(inFlight);
    // eslint-disable-next-line require-atomic-updates -- this handler's own flag, set before its await
    sending = false;
    renderDetail();
    loadCommands();
  }
});

// -- live ------------------------------------------------------------------------------------

function note(event, seq) {
  const item = document.createElement("li");
  const what = word(`event_${event.type.replace("device.", "")}`, event.type);
  const data = event.data || {};
  const extra = [];
  if (data.counter !== undefined && data.counter !== null) extra.push(counterLabel(data.counter));
  if (data.paper) extra.push(word(`paper_${data.paper}`, data.paper));
  if (data.name) extra.push(`${word(`cmd_${data.name}`, data.name)} ${outcomeWord(data.status)}`);
  const time = clockTime(event.at, { seconds: true });
  item.textContent = `#${seq} ${time} ${data.device ?? ""} ${what}${extra.length ? ` · ${extra.join(" · ")}` : ""}`;
  log.prepend(item);
  while (log.children.length > 30) log.lastChild.remove();
}

for (const field of document.querySelectorAll("select[data-kinds]")) kindOptions(field, null);
for (const field of document.querySelectorAll("select[data-counters]")) counterOptions(field, null);

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
rt.subscribe(root.dataset.topic, {
  snapshot() {
    refreshSoon();
  },
  event(event, seq) {
    note(event, seq);
    refreshSoon();
    if (event.type === "device.command" && event.data.device === selected) loadCommands();
  },
});
refresh();
wires.refresh();
setInterval(refresh, REFRESH_EVERY);
