// The supervisor's queue statistics: the page's own parameters (data-api) ask the JSON API, and the
// answer is drawn as tiles, charts each beside its own table (so every figure can be read without
// the chart) and the table by period. The drill-down's tables come rendered with the page: a bar
// of the groups' chart opens the link of its row, one level down. Changing the period or the
// grouping asks the page again, so its address stays a bookmark. The CSV and XLSX buttons are
// left to the browser, which downloads the file the same API writes. ECharts (vendored, loaded before this module as a
// classic script) draws on canvas with its tooltips as rich text: the page's CSP allows no inline
// style, which HTML tooltips would need.
import { categoryLabels, servicesOnly } from "./chartaxis.js";
import { askJson as ask, cell, fill, pageWords } from "./page.js";

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
  "wait_max_minutes", "wait_p90_minutes", "service_level", ...BUCKETS.map((b) => `bucket:${b}`),
  "service_mean_minutes", "service_max_minutes", "service_p90_minutes", "rating:5", "rating:4", "rating:3",
  "rating:2", "rating:1", "satisfaction", "idle_minutes", "wrap_ups", "wrap_mean_minutes",
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

// The labels of a category axis along chart ``id`` between its grid's left and right margins.
function axisFor(id, labels, left, right) {
  return categoryLabels(labels, (document.getElementById(id)?.clientWidth || 600) - left - right);
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
  const bucketAxis = axisFor("buckets-chart", words.buckets, 40, 10);
  chart("buckets-chart", {
    grid: { left: 40, right: 10, top: 20, bottom: bucketAxis.bottom },
    xAxis: { type: "category", data: words.buckets, axisLabel: bucketAxis.axisLabel },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: word("waits"), type: "bar", data: counts }],
  });
  table(document.getElementById("buckets-table"), [word("bucket"), word("count"), word("share")],
    words.buckets.map((label, i) => [label, String(counts[i]), waits ? `${((counts[i] / waits) * 100).toFixed(1)}%` : "—"]));

  drawHeat(data.heat, hours);
  // Grouped by service, the counters' idle and wrap-up time keeps its row in the table, not a bar.
  drawGroups(data.group === "service" ? servicesOnly(data.groups) : data.groups);
  drawLevel(services);

  const heads = (first) => [first, ...data.columns];
  const line = (l) => [l.label, ...KEYS.map((k) => shown(k, valueOf(l, k)))];
  const totalRow = [word("total"), ...KEYS.map((k) => shown(k, valueOf(total, k)))];
  table(document.getElementById("periods-table"), heads(data.heads.period), data.periods.map(line), totalRow);
}

// Calls by ISO weekday (1 = Monday) and hour: a heat map, and the same counts as a table of
// weekdays by hours.
function drawHeat(heat, hours) {
  const shownHours = hours.map((h) => Number(h.key));
  const calls = new Map(heat.map(([day, hour, , called]) => [`${day}:${hour}`, called]));
  const most = Math.max(1, ...heat.map((cell) => cell[3]));
  chart("heat-chart", {
    tooltip: { position: "top", renderMode: "richText" },
    grid: { left: 50, right: 10, top: 10, bottom: 60 },
    xAxis: { type: "category", data: hours.map((h) => h.label), splitArea: { show: true } },
    yAxis: { type: "category", data: words.weekdays, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: most, calculable: false, orient: "horizontal", left: "center", bottom: 0 },
    series: [{
      name: word("called"),
      type: "heatmap",
      data: heat.filter(([, hour]) => shownHours.includes(hour)).map(([day, hour, , called]) => [
        shownHours.indexOf(hour), day - 1, called,
      ]),
      label: { show: shownHours.length <= 12 },
    }],
  });
  table(document.getElementById("heat-table"), [word("weekday"), ...hours.map((h) => h.label)],
    words.weekdays.map((name, index) => [name, ...shownHours.map((h) => String(calls.get(`${index + 1}:${h}`) ?? 0))]));
}

// The groups' services, one bar each; a bar opens the link of its row in the page's own table.
function drawGroups(groups) {
  const rows = new Map([...document.querySelectorAll("#drill-table tbody tr[data-key]")].map((r) => [r.dataset.key, r]));
  const labels = groups.map((g) => g.label);
  const axis = axisFor("drill-chart", labels, 50, 10);
  chart("drill-chart", {
    grid: { left: 50, right: 10, top: 20, bottom: axis.bottom },
    xAxis: { type: "category", data: labels, axisLabel: axis.axisLabel },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: word("served"), type: "bar", data: groups.map((g) => g.served), cursor: "pointer" }],
  });
  const drawn = charts.get("drill-chart");
  drawn.off("click");
  drawn.on("click", (event) => {
    const href = rows.get(groups[event.dataIndex]?.key)?.dataset.href;
    if (href) window.location.assign(href);
  });
}

async function load() {
  message.hidden = true;
  const api = root.dataset.api;
  try {
    const data = await ask(api);
    // The service level chart shows the services whatever the tables are grouped by.
    let services = data.groups;
    if (data.group !== "service") {
      const url = new URL(api, window.location.href);
      url.searchParams.set("group", "service");
      services = (await ask(`${url.pathname}${url.search}`)).groups;
    }
    draw(data, services);
  } catch (error) {
    message.textContent = `⚠ ${fill(word("with_detail"), { headline: word("failed"), detail: error.message })}`;
    message.hidden = false;
  }
}

// The service level of each service; the counters' idle and wrap-up time is none.
function drawLevel(all) {
  const services = servicesOnly(all);
  const labels = services.map((s) => s.label);
  const axis = axisFor("level-chart", labels, 40, 10);
  chart("level-chart", {
    grid: { left: 40, right: 10, top: 20, bottom: axis.bottom },
    xAxis: { type: "category", data: labels, axisLabel: axis.axisLabel },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ name: word("service_level"), type: "bar", data: services.map((s) => percent(s.service_level)) }],
  });
  table(document.getElementById("level-table"), [word("service"), word("waits"), word("service_level")],
    services.map((s) => [s.label, String(s.waits), shown("service_level", s.service_level)]));
}

for (const name of ["by", "group"]) form.elements[name].addEventListener("change", () => form.requestSubmit());
// A row of the drill-down's table opens its link wherever it is clicked, not on its name alone.
document.getElementById("drill-table").addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-href]");
  if (row && !event.target.closest("a")) window.location.assign(row.dataset.href);
});
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
load();
