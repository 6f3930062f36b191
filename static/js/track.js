// Public case tracking: asks /api/v1/track with the case number and the phone's last four digits,
// shows the answer, and offers the five levels of GB/T 39734 once the case is done and unrated.
import { newCommandId } from "./ids.js";
import { joinList, pageWords, setBoth as setTexts } from "./page.js";

const root = document.getElementById("track");
const { pair, word } = pageWords(root); // key → [the page's language, English or ""]
const english = root.dataset.lang === "en";
const csrf = document.querySelector('meta[name="csrf-token"]').content;

const form = document.getElementById("track-form");
const caseInput = document.getElementById("track-case");
const tailInput = document.getElementById("track-tail");
const go = document.getElementById("track-go");
const message = document.getElementById("track-message");
const busy = document.getElementById("track-busy");
const result = document.getElementById("track-result");
const rateSection = document.getElementById("track-rate");
const rateForm = document.getElementById("rate-form");
const rateSend = document.getElementById("rate-send");
const rateMessage = document.getElementById("rate-message");
const comment = document.getElementById("rate-comment");
const rated = document.getElementById("result-rated");

// What the last successful look-up was made with: the rating needs the same two. Kept in memory
// only: the phone digits never go into the address or storage.
let asked = null;
let rateCommand = null;

// A pair whose {level} is itself a label: the page's language in the first text, English in the second.
function ratedPair(key, level) {
  const [main, second] = label(level);
  return pair(key, { level: main }, { level: second || main });
}

// The API gives its labels in both languages; the page's language leads.
function label(both) {
  return english ? [both.en || both.zh, ""] : [both.zh, both.en || ""];
}

function named(zh, en) {
  return english && en ? [en, zh] : [zh, english ? "" : en];
}

// The second language follows the first, after a space or (stacked) under it.
function setBoth(element, texts, { stacked = false } = {}) {
  setTexts(element, texts, { apart: stacked ? "br" : " ", secondLang: english ? "zh-CN" : "en" });
}

function show(element, text) {
  if (text) setBoth(element, text, { stacked: true });
  element.hidden = !text;
}

async function post(path, body) {
  const answer = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  let data = {};
  try {
    data = await answer.json();
  } catch {
    // An answer without JSON (a proxy's error page) is read by its status alone.
  }
  return { status: answer.status, data, retryAfter: Number(answer.headers.get("Retry-After") || 0) };
}

// What a failed answer means to the resident; the same words for a wrong number and a wrong phone.
function refusal({ status, data, retryAfter }) {
  if (status === 404) return pair("not_found");
  if (status === 429) return pair("too_many", { minutes: Math.max(1, Math.ceil((retryAfter || 600) / 60)) });
  if (status === 422 && data.field === "case") return pair("case_format");
  if (status === 422 && data.field === "phone_tail") return pair("tail_format");
  return pair("failed");
}

const digits = (text) => text.replace(/[\s-]/g, "");

function invalid(input, text) {
  input.setAttribute("aria-invalid", "true");
  show(message, text);
  input.focus();
}

async function lookUp({ quiet = false } = {}) {
  const number = digits(caseInput.value);
  const tail = tailInput.value.trim();
  caseInput.removeAttribute("aria-invalid");
  tailInput.removeAttribute("aria-invalid");
  if (!/^[0-9]{8,32}$/.test(number)) return invalid(caseInput, pair("case_format"));
  if (!/^[0-9]{4}$/.test(tail)) return invalid(tailInput, pair("tail_format"));
  show(message, null);
  if (!quiet) setBoth(busy, pair("looking"));
  go.disabled = true;
  try {
    const answer = await post("/api/v1/track", { case: number, phone_tail: tail });
    if (answer.status !== 200) {
      asked = null;
      result.hidden = true;
      show(message, refusal(answer));
      return;
    }
    asked = { case: number, phone_tail: tail };
    render(answer.data);
    // A reload or a bookmark keeps the number, never the phone digits.
    const url = new URL(window.location.href);
    url.searchParams.set("case", number);
    window.history.replaceState(null, "", url);
  } catch {
    show(message, pair("offline"));
  } finally {
    go.disabled = false;
    busy.replaceChildren();
  }
}

