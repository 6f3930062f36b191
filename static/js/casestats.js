// The 办件 part of the statistics page: its form asks the cases' JSON API it names and draws the
// answer as tiles, two charts each beside its own table (so every figure can be read without the
// chart), and the full table by group. CSV and XLSX are left to the browser, which downloads the
// file the same API writes. ECharts (vendored) is loaded before this module as a classic script.
import { categoryLabels } from "./chartaxis.js";
import { askJson as ask, cell, fill, formParams, pageWords } from "./page.js";

const root = document.getElementById("case-stats");
const { word } = pageWords(root);
const message = document.getElementById("case-message");
const form = document.getElementById("case-stats-form");
const echarts = globalThis.echarts;
const charts = new Map();
const TILES = ["accepted", "completed", "late", "on_time_rate", "speed_up", "work_days_mean", "refused", "rated",
  "satisfaction"];

const percent = (share) => (share === null ? null : Math.round(share * 1000) / 10);

function shown(column, value) {
  if (value === null || value === undefined) return "—";
  if (column.share) return `${(value * 100).toFixed(1)}%`;
  return String(value);
}

function row(label, values, tag = "td") {
  const tr = document.createElement("tr");
  const th = cell(label, "", "th");
  th.scope = "row";
  tr.append(th, ...values.map((v) => cell(v, "num", tag)));
  return tr;
}

function table(element, heads, rows, total) {
  const head = document.createElement("tr");
  heads.forEach((text, index) => {
    const th = cell(text, index ? "num" : "", "th");
    th.scope = "col";
    head.append(th);
  });
  element.tHead.replaceChildren(head);
  const body = element.tBodies[0];
  body.replaceChildren(...rows.map(([label, ...values]) => row(label, values)));
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = cell(word("none"));
    td.colSpan = heads.length;
    tr.append(td);
    body.append(tr);
  }
  if (total && element.tFoot) {
    const [label, ...values] = total;
    element.tFoot.replaceChildren(row(label, values));
  }
}

function chart(id, option) {
  let drawn = charts.get(id);
  if (!drawn) {
    drawn = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    charts.set(id, drawn);
  }
  drawn.setOption({ animation: false, tooltip: { trigger: "axis", renderMode: "richText" }, ...option }, true);
}

function draw(data) {
  const columns = new Map(data.columns.map((c) => [c.key, c]));
  const tiles = document.getElementById("case-tiles");
  tiles.replaceChildren(
    ...TILES.map((key) => {
      const box = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = columns.get(key).label;
      const dd = document.createElement("dd");
      dd.textContent = shown(columns.get(key), data.total[key]);
      box.append(dt, dd);
      return box;
    }),
  );

  const periods = data.periods;
  chart("case-periods-chart", {
    legend: { top: 0, data: [word("accepted"), word("completed")] },
    grid: { left: 40, right: 10, top: 36, bottom: 30 },
    xAxis: { type: "category", data: periods.map((p) => p.label) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: word("accepted"), type: "bar", data: periods.map((p) => p.accepted) },
      { name: word("completed"), type: "bar", data: periods.map((p) => p.completed) },
    ],
  });
  table(document.getElementById("case-periods-table"), [data.heads.period, word("accepted"), word("completed")],
    periods.map((p) => [p.label, String(p.accepted), String(p.completed)]));

  const groups = data.groups;
  const labels = groups.map((g) => g.label);
  const axis = categoryLabels(labels, (document.getElementById("case-rates-chart")?.clientWidth || 600) - 54);
  chart("case-rates-chart", {
    legend: { top: 0, data: [word("on_time_rate"), word("speed_up")] },
    grid: { left: 44, right: 10, top: 36, bottom: axis.bottom },
    xAxis: { type: "category", data: labels, axisLabel: axis.axisLabel },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: word("on_time_rate"), type: "bar", data: groups.map((g) => percent(g.on_time_rate)) },
      { name: word("speed_up"), type: "bar", data: groups.map((g) => percent(g.speed_up)) },
    ],
  });
  table(document.getElementById("case-rates-table"),
    [data.heads.group, word("completed"), word("on_time_rate"), word("speed_up")],
    groups.map((g) => [g.label, String(g.completed), shown(columns.get("on_time_rate"), g.on_time_rate),
      shown(columns.get("speed_up"), g.speed_up)]));

  const line = (l) => [l.label, ...data.columns.map((c) => shown(c, l[c.key]))];
  table(document.getElementById("case-groups-table"), [data.heads.group, ...data.columns.map((c) => c.label)],
    groups.map(line), [word("total"), ...data.columns.map((c) => shown(c, data.total[c.key]))]);
}

async function load() {
  message.hidden = true;
  try {
    draw(await ask(`${form.action}?${formParams(form)}`));
  } catch (error) {
    message.textContent = `⚠ ${fill(word("with_detail"), { headline: word("failed"), detail: error.message })}`;
    message.hidden = false;
  }
}

form.addEventListener("submit", (event) => {
  if (event.submitter?.value === "csv" || event.submitter?.value === "xlsx") return;
  event.preventDefault();
  load();
});
for (const name of ["by", "group"]) form.elements[name].addEventListener("change", load);
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
load();
