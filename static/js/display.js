// The hall's queue display (big screen): the newest call large, "请 A023 号到 5 号窗口办理" with the
// English under it; the recent calls; people waiting per service; a rolling notice; and each call
// spoken in turn: a chime, then the call twice, never two calls at once. When the browser blocks
// sound or the voice fails, the screen says so (docs/displays.md).
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
const csrf = document.querySelector('meta[name="csrf-token"]').content;

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
const voiceState = document.getElementById("voice-state");

// An <audio> of `url`, loaded and ready to play; null when it would not load (a 503, a network
// error, a file the browser cannot decode) within FETCH_TIMEOUT_MS.
function loadAudio(url) {
  return new Promise((resolve) => {
    const audio = new Audio();
    const done = (value) => {
      clearTimeout(timer);
      audio.oncanplaythrough = audio.onerror = null;
      resolve(value);
    };
    const timer = setTimeout(() => done(null), FETCH_TIMEOUT_MS);
    audio.oncanplaythrough = () => done(audio);
    audio.onerror = () => done(null);
    audio.preload = "auto";
    audio.src = url;
  });
}

// Plays `audio` to its end. Rejects as play() does: NotAllowedError when the browser blocks sound
// on a page nobody has clicked (its autoplay policy).
async function play(audio) {
  audio.currentTime = 0;
  await audio.play();
  await new Promise((resolve, reject) => {
    const seconds = Number.isFinite(audio.duration) ? audio.duration + 2 : 15;
    const guard = setTimeout(resolve, seconds * 1000);
    audio.onended = () => {
      clearTimeout(guard);
      resolve();
    };
    audio.onerror = () => {
      clearTimeout(guard);
      reject(new Error("the sound stopped"));
    };
  });
}

// What the display's sound does, shown on screen and reported to the device console: "ok" calls
// are heard; "blocked" the browser refuses sound until someone clicks the page (a wall screen's
// browser is started with --autoplay-policy=no-user-gesture-required, docs/displays.md); "failed"
// the call's audio would not load or play; "off" with ?voice=off.
class Voice {
  constructor(mode, english, onstate) {
    this.mode = mode; // "server", "webspeech" (server first, then the browser's voice), or "off"
    this.langs = english ? ["zh_CN", "en"] : ["zh_CN"];
    this.queue = [];
    this.running = false;
    this.onstate = onstate;
    this.state = mode === "off" ? "off" : "unknown";
  }

  _set(state) {
    if (state === this.state) return;
    this.state = state;
    this.onstate(state);
  }

  _refused(error) {
    this._set(error?.name === "NotAllowedError" ? "blocked" : "failed");
  }

  // Whether the browser lets the page play sound now. The probe is the chime at volume 0: the
  // autoplay policy judges it as any sound (only a muted one is let through), and nobody hears it.
  async probe() {
    if (this.mode === "off") return this.state;
    const audio = await loadAudio("/voice/chime.wav");
    if (!audio) {
      this._set("failed");
      return this.state;
    }
    audio.volume = 0;
    try {
      await audio.play();
      audio.pause();
      this._set("ok");
    } catch (error) {
      this._refused(error);
    }
    return this.state;
  }

  announce(call) {
    // Blocked: nothing can be heard until a click; the call is on screen and the sign says why.
    if (this.mode === "off" || this.state === "blocked") return;
    if (call.at && Date.now() - Date.parse(call.at) > SPEAK_WITHIN_MS) return;
    this.queue.push(call);
    while (this.queue.length > VOICE_QUEUE_MAX) this.queue.shift();
    this._drain();
  }

  async _drain() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) await this._say(this.queue.shift());
    } finally {
      this.running = false;
    }
  }

  async _say(call) {
    const urls = this.langs.map(
      (lang) =>
        `/voice/call.mp3?number=${encodeURIComponent(call.number)}&counter=${encodeURIComponent(call.counter)}&lang=${lang}`,
    );
    const [chime, ...spoken] = await Promise.all([loadAudio("/voice/chime.wav"), ...urls.map(loadAudio)]);
    const browser = this.mode === "webspeech" && "speechSynthesis" in window;
    if (!spoken[0] && !browser) {
      this._set("failed"); // the screen has shown the call; the sign says it is not heard
      return;
    }
    try {
      if (chime) await play(chime);
      for (let round = 0; round < REPEATS; round += 1) {
        for (const [index, lang] of this.langs.entries()) {
          if (spoken[index]) await play(spoken[index]);
          else if (browser) await this._speak(call, lang);
        }
        await sleep(600);
      }
      this._set("ok");
    } catch (error) {
      this._refused(error);
      if (this.state === "blocked") this.queue.length = 0;
    }
  }

  _speak(call, lang) {
    // Characters one by one, so "A023" is read "A 0 2 3" and not as a number.
    const number = call.number.split("").join(" ");
    const template = lang === "en" ? callEn : callZh;
    const utterance = new SpeechSynthesisUtterance(fill(template, { number, counter: call.counter }));
    utterance.lang = lang === "en" ? "en-US" : "zh-CN";
    return new Promise((resolve, reject) => {
      const guard = setTimeout(resolve, 15000);
      utterance.onend = () => {
        clearTimeout(guard);
        resolve();
      };
      utterance.onerror = (event) => {
        clearTimeout(guard);
        // The browser's voice obeys the same autoplay rule as <audio>.
        if (event.error === "not-allowed") reject(new DOMException("speech not allowed", "NotAllowedError"));
        else resolve();
      };
      speechSynthesis.speak(utterance);
    });
  }
}

// The display's sound for the technicians' device console, when the address names this screen's
// device (?device=<id>): sent on each change, and again after the link comes back.
let reported = null;
async function reportVoice(state) {
  const url = options.reportUrl;
  if (!url || state === "unknown") return;
  try {
    const answer = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "X-Screen-Key": options.reportKey },
      body: JSON.stringify({ voice: state }),
    });
    reported = answer.ok ? state : null;
  } catch {
    reported = null; // said again when the link is back
  }
}

function showVoice(state) {
  const words = { blocked: pair("voice_blocked"), failed: pair("voice_failed") }[state];
  voiceState.hidden = !words;
  if (words) {
    voiceState.querySelector(".main").textContent = words[0];
    voiceState.querySelector(".en").textContent = words[1];
  }
  root.dataset.voiceState = state;
  root.classList.toggle("voice-warning", Boolean(words));
  if (enableVoice) enableVoice.hidden = state !== "blocked";
  reportVoice(state);
}

const voice = new Voice(options.voice, options.voiceEnglish === "1", showVoice);
if (voice.mode === "off") reportVoice("off");
else voice.probe();
// A click is the user gesture the browser waits for: on the button, or anywhere on the screen.
if (enableVoice) root.addEventListener("click", () => voice.state === "blocked" && voice.probe());

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
  if (online && reported !== voice.state) reportVoice(voice.state);
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
