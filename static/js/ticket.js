// A ticket's own pages. The status page (opened from the QR code on a phone) follows the hall's
// queue and asks for the ticket again when something may have moved it; the print page prints
// itself once its QR code has loaded.
import { estimatePair } from "./kioskview.js";
import { linkStatus, pageWords, setBoth } from "./page.js";
import { Realtime } from "./realtime.js";

const REFETCH_MS = 400;

function printPage() {
  const qr = document.getElementById("slip-qr");
  const ready = !qr || qr.complete ? Promise.resolve() : new Promise((resolve) => {
    qr.addEventListener("load", resolve, { once: true });
    qr.addEventListener("error", resolve, { once: true });
  });
  ready.then(() => window.print());
  document.getElementById("print-now")?.addEventListener("click", () => window.print());
}

function statusPage(card) {
  const { pair } = pageWords(card); // key → [the page's language, English or ""]
  const hallId = card.dataset.hall;
  const ticketId = card.dataset.ticket;
  const stateLine = document.getElementById("ticket-state");
  const aheadLine = document.getElementById("ticket-ahead");
  const estimateLine = document.getElementById("ticket-estimate");
  const linkState = document.getElementById("link-state");
  const title = document.title;
  let state = card.dataset.state;

  const say = (element, key, values = {}) => setBoth(element, pair(key, values));

  function show(ticket) {
    const before = state;
    state = ticket.state;
    card.dataset.state = state;
    card.className = card.className.replace(/\bstate-\S+/, `state-${state}`);
    const text = say(stateLine, state, { counter: ticket.counter ?? "" });
    const waiting = state === "waiting" && ticket.ahead !== undefined;
    aheadLine.hidden = !waiting;
    estimateLine.hidden = !waiting;
    if (waiting) {
      say(aheadLine, "ahead", { n: ticket.ahead });
      setBoth(estimateLine, estimatePair(pair, ticket.estimate_minutes));
    }
    document.title = state === "called" ? `${text} · ${title}` : title;
    // A phone in a pocket: a buzz when the ticket is called.
    if (state === "called" && before !== "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
  }

  // The queue keeps live tickets only: a ticket gone from it is done, cancelled or closed, and
  // the page, loaded again, shows which from the ticket's record. At most once in a while, in
  // case the record and the queue ever disagree.
  function finished() {
    const key = `hall-ticket-reload:${ticketId}`;
    const last = Number(sessionStorage.getItem(key) || 0);
    if (Date.now() - last < 30000) return;
    sessionStorage.setItem(key, String(Date.now()));
    location.reload();
  }

  let timer = null;
  function refetch() {
    clearTimeout(timer);
    // Spread over a moment, so that a hall full of phones does not ask in one wave.
    timer = setTimeout(async () => {
      try {
        const answer = await fetch(`/api/v1/halls/${hallId}/tickets/${encodeURIComponent(ticketId)}`, {
          credentials: "same-origin",
        });
        if (answer.ok) show(await answer.json());
        else if (answer.status === 404) finished();
      } catch {
        // The next event tries again.
      }
    }, REFETCH_MS + Math.random() * REFETCH_MS);
  }

  // What may move this ticket: anything done to it, and while it waits, any call, issue or
  // cancellation (people ahead) and any counter opening or closing (the estimate).
  function concerns(event) {
    if (event.data.ticket === ticketId) return true;
    if (state !== "waiting") return false;
    return event.type.startsWith("ticket.") || event.type.startsWith("counter.");
  }

  const rt = new Realtime();
  rt.onstatus = linkStatus(linkState, { live: pair("live"), offline: pair("offline") });
  rt.subscribe(`hall/${hallId}/queue`, {
    snapshot() {
      refetch(); // a fresh start or a reconnect: the ticket may have moved meanwhile
    },
    event(event) {
      if (concerns(event)) refetch();
    },
  });
}

if (document.body.dataset.autoprint === "1") printPage();
const card = document.getElementById("ticket-status");
if (card) statusPage(card);
