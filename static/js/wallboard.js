// The supervisor's wallboard: every counter's state, live, and the latest events.
import { Realtime } from "./realtime.js";

const list = document.getElementById("counters");
const log = document.getElementById("events");
const summary = document.getElementById("summary");
const linkState = document.getElementById("link-state");
const topic = list.dataset.topic;
const words = { open: list.dataset.open, paused: list.dataset.paused, closed: list.dataset.closed };
const counters = new Map();
let directory = {};

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
    state.textContent = words[counter.status] + (counter.pause_reason ? ` · ${counter.pause_reason}` : "");
    const who = document.createElement("span");
    who.className = "clerk";
    who.textContent = counter.clerk_name ? `${counter.clerk_name} ${counter.staff_no || ""}` : "—";
    item.append(number, state, who);
    list.append(item);
  }
  summary.textContent = summary.dataset.template
    .replace("{open}", totals.open)
    .replace("{paused}", totals.paused)
    .replace("{closed}", totals.closed);
}

function note(event, seq) {
  const item = document.createElement("li");
  const time = new Date(event.at).toLocaleTimeString();
  item.textContent = `#${seq} ${time} ${event.type} ${JSON.stringify(event.data)}`;
  log.prepend(item);
  while (log.children.length > 30) log.lastChild.remove();
}

const STATUS_AFTER = {
  "counter.opened": "open",
  "counter.paused": "paused",
  "counter.resumed": "open",
  "counter.closed": "closed",
};

const rt = new Realtime();
rt.onstatus = (online) => {
  linkState.textContent = online ? linkState.dataset.online : linkState.dataset.offline;
  linkState.classList.toggle("offline", !online);
};
rt.subscribe(topic, {
  snapshot(data) {
    counters.clear();
    directory = data.staff || {};
    for (const counter of data.counters) counters.set(counter.number, counter);
    render();
  },
  event(event, seq) {
    note(event, seq);
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
