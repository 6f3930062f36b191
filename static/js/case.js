// The case record: the steps this person may take now, answers to 督办 orders, and the record kept
// current while it is open.
//
// The server renders the record (it decides which steps to offer); after a step, or when the
// hall's "cases" topic reports a change to this case, the page re-reads itself and swaps the parts
// marked data-live, keeping whatever was typed in their fields.
import { fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";
import { messenger, post } from "./staffpage.js";

const root = document.getElementById("case");
const { word, error } = pageWords(root);
const linkState = document.getElementById("link-state");
const number = root.dataset.number;
const needsReason = new Set(root.dataset.needsReason.split(","));
const say = messenger(document.getElementById("message"), document.getElementById("notice"), word("with_detail"), 8000);
let busy = false;

function showError(data) {
  say.alert(error(data.error), data.message);
}

function materials() {
  const field = document.getElementById("materials");
  if (!field) return [];
  return field.value
    .split(/[\n,，、;；]+/)
    .map((name) => name.trim())
    .filter(Boolean);
}

async function send(url, body, done) {
  if (busy) return;
  busy = true;
  try {
    const { ok, data } = await post(url, body);
    if (!ok) {
      showError(data);
      return;
    }
    say.clear();
    say.notice(done);
    for (const field of root.querySelectorAll("[data-live] textarea")) field.value = "";
    await refresh();
  } catch {
    showError({ error: "network", message: "" });
  } finally {
    // eslint-disable-next-line require-atomic-updates -- this handler's own flag, set before its await
    busy = false;
  }
}

function takeStep(button) {
  const step = button.dataset.step;
  const remarkField = document.getElementById("remark");
  const remark = remarkField ? remarkField.value.trim() : "";
  if (needsReason.has(step) && !remark) {
    say.alert(word("err_reason"));
    remarkField?.focus();
    return;
  }
  const done = fill(word("done"), { action: button.textContent.trim() });
  if (step === "claim") {
    send(root.dataset.actionUrl + "assign", { assignee: Number(root.dataset.me) }, done);
  } else {
    send(root.dataset.actionUrl + step, { remark, materials: materials() }, done);
  }
}

root.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-step]");
  if (button) takeStep(button);
});

// 指派: to the colleague chosen, or to nobody in particular (null: whoever the step fits may take it).
function assign(form) {
  const chosen = form.elements.assignee.value;
  const button = form.querySelector('button[type="submit"]');
  const done = fill(word("done"), { action: button.textContent.trim() });
  send(root.dataset.actionUrl + "assign", { assignee: chosen ? Number(chosen) : null }, done);
}

root.addEventListener("submit", (event) => {
  const form = event.target.closest("form");
  if (!form) return;
  event.preventDefault();
  if (form.id === "assign-form") {
    assign(form);
    return;
  }
  if (!form.dataset.order) return;
  const field = form.querySelector("textarea");
  const text = field.value.trim();
  if (!text) {
    say.alert(word("err_reason"));
    field.focus();
    return;
  }
  send(`${root.dataset.actionUrl}orders/${encodeURIComponent(form.dataset.order)}/answer`, { text }, word("answered"));
});

// -- keeping the record current ----------------------------------------------------------------

let reading = null;
let again = false;

async function refresh() {
  if (reading) {
    again = true;
    return reading;
  }
  reading = (async () => {
    try {
      const answer = await fetch(location.pathname, { credentials: "same-origin" });
      if (!answer.ok) return;
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      for (const part of root.querySelectorAll("[data-live]")) {
        const replacement = fresh.getElementById(part.id);
        if (!replacement || replacement.innerHTML === part.innerHTML) continue;
        const typed = new Map([...part.querySelectorAll("textarea[id], input[id]")].map((f) => [f.id, f.value]));
        const focused = document.activeElement?.id;
        part.replaceChildren(...replacement.childNodes);
        for (const [id, value] of typed) {
          const field = document.getElementById(id);
          if (field && value) field.value = value;
        }
        if (focused) document.getElementById(focused)?.focus();
      }
    } finally {
      reading = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  })();
  return reading;
}

function aboutThisCase(event) {
  return event.data.number === number || event.data.case === number;
}

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
let first = true;
rt.subscribe(root.dataset.topic, {
  snapshot() {
    // The page itself is the first state; a later snapshot (after a long break) may be newer.
    if (!first) refresh();
    first = false;
  },
  event(event) {
    if (aboutThisCase(event)) refresh();
  },
});
