// The supervisor's queue statistics: the form asks the JSON API it names and draws the answer as
// tiles, three charts each beside its own table (so every figure can be read without the chart),
// and the full tables by group and by period. The CSV and XLSX buttons are left to the browser,
// which downloads the file the same API writes. ECharts (vendored, loaded before this module as a
// classic script) draws on canvas with its tooltips as rich text: the page's CSP allows no inline
// style, which HTML tooltips would need.
import { askJson as ask, cell, fill, formParams, pageWords } from "./page.js";

const root = document.getElementById("stats");
const { word } = pageWords(root);
const words = JSON.parse(root.dataset.words);
const message = document.getElementById("message");
const form = document.getElementById("stats-form");
const echarts = globalThis.echarts;
const charts = new Map();

const BUCKETS = ["wait_0_5", "wait_5_10", "wait_10_20", "wait_20_30", "wait_30_60", "wait_60"];
// The columns of the full tables, in the order of the API's "columns" labels.
const KEYS = [
  "arrived", "called", "served", "no_shows", "no_show_rate", "transferred", "wait_mean_minutes",
  "wait_max_minutes", "service_level", ...BUCKETS.map((b) => `bucket:${b}`), "service_mean_minutes",
  "service_max_minutes", "rating:5", "rating:4", "rating:3", "rating:2", "rating:1", "satisfaction",
];
const SHARES = new Set(["no_show_rate", "service_level", "satisfaction"]);



function valueOf(line, key) {
  if (key.startsWith("bucket:")) return line.wait_buckets[key.slice(7)];
  if (key.startsWith("rating:")) return line.ratings[key.slice(7)];
  return line[key];
}

// A share of 1 as a percentage with one decimal, for a chart; null stays a gap.
const percent = (share) => (share === null ? null : Math.round(share * 1000) / 10);

function shown(key, value) {
  if (value === null || value === undefined) return "—";
  if (SHARES.has(key)) return `${(value * 100).toFixed(1)}%`;
  return String(value);
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
  body.replaceChildren(
    ...rows.map(([label, ...values]) => {
      const row = document.createElement("tr");
      const th = cell(label, "", "th");
      th.scope = "row";
      row.append(th, ...values.map((v) => cell(v, "num")));
      return row;
    }),
  );
  if (rows.length === 0) {
    const row = document.createElement("tr");
    const td = cell(word("none"));
    td.colSpan = heads.length;
    row.append(td);
    body.append(row);
  }
  if (total && element.tFoot) {
    const row = document.createElement("tr");
    const [label, ...values] = total;
    const th = cell(label, "", "th");
    th.scope = "row";
    row.append(th, ...values.map((v) => cell(v, "num")));
    element.tFoot.replaceChildren(row);
  }
}

function chart(id, option) {
  const element = document.getElementById(id);
  let drawn = charts.get(id);
  if (!drawn) {
    drawn = echarts.init(element, null, { renderer: "canvas" });
    charts.set(id, drawn);
  }
  drawn.setOption({ animation: false, tooltip: { trigger: "axis", renderMode: "richText" }, ...option }, true);
}

function draw(data, services) {
  const tiles = document.getElementById("tiles");
  const total = data.total;
  const tile = (label, key) => {
    const box = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = shown(key, total[key]);
    box.append(dt, dd);
    return box;
  };
  tiles.replaceChildren(...KEYS.filter((k) => !k.includes(":")).map((k) => tile(data.columns[KEYS.indexOf(k)], k)));

  const hours = data.hours;
  chart("hours-chart", {
    legend: { top: 0, data: [word("arrived"), word("served")] },
    grid: { left: 40, right: 10, top: 36, bottom: 30 },
    xAxis: { type: "category", data: hours.map((h) => h.label) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: word("arrived"), type: "bar", data: hours.map((h) => h.arrived) },
      { name: word("served"), type: "bar", data: hours.map((h) => h.served) },
    ],
  });
  table(document.getElementById("hours-table"), [word("hour"), word("arrived"), word("served")],
    hours.map((h) => [h.label, String(h.arrived), String(h.served)]));

  const counts = BUCKETS.map((b) => total.wait_buckets[b]);
  const waits = counts.reduce((a, b) => a + b, 0);
  chart("buckets-chart", {
    grid: { left: 40, right: 10, top: 20, bottom: 30 },
    xAxis: { type: "category", data: words.buckets, axisLabel: { interval: 0, fontSize: 10 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: word("waits"), type: "bar", data: counts }],
  });
  table(document.getElementById("buckets-table"), [word("bucket"), word("count"), word("share")],
    words.buckets.map((label, i) => [label, String(counts[i]), waits ? `${((counts[i] / waits) * 100).toFixed(1)}%` : "—"]));

  drawLevel(services);

  const heads = (first) => [first, ...data.columns];
  const line = (l) => [l.label, ...KEYS.map((k) => shown(k, valueOf(l, k)))];
  const totalRow = [word("total"), ...KEYS.map((k) => shown(k, valueOf(total, k)))];
  table(document.getElementById("groups-table"), heads(data.heads.group), data.groups.map(line), totalRow);
  table(document.getElementById("periods-table"), heads(data.heads.period), data.periods.map(line), totalRow);
}

async function load() {
  message.hidden = true;
  const params = formParams(form);
  try {
    const data = await ask(`${form.action}?${params}`);
    // The service level chart shows the services whatever the tables are grouped by.
    let services = data.groups;
    if (data.group !== "service") {
      params.set("group", "service");
      services = (await ask(`${form.action}?${params}`)).groups;
    }
    draw(data, services);
  } catch (error) {
    message.textContent = `⚠ ${fill(word("with_detail"), { headline: word("failed"), detail: error.message })}`;
    message.hidden = false;
  }
}

function drawLevel(services) {
  chart("level-chart", {
    grid: { left: 40, right: 10, top: 20, bottom: 30 },
    xAxis: { type: "category", data: services.map((s) => s.label), axisLabel: { interval: 0 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ name: word("service_level"), type: "bar", data: services.map((s) => percent(s.service_level)) }],
  });
  table(document.getElementById("level-table"), [word("service"), word("waits"), word("service_level")],
    services.map((s) => [s.label, String(s.waits), shown("service_level", s.service_level)]));
}

form.addEventListener("submit", (event) => {
  if (event.submitter?.value === "csv" || event.submitter?.value === "xlsx") return;
  event.preventDefault();
  load();
});
for (const name of ["by", "group"]) form.elements[name].addEventListener("change", load);
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
load();
