// The citizen-facing second screen of a counter (一机双屏): who serves the resident, their number,
// the data being entered, and the rating of the service once it is finished (一事一评).
//
// It runs in the clerk's own browser, beside the console, and follows the same counter topic.
// Residents see ticket numbers and a masked name at most: never an ID number or another
// resident's data. The data being entered belongs to one ticket: it is shown only while that
// ticket is called or served here, never over the rating of the one before, and it goes when
// the ticket leaves the counter.
import { newCommandId } from "./ids.js";
import { fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";

const root = document.getElementById("citizen");
const { word } = pageWords(root);
const number = Number(root.dataset.number);
const english = document.documentElement.lang === "en";
const linkState = document.getElementById("link-state");
const panels = {
  idle: document.getElementById("idle"),
  serving: document.getElementById("serving"),
  rating: document.getElementById("rating"),
  thanks: document.getElementById("thanks"),
};
const statusLine = document.getElementById("counter-status");
const servingLine = document.getElementById("serving-line");
const ratingError = document.getElementById("rating-error");
const intake = document.getElementById("intake");
const intakePanel = document.getElementById("intake-panel");

// GB/T 39734-2020 asks for a time window to rate; the screen offers it for two minutes.
const PROMPT_MS = 2 * 60 * 1000;
const THANKS_MS = 8 * 1000;
// Ticket events that keep a ticket at the counter it was called to.
const STAYS = new Set(["ticket.called", "ticket.recalled", "ticket.started"]);

let view = null;
let staff = {};
let rating = null; // {ticket, number, service, commandId} while the prompt is up
let thanking = false;
let promptTimer = null;
let thanksTimer = null;
let sending = false;
let draft = null; // what the console's intake form holds, with the ticket it belongs to

function serviceName(code) {
  const found = view?.all_services?.find((s) => s.code === code);
  if (!found) return code;
  return english && found.name_en ? found.name_en : found.name;
}

function clerkOf(id) {
  if (id === null || id === undefined) return null;
  const person = staff[String(id)];
  if (person) return person;
  if (String(id) === root.dataset.me) return { name: root.dataset.meName, staff_no: root.dataset.meNo };
  return null;
}

function show(name) {
  for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
}

function renderClerk() {
  const counter = view?.counter;
  const person = counter && counter.status !== "closed" ? clerkOf(counter.clerk) : null;
  const block = document.getElementById("clerk");
  block.hidden = !person;
  if (!person) return;
  document.getElementById("clerk-name").textContent = person.name;
  const no = document.getElementById("clerk-no");
  no.textContent = person.staff_no ? fill(word("staff_no"), { no: person.staff_no }) : "";
}

function render() {
  renderClerk();
  renderIntakePanel();
  if (thanking) {
    show("thanks");
    return;
  }
  if (rating) {
    show("rating");
    return;
  }
  const current = view?.current;
  if (current && (current.state === "called" || current.state === "serving")) {
    const template = current.state === "serving" ? word("serving") : word("called");
    servingLine.textContent = fill(template, { number: current.number });
    document.getElementById("serving-service").textContent = serviceName(current.service);
    const applicant = document.getElementById("serving-applicant");
    // The masked name only (张**): the ID number stays on the clerk's side.
    const name = current.applicant?.name;
    applicant.textContent = name ? fill(word("applicant"), { name }) : "";
    applicant.hidden = !name;
    show("serving");
    return;
  }
  const status = view?.counter?.status ?? "closed";
  statusLine.textContent = word(`status_${status}`, "");
  statusLine.dataset.status = status;
  show("idle");
}

// -- rating ----------------------------------------------------------------------------------

function endRating() {
  clearTimeout(promptTimer);
  rating = null;
  ratingError.hidden = true;
  render();
}

function thank() {
  clearTimeout(promptTimer);
  rating = null;
  thanking = true;
  render();
  clearTimeout(thanksTimer);
  thanksTimer = setTimeout(() => {
    thanking = false;
    render();
  }, THANKS_MS);
}

function ask(finished) {
  thanking = false;
  clearTimeout(thanksTimer);
  rating = { ...finished, commandId: newCommandId() };
  clearAspects();
  ratingError.hidden = true;
  const line = document.getElementById("rating-ticket");
  line.textContent = fill(word("rating_ticket"), { number: finished.number, service: serviceName(finished.service) });
  clearTimeout(promptTimer);
  promptTimer = setTimeout(endRating, PROMPT_MS);
  render();
  panels.rating.querySelector("button.level")?.focus();
}

// Scored aspects the hall asks about (optional): one choice of 1–5 per aspect.
function chosenAspects() {
  const scores = {};
  for (const group of panels.rating.querySelectorAll(".aspect")) {
    const picked = group.querySelector('button[aria-checked="true"]');
    if (picked) scores[group.dataset.aspect] = Number(picked.dataset.score);
  }
  return scores;
}

function clearAspects() {
  for (const button of panels.rating.querySelectorAll(".aspect button")) button.setAttribute("aria-checked", "false");
}

for (const group of panels.rating.querySelectorAll(".aspect")) {
  for (const button of group.querySelectorAll("button")) {
    button.addEventListener("click", () => {
      for (const other of group.querySelectorAll("button")) other.setAttribute("aria-checked", "false");
      button.setAttribute("aria-checked", "true");
    });
  }
}

async function rate(level) {
  if (!rating || sending) return;
  sending = true;
  const buttons = panels.rating.querySelectorAll("button.level");
  for (const button of buttons) button.disabled = true;
  try {
    const answer = await fetch(root.dataset.ratingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
      },
      body: JSON.stringify({
        command_id: rating.commandId,
        ticket: rating.ticket,
        service: rating.service,
        level,
        aspects: chosenAspects(),
      }),
    });
    if (answer.ok) {
      thank();
      return;
    }
    let detail = "";
    try {
      detail = (await answer.json()).message || "";
    } catch {
      detail = "";
    }
    ratingError.textContent = `⚠ ${word("rating_failed")}${detail ? ` (${detail})` : ""}`;
    ratingError.hidden = false;
  } catch {
    ratingError.textContent = `⚠ ${word("rating_failed")}`;
    ratingError.hidden = false;
  } finally {
    // eslint-disable-next-line require-atomic-updates -- this handler's own flag, set before its await
    sending = false;
    for (const button of buttons) button.disabled = false;
  }
}

