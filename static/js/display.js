// The hall's queue display (big screen): the newest call large, "请 A023 号到 5 号窗口办理" with the
// English under it; the recent calls; people waiting per service; a rolling notice; and each call
// spoken in turn: a chime, then the call twice, never two calls at once.
import { fill, linkStatus, pageWords } from "./page.js";
import { Realtime } from "./realtime.js";

const MAX_RECENT = 8;
// Calls replayed after a long outage are shown, not spoken: the people called have gone by now.
const SPEAK_WITHIN_MS = 60000;
const VOICE_QUEUE_MAX = 6;
const FETCH_TIMEOUT_MS = 8000;
const REPEATS = 2;
const CONNECT_GRACE_MS = 5000;

const root = document.getElementById("display");
const options = root.dataset;
// Every word a pair [Chinese, English]: the display always shows both.
const { word, pair } = pageWords(root);
// The call's templates, kept whole: callNodes sets the number and the counter apart in them.
const [callZh, callEn] = pair("call");
const hallId = options.hall;
const current = document.getElementById("current-call");
const callLine = document.getElementById("call-zh");
const callLineEn = document.getElementById("call-en");
const recent = document.getElementById("recent-calls");
const lines = document.getElementById("lines");
const linkState = document.getElementById("link-state");
const enableVoice = document.getElementById("enable-voice");

// The template as nodes, with the number and the counter set apart so they stand out.
function callNodes(template, call) {
  return template.split(/(\{number\}|\{counter\})/).map((part) => {
    if (part !== "{number}" && part !== "{counter}") return document.createTextNode(part);
    const strong = document.createElement("strong");
    strong.className = part === "{number}" ? "call-number" : "call-counter";
    strong.textContent = part === "{number}" ? call.number : String(call.counter);
    return strong;
  });
}

function both(main, english) {
  const first = document.createElement("span");
  first.className = "main";
  first.textContent = main;
  const second = document.createElement("span");
  second.className = "en";
  second.lang = "en";
  second.textContent = english;
  return [first, second];
}

// -- calls on screen ---------------------------------------------------------------------------

let calls = []; // newest first: {number, counter, seq}

function showCurrent(call, flash) {
  if (!call) return;
  callLine.replaceChildren(...callNodes(callZh, call));
  callLineEn.replaceChildren(...callNodes(callEn, call));
  if (flash) {
    current.classList.remove("flash");
    void current.offsetWidth; // restart the animation
    current.classList.add("flash");
  }
}

function renderRecent() {
  recent.replaceChildren(
    ...calls.slice(0, MAX_RECENT).map((call, index) => {
      const item = document.createElement("li");
      if (index === 0) item.className = "latest";
      const number = document.createElement("span");
      number.className = "r-number";
      number.textContent = call.number;
      const counter = document.createElement("span");
      counter.className = "r-counter";
      counter.append(...both(...pair("counter", { counter: call.counter })));
      item.append(number, counter);
      return item;
    }),
  );
}

function called(call, { flash = true, speak = true } = {}) {
  // A recall moves the ticket back to the top rather than listing it twice.
  calls = [call, ...calls.filter((c) => c.number !== call.number)].slice(0, MAX_RECENT);
  showCurrent(call, flash);
  renderRecent();
  if (speak) voice.announce(call);
}

// -- people waiting ------------------------------------------------------------------------------

function setWaiting(code, count) {
  const tile = lines.querySelector(`li[data-code="${CSS.escape(code)}"]`);
  if (!tile) return;
  tile.querySelector(".count").replaceChildren(...both(...pair("waiting", { n: count })));
  tile.classList.toggle("empty", count === 0);
}

function renderLines(services) {
  const known = new Set();
  for (const service of services) {
    known.add(service.code);
    if (!lines.querySelector(`li[data-code="${CSS.escape(service.code)}"]`)) {
      const tile = document.createElement("li");
      tile.className = "line-tile";
      tile.dataset.code = service.code;
      const prefix = document.createElement("span");
      prefix.className = "prefix";
      prefix.setAttribute("aria-hidden", "true");
      prefix.textContent = service.prefix;
      const names = document.createElement("span");
      names.className = "names";
      names.append(...both(service.name, service.name_en));
      const count = document.createElement("span");
      count.className = "count";
      tile.append(prefix, names, count);
      lines.append(tile);
    }
    setWaiting(service.code, service.waiting);
  }
  for (const tile of [...lines.children]) if (!known.has(tile.dataset.code)) tile.remove();
}

