// The counter console's pure pieces (counterview.js), in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  allowedActions,
  counterChoices,
  keyAction,
  minutesSince,
  personName,
  serviceChoices,
  serviceName,
  statusText,
} from "../counterview.js";
import { wordBook } from "../page.js";

const services = [
  { code: "soc", name: "社会保障", name_en: "Social security" },
  { code: "tax", name: "税务", name_en: "" },
];

test("a service is named in the page's language, in Chinese when it has no English, by code when unknown", () => {
  assert.equal(serviceName(services, "soc", false), "社会保障");
  assert.equal(serviceName(services, "soc", true), "Social security");
  assert.equal(serviceName(services, "tax", true), "税务");
  assert.equal(serviceName(services, "civil", true), "civil");
  assert.equal(serviceName(undefined, "soc", false), "soc");
  assert.deepEqual(serviceChoices(services, true), [
    ["soc", "Social security"],
    ["tax", "税务"],
  ]);
});

test("the transfer list leaves out this counter and says each other's state", () => {
  const { word } = wordBook({ open: "开放", closed: "关闭" });
  const counters = [
    { number: 1, name: "1号窗口", status: "open" },
    { number: 2, name: "", status: "closed" },
  ];
  assert.deepEqual(counterChoices(counters, 1, word), [["2", "2 · 关闭"]]);
});

test("minutes since a time are whole and never negative", () => {
  const now = Date.parse("2026-11-23T09:10:30Z");
  assert.equal(minutesSince("2026-11-23T09:00:00Z", now), 10);
  assert.equal(minutesSince("2026-11-23T09:11:00Z", now), 0);
});

test("a person is named with the staff number, the clerk's own name says so, an unknown one by id", () => {
  const staff = { 3: { name: "王芳", staff_no: "XH-003" }, 4: { name: "李强" } };
  assert.equal(personName(staff, 3, 4, "本人"), "王芳 · XH-003");
  assert.equal(personName(staff, 4, 4, "本人"), "李强 (本人)");
  assert.equal(personName(staff, 9, 4, "本人"), "#9");
  assert.equal(personName(staff, null, 4, "本人"), "");
});

test("a paused counter's state carries its reason", () => {
  const { word } = wordBook({ paused: "暂停", open: "开放" });
  assert.equal(statusText({ status: "paused", pause_reason: "午休" }, word), "暂停 · 午休");
  assert.equal(statusText({ status: "paused" }, word), "暂停");
  assert.equal(statusText({ status: "open", pause_reason: "午休" }, word), "开放");
});

test("a closed counter may only be opened", () => {
  const can = allowedActions({ counter: { status: "closed", clerk: null } }, { me: 3, supervisor: false });
  assert.deepEqual(Object.keys(can).filter((key) => can[key]), ["open"]);
  assert.equal(allowedActions(null, { me: 3, supervisor: false }).open, true);
});

test("the clerk's open counter calls the next when free, and serves the ticket it called", () => {
  const free = allowedActions({ counter: { status: "open", clerk: 3 } }, { me: 3, supervisor: false });
  assert.equal(free["call-next"], true);
  assert.equal(free.recall, false);
  const called = allowedActions(
    { counter: { status: "open", clerk: 3 }, current: { state: "called" } },
    { me: 3, supervisor: false },
  );
  assert.equal(called["call-next"], false);
  for (const key of ["recall", "start", "no-show", "transfer-dialog", "hold-dialog"]) assert.equal(called[key], true, key);
  assert.equal(called.finish, false);
  assert.equal(called["transfer-back"], false);
  const serving = allowedActions(
    { counter: { status: "open", clerk: 3 }, current: { state: "serving", previous_service: "soc" } },
    { me: 3, supervisor: false },
  );
  assert.equal(serving.finish, true);
  assert.equal(serving["transfer-back"], true);
  assert.equal(serving.start, false);
});

test("a supervisor steers another clerk's counter but does not serve at it", () => {
  const view = { counter: { status: "open", clerk: 3 }, current: { state: "called" } };
  const can = allowedActions(view, { me: 7, supervisor: true });
  assert.equal(can["pause-dialog"], true);
  assert.equal(can.close, true);
  assert.equal(can.recall, false);
  assert.equal(can["call-next"], false);
  assert.equal(allowedActions(view, { me: 7, supervisor: false }).close, false);
});

test("the shortcuts name their action; P pauses an open counter and resumes a paused one", () => {
  assert.equal(keyAction("F1", "open"), "call-next");
  assert.equal(keyAction("N", "open"), "call-next");
  assert.equal(keyAction("h", "open"), "hold-dialog");
  assert.equal(keyAction("p", "open"), "pause-dialog");
  assert.equal(keyAction("P", "paused"), "resume");
  assert.equal(keyAction("q", "open"), null);
});