for (const button of panels.rating.querySelectorAll("button.level")) {
  button.addEventListener("click", () => rate(Number(button.dataset.level)));
}

// -- the data being entered: shown only when the console puts something there ----------------

// The ticket the screen is serving now, if the resident holding it is at the counter.
function servedTicket() {
  const current = view?.current;
  if (rating || thanking || !current) return null;
  return current.state === "called" || current.state === "serving" ? current.id : null;
}

function renderIntakePanel() {
  const ticket = servedTicket();
  if (draft && ticket && draft.ticket === ticket) renderIntake(draft);
  else intake.replaceChildren(); // nothing of it stays in the page, even hidden
  intakePanel.hidden = intake.children.length === 0;
}

// The console beside this screen sends what the clerk types (static/js/intake.js): the ID number
// arrives masked, with whether its check digit is right; then the item, the papers received and,
// once accepted, the case number and its due date.
function renderAccepted(accepted) {
  const box = document.createElement("div");
  box.className = "intake-accepted";
  const head = document.createElement("p");
  head.className = "intake-accepted-head";
  head.textContent = `✔ ${word("intake_accepted")}`;
  const list = document.createElement("dl");
  const rows = [[word("intake_number"), accepted.number, "case-number"]];
  if (accepted.due) {
    const provisional = accepted.provisional ? ` (${word("intake_provisional")})` : "";
    rows.push([word("intake_due"), `${accepted.due}${provisional}`, ""]);
  }
  for (const [label, value, className] of rows) {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.textContent = value;
    if (className) detail.className = className;
    list.append(term, detail);
  }
  const keep = document.createElement("p");
  keep.textContent = word("intake_keep");
  box.append(head, list, keep);
  return box;
}

function materialList(materials) {
  const list = document.createElement("ul");
  list.className = "intake-materials";
  for (const material of materials) {
    const row = document.createElement("li");
    row.className = material.ticked ? "got" : material.required ? "lacking" : "optional";
    row.textContent = material.name;
    const notes = [];
    if (material.scans) notes.push(word("intake_scanned"));
    if (!material.ticked) notes.push(word(material.required ? "intake_missing" : "intake_optional"));
    if (notes.length) {
      const note = document.createElement("span");
      note.className = "note";
      const [first, second] = notes;
      note.textContent = `(${second ? fill(word("intake_two_notes"), { first, second }) : first})`;
      row.append(note);
    }
    list.append(row);
  }
  return list;
}

