// What every page script shares: its translated words, placeholders, error headlines, table cells,
// a text in two languages, and the sign of the realtime link.
//
//   import { cell, fill, linkStatus, pageWords, setBoth } from "/static/js/page.js";
//   const root = document.getElementById("cases");
//   const { word, pair, error } = pageWords(root);  // root carries data-words='{"key": …}'
//   word("updated");                     // the page's language; the key itself when missing
//   pair("about", { n: 3 });             // ["约 3 分钟", "About 3 min"] on the bilingual pages
//   error("not_found");                  // the word for err_not_found, or for err
//   fill("{n} min", { n: 3 });           // "3 min"; an unknown {name} stays as it is
//   joinList(["姓名", "身份证号码"], word("list_join"));  // "姓名、身份证号码" (zh: "{list}、{next}")
//   row.append(cell("A023", "number"), cell(link));
//   rt.onstatus = linkStatus(linkState, { live: word("link_live"), offline: word("link_lost") });
//
// One convention for words: the template hands a page's script all of its words in one JSON
// object, data-words on the page's root element, built with |tojson (which escapes what an
// attribute must not contain). Keys are snake_case, so they read the same in the template, in
// Python and here; data-* attributes one per word turned "err-not_found" into
// dataset.errNot_found. A value is a text in the page's language, or on the public bilingual
// pages a pair [the page's language, English or ""].
//
// One convention for error keys: the API's error code with err_ before it (err_not_found), and err
// alone for the headline of an error without a known word.
//
// Punctuation is a word too: "Name: …" is "姓名：…" and a list is "a、b" in Chinese, so the colon
// and the comma come from the catalog inside a pattern ("{headline}: {detail}", "{list}, {next}"),
// never from an `english ? … : …` in a script.
//
// One convention for times: a time is shown on the hall's clock, never the browser's (a laptop set
// to another zone, a screen left on UTC). The server writes the hall's zone (HALL_TIMEZONE) in
// <meta name="hall-timezone">; clockTime and clockDateTime format in it, and hallZone() reads it.
//
//   clockTime(event.at)           // "14:05" on the hall's clock
//   clockDateTime(order.due, lang) // "2026/12/21 17:30" in the page's language
//
// The pure pieces (fill, joinList, wordBook, errorKey, timeIn, dateTimeIn) touch no document, so
// node:test runs them (static/js/tests/).

export function fill(text, values = {}) {
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A list in the words' own punctuation: pattern is "{list}, {next}" in the page's language.
export function joinList(items, pattern) {
  if (items.length === 0) return "";
  return items.map(String).reduce((list, next) => fill(pattern, { list, next }));
}

// "14:05" (or "14:05:09" with seconds) for an instant, on the clock of timeZone.
export function timeIn(value, timeZone, { seconds = false } = {}) {
  if (value === null || value === undefined || value === "") return "";
  const second = seconds ? { second: "2-digit" } : {};
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23", ...second }).format(
    new Date(value),
  );
}

// A date and time in the page's language, on the clock of timeZone.
export function dateTimeIn(value, timeZone, lang = "zh-CN", options = {}) {
  if (value === null || value === undefined || value === "") return "";
  return new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short", hourCycle: "h23", ...options, timeZone }).format(
    new Date(value),
  );
}

// The hall's zone the server wrote on the page (undefined, the browser's own, only on a page
// outside the layout).
export function hallZone(doc = globalThis.document) {
  return doc?.querySelector('meta[name="hall-timezone"]')?.content || undefined;
}

export function clockTime(value, options) {
  return timeIn(value, hallZone(), options);
}

export function clockDateTime(value, lang, options) {
  return dateTimeIn(value, hallZone(), lang, options);
}

export function errorKey(code) {
  return code ? `err_${code}` : "err";
}

// The words of one page: word() for a single text, pair() for the two languages, error() for the
// headline of an API error. A missing word falls back to its key, which is the English id.
export function wordBook(table = {}) {
  const has = (key) => Object.prototype.hasOwnProperty.call(table, key);

  function word(key, fallback) {
    if (!has(key)) return fallback ?? key;
    const value = table[key];
    return Array.isArray(value) ? value[0] : value;
  }

  // [main, second] filled in; the second text is left empty when there is none.
  function pair(key, values = {}, secondValues = values) {
    const value = has(key) ? table[key] : [key, ""];
    const [main, second] = Array.isArray(value) ? value : [value, ""];
    return [fill(main, values), second ? fill(second, secondValues) : ""];
  }

  function error(code) {
    return word(errorKey(code), word("err"));
  }

  return { word, pair, error, has };
}

export function pageWords(element) {
  return wordBook(element?.dataset.words ? JSON.parse(element.dataset.words) : {});
}

// A table cell (or a header cell: tag "th") holding a text or a node.
export function cell(content, className, tag = "td") {
  const element = document.createElement(tag);
  if (content instanceof Node) element.append(content);
  else element.textContent = content;
  if (className) element.className = className;
  return element;
}

// The main text in a span.main and, when there is one, the second language in a span.en after it:
// `apart` is what stands between them ("" nothing, " " a space, "br" a line break).
export function setBoth(element, [main, second], { apart = "", secondLang = "en" } = {}) {
  const first = document.createElement("span");
  first.className = "main";
  first.textContent = main;
  element.replaceChildren(first);
  if (second) {
    if (apart === "br") element.append(document.createElement("br"));
    else if (apart) element.append(apart);
    const other = document.createElement("span");
    other.className = "en";
    other.lang = secondLang;
    other.textContent = second;
    element.append(other);
  }
  return main;
}

// The handler for Realtime's onstatus. With texts {live, offline} (a text or a pair each) the
// element says the state and carries the class "offline" while the link is down; without texts it
// is a sign the template wrote, shown only while the link is down (the kiosk, the display).
export function linkStatus(element, texts) {
  return (online) => {
    if (!texts) {
      element.hidden = online;
      return;
    }
    const text = online ? texts.live : texts.offline;
    if (Array.isArray(text)) setBoth(element, text);
    else element.textContent = text;
    element.classList.toggle("offline", !online);
  };
}

// A query form's fields as query parameters; empty choices ("all") and the export format are left
// out (the ledgers' and the statistics' forms).
export function formParams(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value !== "" && name !== "format") params.append(name, value);
  }
  return params;
}

// GET a JSON answer; an error answer throws with the server's message (said in the page's language).
export async function askJson(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  let data;
  try {
    data = await answer.json();
  } catch {
    data = {};
  }
  if (!answer.ok) throw new Error(data.message || String(answer.status));
  return data;
}
