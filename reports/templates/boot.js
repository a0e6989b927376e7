(function () {
  "use strict";
  var options = JSON.parse(document.getElementById("chart-options").textContent);
  var charts = [];
  var nodes = document.querySelectorAll("[data-chart]");
  for (var i = 0; i < nodes.length; i++) {
    var el = nodes[i];
    var opt = options[el.id];
    if (!opt) { continue; }
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(opt);
    charts.push(c);
  }
  function resize() { for (var j = 0; j < charts.length; j++) { charts[j].resize(); } }
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  document.documentElement.setAttribute("data-charts-ready", String(charts.length));
})();