function renderIntake(draft) {
  const rows = [];
  if (draft.name) rows.push([word("intake_name"), draft.name, null]);
  if (draft.id_typed) {
    const shown = draft.id_masked || word("intake_typing");
    const mark =
      draft.id_valid === true ? `✓ ${word("intake_id_ok")}` : draft.id_valid === false ? `✗ ${word("intake_id_bad")}` : "";
    rows.push([word("intake_id"), shown, mark]);
  }
  if (draft.phone_typed) {
    // Masked by the server (138****5678); "being entered" until its answer comes.
    const shown = draft.phone || word("intake_typing");
    rows.push([word("intake_phone"), shown, draft.phone_valid === false ? `✗ ${word("intake_phone_bad")}` : null]);
  }
  if (draft.item) rows.push([word("intake_item"), english && draft.item.name_en ? draft.item.name_en : draft.item.name, null]);
  if (draft.materials?.length) rows.push([word("intake_materials"), materialList(draft.materials), null]);
  if (draft.note) rows.push([word("intake_note"), draft.note, null]);
  const list = document.createElement("dl");
  list.className = "intake-list";
  for (const [label, value, mark] of rows) {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    if (value instanceof Node) detail.append(value);
    else detail.textContent = value;
    if (mark) {
      const flag = document.createElement("span");
      flag.className = mark.startsWith("✓") ? "mark ok" : "mark bad";
      flag.textContent = ` ${mark}`;
      detail.append(flag);
    }
    list.append(term, detail);
  }
  const shown = [];
  if (draft.accepted) shown.push(renderAccepted(draft.accepted));
  if (rows.length) shown.push(list);
  intake.replaceChildren(...shown);
}

if ("BroadcastChannel" in window) {
  const channel = new BroadcastChannel(`hall-intake-${root.dataset.hall}-${number}`);
  channel.addEventListener("message", (event) => {
    if (event.data && typeof event.data === "object") {
      draft = event.data;
      renderIntakePanel();
    }
  });
  channel.postMessage("hello");
}

// -- live ------------------------------------------------------------------------------------

async function refresh() {
  const answer = await fetch(root.dataset.stateUrl, { credentials: "same-origin" });
  if (answer.ok) {
    view = await answer.json();
    render();
  }
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), 150);
}

// Events replayed after a reconnect arrive before the "subscribed" frame; a finished service among
// them is offered for rating only if it is recent (a live one always is).
let live = false;
function recent(event) {
  return live || Date.now() - new Date(event.at).getTime() < PROMPT_MS;
}

const showLink = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
const rt = new Realtime();
rt.onstatus = (online) => {
  if (!online) live = false;
  showLink(online);
};
rt.subscribe(root.dataset.topic, {
  snapshot(data) {
    staff = data.staff || {};
    view = data;
    render();
  },
  subscribed() {
    live = true;
  },
  event(event) {
    const data = event.data || {};
    const current = view?.current;
    // The ticket at the counter leaves it (finished, no-show, transferred, held, cancelled), or
    // another is called here: until the refresh, no ticket is served, so nothing of its data shows.
    const leaves = current && data.ticket === current.id && !STAYS.has(event.type);
    const replaced = current && data.counter === number && STAYS.has(event.type) && data.ticket !== current.id;
    if (event.type.startsWith("ticket.") && (leaves || replaced)) {
      view = { ...view, current: null };
      render();
    }
    if (event.type === "ticket.finished" && data.counter === number && recent(event)) {
      ask({ ticket: data.ticket, number: data.number, service: data.service });
    } else if (event.type === "rating.given" && rating && data.ticket === rating.ticket) {
      thank(); // rated another way, e.g. on a rating pad
    } else if (event.type === "ticket.started" && data.counter === number && rating && data.ticket !== rating.ticket) {
      endRating(); // the next resident is at the counter
    }
    refreshSoon();
  },
});

refresh().catch(() => {});
