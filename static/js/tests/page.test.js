// The pure pieces of page.js, in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { errorKey, fill, joinList, wordBook } from "../page.js";

test("fill replaces every placeholder it has a value for", () => {
  assert.equal(fill("请 {number} 号到 {counter} 号窗口办理", { number: "A023", counter: 5 }), "请 A023 号到 5 号窗口办理");
  assert.equal(fill("{n} + {n}", { n: 2 }), "2 + 2");
});

test("fill leaves an unknown placeholder as it is, and takes zero and empty values", () => {
  assert.equal(fill("{n} of {total}", { n: 0 }), "0 of {total}");
  assert.equal(fill("[{name}]", { name: "" }), "[]");
  assert.equal(fill("no placeholders"), "no placeholders");
});

test("fill does not read $ patterns in a value as a replacement pattern", () => {
  assert.equal(fill("cost: {x}", { x: "$&$1" }), "cost: $&$1");
});

test("joinList joins with the pattern's own punctuation, and leaves a single item alone", () => {
  assert.equal(joinList(["姓名", "身份证号码", "办理事项"], "{list}、{next}"), "姓名、身份证号码、办理事项");
  assert.equal(joinList(["the name", "a service item"], "{list}, {next}"), "the name, a service item");
  assert.equal(joinList(["只有一项"], "{list}、{next}"), "只有一项");
  assert.equal(joinList(["{next}", "b"], "{list}、{next}"), "{next}、b");
  assert.equal(joinList([], "{list}、{next}"), "");
});

test("word gives the page's text, else the fallback, else the key (the English id)", () => {
  const { word } = wordBook({ updated: "更新于 {time}", err: "未完成" });
  assert.equal(word("updated"), "更新于 {time}");
  assert.equal(word("paused", "Paused"), "Paused");
  assert.equal(word("paused"), "paused");
});

test("word does not take a key from the object prototype", () => {
  const { word } = wordBook({});
  assert.equal(word("constructor"), "constructor");
  assert.equal(word("toString", "x"), "x");
});

test("word gives the first text of a pair", () => {
  const { word } = wordBook({ live: ["实时", "Live"] });
  assert.equal(word("live"), "实时");
});

test("pair fills both languages, with values of their own for the second", () => {
  const { pair } = wordBook({ about: ["约 {n} 分钟", "About {n} min"], rated: ["已评价：{level}", "Rated: {level}"] });
  assert.deepEqual(pair("about", { n: 3 }), ["约 3 分钟", "About 3 min"]);
  assert.deepEqual(pair("rated", { level: "满意" }, { level: "Satisfied" }), ["已评价：满意", "Rated: Satisfied"]);
});

test("pair leaves the second text empty when there is none, and falls back to the key", () => {
  const { pair } = wordBook({ waiting: ["等候 {n} 人", ""], plain: "只有一种" });
  assert.deepEqual(pair("waiting", { n: 2 }), ["等候 2 人", ""]);
  assert.deepEqual(pair("plain"), ["只有一种", ""]);
  assert.deepEqual(pair("missing"), ["missing", ""]);
});

test("the error key of a code is err_ and the code; without a code it is err", () => {
  assert.equal(errorKey("not_found"), "err_not_found");
  assert.equal(errorKey("nothing_waiting"), "err_nothing_waiting");
  assert.equal(errorKey(undefined), "err");
  assert.equal(errorKey(""), "err");
});

test("error gives the word of the code, else the word for err", () => {
  const { error } = wordBook({ err: "未完成", err_not_found: "未找到", err_network: "服务器无应答" });
  assert.equal(error("not_found"), "未找到");
  assert.equal(error("network"), "服务器无应答");
  assert.equal(error("bad_transition"), "未完成");
  assert.equal(error(undefined), "未完成");
});

test("error without any err word falls back to the key err", () => {
  assert.equal(wordBook({}).error("csrf"), "err");
});
