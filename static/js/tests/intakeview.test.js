// The intake form's pure pieces (intakeview.js), in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  attachments,
  blockers,
  byteSize,
  dueText,
  itemFacts,
  localTime,
  mirror,
  missingMaterials,
  phoneValid,
  refusedField,
  scanAcceptable,
  searchItems,
} from "../intakeview.js";
import { wordBook } from "../page.js";

const { word } = wordBook({
  need_name: "姓名",
  need_id: "有效的身份证号码",
  need_phone: "有效的电话号码",
  need_item: "办理事项",
  need_materials: "全部必交材料",
  on_the_spot: "即办",
  days: "{n} 个工作日",
  days_one: "1 个工作日",
  provisional: "暂定",
});

const item = {
  code: "MZ-006",
  name: "婚姻登记",
  name_en: "Marriage registration",
  department: "民政局",
  kind_label: "行政确认",
  time_limit_days: 20,
  materials: [
    { name: "户口簿", required: true },
    { name: "身份证", required: true },
    { name: "照片", required: false },
  ],
};

function form(over = {}) {
  return {
    name: "张三",
    idNumber: "110101199003074578",
    phone: "13800138000",
    note: "",
    checked: { number: "110101199003074578", valid: true, masked: "110***********4578" },
    phoneMasked: { phone: "13800138000", masked: "138****8000" },
    ticket: "20261204-A001",
    item,
    ticked: () => true,
    scans: () => [],
    accepted: null,
    ...over,
  };
}

test("a phone is a mobile number or a landline with its area code", () => {
  for (const good of ["13800138000", "010-12345678", "07551234567", "138-0013-8000"]) {
    assert.equal(phoneValid(good), true, good);
  }
  for (const bad of ["1380013800", "23800138000", "12345678", ""]) assert.equal(phoneValid(bad), false, bad);
});

test("the search finds an item by code, Chinese or English name, ignoring spaces and case", () => {
  const catalog = [item, { code: "GA-001", name: "户口迁移", name_en: "Household move" }];
  assert.deepEqual(searchItems(catalog, "mz-006").map((i) => i.code), ["MZ-006"]);
  assert.deepEqual(searchItems(catalog, "户口").map((i) => i.code), ["GA-001"]);
  assert.deepEqual(searchItems(catalog, "household MOVE").map((i) => i.code), ["GA-001"]);
  assert.equal(searchItems(catalog, "  ").length, 2);
});

test("an item's facts end with its time limit, on the spot for none", () => {
  assert.equal(itemFacts(item, word), "民政局 · 行政确认 · 20 个工作日");
  assert.equal(itemFacts({ ...item, time_limit_days: 1 }, word), "民政局 · 行政确认 · 1 个工作日");
  assert.equal(itemFacts({ ...item, time_limit_days: 0 }, word), "民政局 · 行政确认 · 即办");
});

test("a scan is a PDF, JPEG or PNG of at most 10 MB; its size reads in B, KB or MB", () => {
  assert.equal(scanAcceptable({ type: "application/pdf", size: 10 * 1024 * 1024 }), true);
  assert.equal(scanAcceptable({ type: "application/pdf", size: 10 * 1024 * 1024 + 1 }), false);
  assert.equal(scanAcceptable({ type: "image/gif", size: 10 }), false);
  assert.equal(byteSize(512), "512 B");
  assert.equal(byteSize(1536), "1.5 KB");
  assert.equal(byteSize(3 * 1024 * 1024), "3.0 MB");
});

test("nothing stands in the way of a complete form", () => {
  assert.deepEqual(blockers(form(), word), []);
});