// -- voice ---------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Voice {
  constructor(mode, english) {
    this.mode = mode; // "server", "webspeech" (server first, then the browser's voice), or "off"
    this.langs = english ? ["zh_CN", "en"] : ["zh_CN"];
    this.queue = [];
    this.running = false;
    this.buffers = new Map(); // url → decoded audio, a few recent ones (recalls say the same)
    this.context = null;
    if (mode === "off") return;
    const Context = window.AudioContext || window.webkitAudioContext;
    try {
      this.context = Context ? new Context() : null;
    } catch {
      this.context = null;
    }
  }

  get unlocked() {
    return this.context !== null && this.context.state === "running";
  }

  // Browsers keep a page silent until someone interacts with it: one click unlocks the sound.
  async unlock() {
    if (this.context) await this.context.resume().catch(() => {});
  }

  announce(call) {
    if (this.mode === "off" || !this.unlocked) return;
    if (call.at && Date.now() - Date.parse(call.at) > SPEAK_WITHIN_MS) return;
    this.queue.push(call);
    while (this.queue.length > VOICE_QUEUE_MAX) this.queue.shift();
    this._drain();
  }

  async _drain() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const call = this.queue.shift();
        try {
          await this._say(call);
        } catch {
          // A voice that fails is skipped; the screen has shown the call.
        }
      }
    } finally {
      this.running = false;
    }
  }

  async _say(call) {
    const urls = this.langs.map(
      (lang) =>
        `/voice/call.mp3?number=${encodeURIComponent(call.number)}&counter=${encodeURIComponent(call.counter)}&lang=${lang}`,
    );
    const [chime, ...spoken] = await Promise.all([this._audio("/voice/chime.wav"), ...urls.map((u) => this._audio(u))]);
    const browser = this.mode === "webspeech" && "speechSynthesis" in window;
    if (!spoken[0] && !browser) return; // no voice for this call; quietly
    if (chime) await this._play(chime);
    for (let round = 0; round < REPEATS; round += 1) {
      for (const [index, lang] of this.langs.entries()) {
        if (spoken[index]) await this._play(spoken[index]);
        else if (browser) await this._speak(call, lang);
      }
      await sleep(600);
    }
  }

  async _audio(url) {
    if (this.buffers.has(url)) return this.buffers.get(url);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    try {
      const answer = await fetch(url, { signal: abort.signal });
      if (!answer.ok) return null; // 404 or 503: this server speaks no calls
      const buffer = await this.context.decodeAudioData(await answer.arrayBuffer());
      this.buffers.set(url, buffer);
      if (this.buffers.size > 12) this.buffers.delete(this.buffers.keys().next().value);
      return buffer;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  _play(buffer) {
    return new Promise((resolve) => {
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      source.connect(this.context.destination);
      const guard = setTimeout(resolve, (buffer.duration + 2) * 1000);
      source.onended = () => {
        clearTimeout(guard);
        resolve();
      };
      source.start();
    });
  }

  _speak(call, lang) {
    // Characters one by one, so "A023" is read "A 0 2 3" and not as a number.
    const number = call.number.split("").join(" ");
    const template = lang === "en" ? callEn : callZh;
    const utterance = new SpeechSynthesisUtterance(fill(template, { number, counter: call.counter }));
    utterance.lang = lang === "en" ? "en-US" : "zh-CN";
    return new Promise((resolve) => {
      const guard = setTimeout(resolve, 15000);
      utterance.onend = utterance.onerror = () => {
        clearTimeout(guard);
        resolve();
      };
      speechSynthesis.speak(utterance);
    });
  }
}

const voice = new Voice(options.voice, options.voiceEnglish === "1");
if (enableVoice && voice.context) {
  const showButton = () => {
    enableVoice.hidden = voice.unlocked;
  };
  voice.context.addEventListener("statechange", showButton);
  showButton();
  enableVoice.addEventListener("click", async () => {
    await voice.unlock();
    showButton();
  });
}

// -- clock, notice, link -------------------------------------------------------------------------

const clock = document.getElementById("clock");
const clockFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: options.timezone,
  month: "long",
  day: "numeric",
  weekday: "long",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
function tick() {
  clock.textContent = clockFormat.format(new Date());
}
tick();
setInterval(tick, 10000);

const track = document.getElementById("notice-track");
track.textContent = word("notice");
// The same reading speed for a short or a long notice (CSSOM, which the page's CSP allows).
track.style.animationDuration = `${Math.max(20, Math.round(track.textContent.length / 3))}s`;

const showLink = linkStatus(linkState);
function linkShown(online) {
  showLink(online);
  root.classList.toggle("is-offline", !online);
}

const rt = new Realtime();
rt.onstatus = linkShown;
// The client reports changes only; a server that is down from the start shows the sign too.
setTimeout(() => {
  if (!rt.online) linkShown(false);
}, CONNECT_GRACE_MS);

rt.subscribe(`hall/${hallId}/queue`, {
  snapshot(data) {
    renderLines(data.services || []);
    calls = [];
    const known = (data.calls || []).slice().reverse();
    for (const call of known) called(call, { flash: false, speak: false });
  },
  event(event, seq) {
    const data = event.data;
    if ((event.type === "ticket.called" || event.type === "ticket.recalled") && data.number && data.counter) {
      called({ seq, number: data.number, counter: data.counter, at: event.at });
    }
    if (event.type.startsWith("ticket.") && data.waiting) {
      for (const tile of lines.children) setWaiting(tile.dataset.code, data.waiting[tile.dataset.code] ?? 0);
    }
  },
});
