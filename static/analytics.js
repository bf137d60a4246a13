/* Analytics charts (Apache ECharts from static/vendor). The tables beside them carry the same
   numbers, so the page reads fine without JavaScript and for screen readers. */
(function () {
  "use strict";
  var node = document.getElementById("analytics-data");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var L = data.labels;
  var charts = [];
  function draw(el, option) { var c = window.echarts.init(el); c.setOption(option); charts.push(c); }
  var trendEl = document.getElementById("trend-chart");
  if (trendEl) {
    draw(trendEl, {
      tooltip: { trigger: "axis" },
      legend: { data: [L.opened, L.paid, L.breached], top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.trend.map(function (w) { return w.week.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.opened, type: "line", data: data.trend.map(function (w) { return w.opened; }) },
        { name: L.paid, type: "line", data: data.trend.map(function (w) { return w.paid; }) },
        { name: L.breached, type: "bar", data: data.trend.map(function (w) { return w.breached; }), itemStyle: { color: "#b3261e" } }
      ]
    });
  }
  document.querySelectorAll("[data-breakdown]").forEach(function (el) {
    var dim = el.getAttribute("data-breakdown");
    var rows = (data.breakdowns[dim] || []).slice(0, 10).reverse();
    if (!rows.length) { el.remove(); return; }
    var name = function (r) {
      if (dim === "kind") { return data.kinds[r.value] || r.value; }
      if (dim === "product_type") { return data.product_types[r.value] || r.value; }
      if (dim === "channel") { return data.channels[r.value] || r.value; }
      if (dim === "agent") { return data.agents[r.value] || r.value || "—"; }
      return r.value;
    };
    draw(el, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 110, right: 16, top: 8, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(name), axisLabel: { width: 100, overflow: "truncate" } },
      series: [{ name: L.opened, type: "bar", data: rows.map(function (r) { return r.opened; }), itemStyle: { color: "#0b6bcb" } }]
    });
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
