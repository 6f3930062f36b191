// The category axis labels of the statistics charts, in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { categoryLabels, servicesOnly, textWidth, twoLines } from "../chartaxis.js";

test("Chinese characters are wider than Latin ones", () => {
  assert.equal(textWidth("社会保障", 12), 48);
  assert.ok(Math.abs(textWidth("Social", 12) - 43.2) < 0.01);
});

test("labels that fit their slot are all shown, straight", () => {
  const { axisLabel } = categoryLabels(["0–5 min", "5–10 min"], 600);
  assert.equal(axisLabel.interval, 0);
  assert.equal(axisLabel.rotate, undefined);
  assert.equal(axisLabel.overflow, undefined);
});

test("a label is broken at its middle space, never inside a number", () => {
  assert.equal(twoLines("10–20 分钟"), "10–20\n分钟");
  assert.equal(twoLines("60 min or more"), "60 min\nor more");
  assert.equal(twoLines("社会保障"), "社会保障");
});

test("six Chinese wait buckets on a phone go on two lines, each line within its slot", () => {
  const labels = ["0–5 分钟", "5–10 分钟", "10–20 分钟", "20–30 分钟", "30–60 分钟", "60 分钟以上"];
  const { axisLabel } = categoryLabels(labels, 320);
  assert.equal(axisLabel.formatter, twoLines);
  for (const label of labels) {
    for (const line of twoLines(label).split("\n")) assert.ok(textWidth(line) <= axisLabel.width, line);
  }
});

test("six wait buckets on a phone wrap or turn instead of overlapping", () => {
  const labels = ["0–5 min", "5–10 min", "10–20 min", "20–30 min", "30–60 min", "60 min or more"];
  const { axisLabel } = categoryLabels(labels, 330);
  assert.equal(axisLabel.interval, 0);
  assert.ok(axisLabel.overflow === "break" || axisLabel.rotate > 0);
  if (axisLabel.overflow === "break") assert.ok(axisLabel.width * 6 <= 330);
});

test("ten long group names turn and are cut short, with room below the axis", () => {
  const labels = Array.from({ length: 10 }, (_, i) => `Household registration ${i}`);
  const { axisLabel, bottom } = categoryLabels(labels, 900);
  assert.equal(axisLabel.rotate, 40);
  assert.equal(axisLabel.overflow, "truncate");
  assert.ok(axisLabel.width <= 12 * 9);
  assert.ok(bottom > 60);
  // Chinese ones too, however few there are.
  assert.equal(categoryLabels(["不动产登记中心", "市场监督管理局", "人力资源和社会保障局"], 200).axisLabel.interval, 0);
});

test("the narrower the slot, the steeper the labels turn, so their lines keep apart", () => {
  const labels = Array.from({ length: 10 }, (_, i) => `CL-00${i} 残疾人证办理`);
  const { axisLabel } = categoryLabels(labels, 250);
  assert.ok(axisLabel.rotate >= 60);
  const slot = 25;
  assert.ok(slot * Math.sin((axisLabel.rotate * Math.PI) / 180) >= 12 * 1.5);
});

test("the counters' idle and wrap-up time is no service", () => {
  const groups = [{ key: "soc" }, { key: "" }, { key: "fund" }];
  assert.deepEqual(servicesOnly(groups).map((g) => g.key), ["soc", "fund"]);
});