function place(id, hall) {
  setBoth(document.getElementById(id), named(hall.name, hall.name_en));
}

function render(found) {
  document.getElementById("result-number").textContent = found.number;
  setBoth(document.getElementById("result-name"), named(found.item.name, found.item.name_en), { stacked: true });
  setBoth(document.getElementById("result-status"), label(found.status));
  const light = document.getElementById("result-light");
  light.hidden = !found.light;
  if (found.light) {
    const [main, second] = label(found.light.word);
    setBoth(light, [`${found.light.icon} ${main}`, second]);
    light.dataset.light = found.light.value;
  }
  const [dueMain, dueSecond] = pair("due");
  const due = found.due_local
    ? [`${dueMain} ${found.due_local}`, dueSecond ? `${dueSecond} ${found.due_local}` : ""]
    : pair("due_none");
  const dueItem = document.getElementById("result-due");
  setBoth(dueItem, due);
  dueItem.hidden = found.finished;
  document.getElementById("result-provisional").hidden = !(found.provisional && !found.finished && found.due_local);
  show(
    document.getElementById("result-reason"),
    found.refused_reason ? pair("refused_reason", { reason: found.refused_reason }) : null,
  );
  let supplement = null;
  if (found.supplement) {
    supplement = found.supplement.length
      ? pair("supplement", { materials: joinList(found.supplement, word("list_join")) })
      : pair("supplement_ask");
  }
  show(document.getElementById("result-supplement"), supplement);
  const phone = found.item.consult_phone;
  show(document.getElementById("result-consult"), phone ? pair("consult", { phone }) : null);

  const history = document.getElementById("result-history");
  history.replaceChildren(
    ...found.history.map((step) => {
      const item = document.createElement("li");
      const when = document.createElement("time");
      when.dateTime = step.at;
      when.textContent = `${step.at_local} `;
      const what = document.createElement("strong");
      setBoth(what, label(step.label));
      item.append(when, what);
      return item;
    }),
  );

  place("place-accepted", found.halls.accepted);
  place("place-deciding", found.halls.deciding);
  place("place-collect", found.halls.collect);
  // Where to collect matters until the result is in hand.
  document.getElementById("place-collect-row").hidden = ["collected", "refused"].includes(found.stage);

  const rating = found.rating;
  show(rated, rating.level ? ratedPair("rated_before", rating.label) : null);
  rateSection.hidden = !rating.open;
  if (rating.open) {
    setBoth(document.getElementById("rate-hint"), pair("rate_hint", { days: rating.days, date: rating.until }), {
      stacked: true,
    });
  }
  result.hidden = false;
}

async function sendRating() {
  const chosen = rateForm.querySelector('input[name="level"]:checked');
  comment.removeAttribute("aria-invalid");
  if (!chosen) {
    show(rateMessage, pair("pick_level"));
    rateForm.querySelector('input[name="level"]')?.focus();
    return;
  }
  const text = comment.value.trim();
  if (chosen.dataset.unsatisfied && !text) {
    comment.setAttribute("aria-invalid", "true");
    show(rateMessage, pair("comment_needed"));
    comment.focus();
    return;
  }
  if (!asked) return;
  show(rateMessage, null);
  // One id per rating the resident sends: a retry after a lost answer is not a second rating.
  rateCommand ??= newCommandId();
  rateSend.disabled = true;
  try {
    const answer = await post("/api/v1/track/rate", {
      ...asked,
      level: Number(chosen.value),
      comment: text,
      command_id: rateCommand,
    });
    // eslint-disable-next-line require-atomic-updates -- the id of this one rating, settled by its answer
    rateCommand = null;
    if (answer.status === 200) {
      rateForm.reset();
      await lookUp({ quiet: true });
      show(rated, ratedPair("rated", answer.data.label));
      return;
    }
    if (answer.status === 422 && answer.data.field === "comment") {
      comment.setAttribute("aria-invalid", "true");
      show(rateMessage, pair("comment_needed"));
      comment.focus();
    } else if (answer.status === 409) {
      show(rateMessage, pair("cannot_rate"));
    } else {
      show(rateMessage, refusal(answer));
    }
  } catch {
    show(rateMessage, pair("offline"));
  } finally {
    rateSend.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  lookUp();
});
rateForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sendRating();
});
