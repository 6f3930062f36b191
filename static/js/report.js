// The monthly report's charts, drawn as SVG (ECharts' SVG renderer) so that they print sharp and
// at the page's width; every figure is also in the table under its chart. The print button prints
// the page; without scripts the browser's menu prints it all the same.
const section = document.querySelector(".report-charts");
const data = JSON.parse(section.dataset.chart);
const words = JSON.parse(section.dataset.words);
const echarts = globalThis.echarts;
// Chinese first, English after it: the report's labels are pairs.
const both = ([zh, en]) => (en && en !== zh ? `${zh} ${en}` : zh);
const base = {
  animation: false,
  textStyle: { fontFamily: "sans-serif", color: "#000" },
  grid: { left: 36, right: 8, top: 30, bottom: 22 },
};
const charts = [];

function draw(id, option) {
  const element = document.getElementById(id);
  if (!element) return;
  const chart = echarts.init(element, null, { renderer: "svg" });
  chart.setOption({ ...base, ...option });
  charts.push(chart);
}

function daily(id, first, second) {
  draw(id, {
    legend: { top: 0, textStyle: { fontSize: 10 }, data: [both(words[first]), both(words[second])] },
    grid: { ...base.grid, top: 40 },
    xAxis: { type: "category", data: data.days, axisLabel: { fontSize: 9, interval: 1 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: both(words[first]), type: "bar", data: data[first], itemStyle: { color: "#1f4e8c" } },
      { name: both(words[second]), type: "bar", data: data[second], itemStyle: { color: "#8fb3e0", decal: { symbol: "rect" } } },
    ],
  });
}

daily("queue-chart", "arrived", "served");
daily("cases-chart", "accepted", "completed");
draw("items-chart", {
  grid: { left: 44, right: 8, top: 22, bottom: 22 },
  // The items by name: long names break onto a second line rather than run into each other.
  xAxis: { type: "category", data: data.items, axisLabel: { fontSize: 10, interval: 0, width: 90, overflow: "break" } },
  yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
  series: [{ name: both(words.on_time_rate), type: "bar", data: data.on_time, label: { show: true, position: "top", formatter: "{c}%" } }],
});

// Printing lays the page out at the paper's width: redraw the charts to it, and back after.
const resize = () => charts.forEach((chart) => chart.resize());
window.addEventListener("beforeprint", resize);
window.addEventListener("afterprint", resize);
window.addEventListener("resize", resize);
document.getElementById("print-report")?.addEventListener("click", () => window.print());
