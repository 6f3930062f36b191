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
// The pure pieces (fill, joinList, wordBook, errorKey) touch no document, so node:test runs them
// (static/js/tests/).

export function fill(text, values = {}) {
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A list in the words' own punctuation: pattern is "{list}, {next}" in the page's language.
export function joinList(items, pattern) {
  if (items.length === 0) return "";
  return items.map(String).reduce((list, next) => fill(pattern, { list, next }));
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