test("what is missing is said all at once, in the page's words", () => {
  const empty = form({ name: "", idNumber: "", phone: "1380", item: null, checked: { number: "", valid: false } });
  assert.deepEqual(blockers(empty, word), ["姓名", "有效的身份证号码", "有效的电话号码", "办理事项"]);
  // An ID number the server has not checked yet, as typed now, is not valid yet.
  assert.deepEqual(blockers(form({ idNumber: "11010119900307457X" }), word), ["有效的身份证号码"]);
  // A phone is optional; a required paper not ticked blocks, an optional one does not.
  const ticked = (name) => name !== "身份证" && name !== "照片";
  assert.deepEqual(blockers(form({ phone: "", ticked }), word), ["全部必交材料"]);
  assert.deepEqual(missingMaterials(item, ticked), ["身份证"]);
  assert.deepEqual(missingMaterials(null, ticked), []);
});

test("the citizen screen gets the ID number masked, and only once it is checked as typed", () => {
  const scans = (name) => (name === "户口簿" ? [{ sha256: "ab" }] : []);
  const shown = mirror(form({ scans, ticked: (name) => name === "户口簿" }));
  assert.equal(shown.id_masked, "110***********4578");
  assert.equal(shown.id_valid, true);
  assert.equal(shown.id_typed, 18);
  assert.equal(shown.phone_valid, true);
  assert.deepEqual(shown.item, { code: "MZ-006", name: "婚姻登记", name_en: "Marriage registration" });
  assert.deepEqual(shown.materials[0], { name: "户口簿", required: true, ticked: true, scans: 1 });
  assert.deepEqual(shown.materials[1], { name: "身份证", required: true, ticked: false, scans: 0 });
  assert.equal(JSON.stringify(shown).includes("110101199003074578"), false);
  assert.equal(shown.ticket, "20261204-A001");
  const typing = mirror(form({ idNumber: "1101011990" }));
  assert.equal(typing.id_masked, "");
  assert.equal(typing.id_valid, false);
  const none = mirror(form({ idNumber: "", phone: "", item: null }));
  assert.equal(none.id_valid, null);
  assert.equal(none.phone_valid, null);
  assert.deepEqual(none.materials, []);
});

test("a refusal is shown at the field the API names", () => {
  assert.equal(refusedField({ error: "invalid", field: "applicant.id_number" }), "id");
  assert.equal(refusedField({ error: "invalid", field: "remark" }), "note");
  assert.equal(refusedField({ error: "not_accepted_here" }), "item");
  assert.equal(refusedField({ error: "missing_materials" }), undefined);
});

test("the attachments are each scan with the material it is of", () => {
  const scan = { sha256: "ab", size: 3, filename: "a.pdf", content_type: "application/pdf", receipt: "r" };
  const scans = new Map([["户口簿", [scan]]]);
  assert.deepEqual(attachments(scans), [
    { sha256: "ab", filename: "a.pdf", content_type: "application/pdf", receipt: "r", material: "户口簿" },
  ]);
});

test("the due time reads in the hall's time zone; a provisional one says so; none is on the spot", () => {
  assert.equal(localTime("2026-12-21T09:30:00Z", "Asia/Shanghai"), "2026-12-21 17:30");
  assert.equal(localTime("", "Asia/Shanghai"), "");
  assert.equal(dueText({ due: "2026-12-21 17:30", provisional: true }, word), "2026-12-21 17:30 (暂定)");
  assert.equal(dueText({ due: "2026-12-21 17:30", provisional: false }, word), "2026-12-21 17:30");
  assert.equal(dueText({ due: "" }, word), "即办");
});

test("the citizen screen gets the phone as the server masked it, and only for the phone typed now", () => {
  const shown = mirror(form());
  assert.equal(shown.phone, "138****8000");
  assert.equal(shown.phone_typed, 11);
  assert.equal(JSON.stringify(shown).includes("13800138000"), false);
  // Typed on since the server's answer: nothing until the next one.
  const typing = mirror(form({ phone: "13800138001" }));
  assert.equal(typing.phone, "");
  assert.equal(typing.phone_typed, 11);
  assert.equal(JSON.stringify(typing).includes("13800138001"), false);
});
