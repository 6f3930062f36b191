// The shared realtime client every page uses: subscribe, resume by sequence, reconnect with backoff.
//
//   import { Realtime } from "/static/js/realtime.js";
//   const rt = new Realtime();
//   rt.subscribe("hall/1/queue", {
//     snapshot(data, seq) { ... },      // a fresh state; forget what you had
//     event(event, seq) { ... },        // one change, in order, never twice
//   });
//   rt.onstatus = (online) => { ... };  // show a sign when the connection is lost
//
// After a reconnect the client sends the last sequence it has seen for each topic, and the
// server answers with exactly the missed events or a fresh snapshot.

const MIN_DELAY = 500;
const MAX_DELAY = 15000;
// The server sends a heartbeat every 15 s; silence for longer than this means a dead link.
const SILENCE_LIMIT = 40000;
// Close code the server uses when the session behind this socket has ended (realtime/sockets.py).
const SESSION_ENDED = 4401;
let leaving = false;
window.addEventListener("pagehide", () => {
  leaving = true;
});
window.addEventListener("beforeunload", () => {
  leaving = true;
});

export class Realtime {
  constructor(url) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = url || `${scheme}//${location.host}/ws`;
    this.topics = new Map(); // topic → {handlers, seq}
    this.delay = MIN_DELAY;
    this.online = false;
    this.onstatus = () => {};
    this.onerror = (frame) => console.warn("realtime:", frame.code, frame.message);
    this._connect();
  }

  subscribe(topic, handlers) {
    const entry = { handlers, seq: null };
    this.topics.set(topic, entry);
    this._send({ type: "subscribe", topic });
    return () => this.unsubscribe(topic);
  }

  unsubscribe(topic) {
    this.topics.delete(topic);
    this._send({ type: "unsubscribe", topic });
  }

  lastSeq(topic) {
    const entry = this.topics.get(topic);
    return entry ? entry.seq : null;
  }

  _send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
    }
  }

  _status(online) {
    if (this.online !== online) {
      this.online = online;
      this.onstatus(online);
    }
  }

  _connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = MIN_DELAY;
      this._status(true);
      this._watch();
      for (const [topic, entry] of this.topics) {
        const message = { type: "subscribe", topic };
        if (entry.seq !== null) message.since = entry.seq;
        ws.send(JSON.stringify(message));
      }
    };
    ws.onmessage = (message) => {
      this._watch();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this._dispatch(frame);
    };
    ws.onclose = (closed) => {
      clearTimeout(this.silence);
      this._status(false);
      // The session this page rode on has ended (logout, or the account was changed): reloading
      // shows the login page to a staff page and the same page to a public one.
      if (closed.code === SESSION_ENDED) {
        // Not while the page is already going elsewhere (its own logout button, a link).
        if (!leaving) window.location.reload();
        return;
      }
      // Full jitter, so that a hall of screens does not reconnect in one wave after a restart.
      const wait = Math.random() * this.delay;
      this.delay = Math.min(this.delay * 2, MAX_DELAY);
      setTimeout(() => this._connect(), wait);
    };
  }

  _watch() {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => this.ws.close(), SILENCE_LIMIT);
  }

  _dispatch(frame) {
    const entry = frame.topic ? this.topics.get(frame.topic) : null;
    switch (frame.type) {
      case "snapshot":
        if (!entry) return;
        entry.seq = frame.seq;
        entry.handlers.snapshot?.(frame.data, frame.seq);
        break;
      case "event":
        if (!entry || (entry.seq !== null && frame.seq <= entry.seq)) return;
        entry.seq = frame.seq;
        entry.handlers.event?.(frame.event, frame.seq);
        break;
      case "subscribed":
        if (!entry) return;
        entry.seq = Math.max(entry.seq ?? 0, frame.seq);
        entry.handlers.subscribed?.(frame.mode, frame.seq);
        break;
      case "error":
        this.onerror(frame);
        entry?.handlers.error?.(frame);
        break;
      default:
        break; // heartbeat, pong
    }
  }
}
