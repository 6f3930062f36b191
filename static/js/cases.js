// The case lists: 待办 (waiting on me), the cases I registered, every open case of the hall.
//
// The page follows the hall's "cases" topic and re-reads its list from the API after the snapshot
// and after each case or supervision event (debounced): the lists depend on who is asking, which
// the topic does not know. Also once a minute, for the halls below whose events reach their own
// logs only, and because a light may turn between events.
import { caseCells } from "./caserows.js";
import { cell, fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";

const root = document.getElementById("cases");
const { word, error } = pageWords(root);
const table = document.getElementById("list");
const empty = document.getElementById("empty");
const updated = document.getElementById("updated");
const message = document.getElementById("message");
const linkState = document.getElementById("link-state");
const items = JSON.parse(root.dataset.items);
const hallNames = JSON.parse(root.dataset.halls);
const signs = JSON.parse(root.dataset.signs);
const people = JSON.parse(root.dataset.people);
const lang = document.documentElement.lang || "zh-CN";
const REFRESH_EVERY = 60000;

const { lightBadge, waitingOn } = caseCells({ word, signs, hallNames, people, when });

const dateTime = new Intl.DateTimeFormat(lang, {
  timeZone: root.dataset.timezone,
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

function render(cases, total = cases.length) {
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const item of cases) {
    const row = document.createElement("tr");
    row.dataset.number = item.number;
    row.className = `light-row-${item.light_now ?? item.light}`;
    const link = document.createElement("a");
    link.href = root.dataset.caseUrl + item.number;
    link.textContent = item.number;
    const applicant = document.createElement("span");
    applicant.textContent = item.applicant.name;
    const id = document.createElement("span");
    id.className = "id-masked";
    id.textContent = item.applicant.id_number;
    const who = document.createElement("span");
    who.className = "applicant";
    who.append(applicant, id);
    const due = when(item.due_at) + (item.provisional ? ` (${word("provisional")})` : "");
    row.append(
      cell(link, "number"),
      cell(items[item.item] ?? item.item),
      cell(who),
      cell(word(`stage_${item.stage}`)),
      cell(lightBadge(item)),
      cell(due),
      cell(waitingOn(item)),
    );
    body.append(row);
  }
  table.hidden = cases.length === 0;
  empty.hidden = cases.length !== 0;
  let status = fill(word("updated"), { time: dateTime.format(new Date()) });
  if (total > cases.length) {
    status += ` · ${fill(word("partial"), { shown: cases.length, total })}`;
  }
  updated.textContent = status;
}

let timer = null;
let reading = false;
let again = false;

async function load() {
  // One read at a time; a request made meanwhile is served by one more read after it.
  if (reading) {
    again = true;
    return;
  }
  reading = true;
  try {
    const answer = await fetch(root.dataset.listUrl, { credentials: "same-origin" });
    const data = await answer.json().catch(() => ({}));
    if (answer.ok) {
      message.hidden = true;
      render(data.cases, data.total);
    } else {
      const detail = data.message ?? answer.status;
      message.textContent = `⚠ ${fill(word("with_detail"), { headline: error(data.error), detail })}`;
      message.hidden = false;
    }
  } catch {
    message.textContent = `⚠ ${word("err_network")}`;
    message.hidden = false;
  } finally {
    // eslint-disable-next-line require-atomic-updates -- this reader's own flag, set before its await
    reading = false;
    if (again) {
      again = false;
      load();
    }
  }
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(load, 200);
}

const rt = new Realtime();
rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
rt.subscribe(root.dataset.topic, {
  snapshot(data) {
    // The snapshot is the hall's open cases: that list needs no second read.
    if (root.dataset.view === "open") render(data.cases, data.total);
    else soon();
  },
  event() {
    soon();
  },
});
setInterval(load, REFRESH_EVERY);
