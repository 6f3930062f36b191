// The category axis labels of the statistics charts, in Node: node --test static/js/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { categoryLabels, servicesOnly, textWidth } from "../chartaxis.js";

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

test("the counters' idle and wrap-up time is no service", () => {
  const groups = [{ key: "soc" }, { key: "" }, { key: "fund" }];
  assert.deepEqual(servicesOnly(groups).map((g) => g.key), ["soc", "fund"]);
});
