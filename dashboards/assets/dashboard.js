// Draws the dashboard's charts: each element with data-option holds the
// echarts option that go-echarts built on the server.
(function () {
  "use strict";
  var nodes = document.querySelectorAll("[data-option]");
  var charts = [];
  for (var i = 0; i < nodes.length; i++) {
    var el = nodes[i];
    try {
      var c = echarts.init(el, null, { renderer: "svg" });
      c.setOption(JSON.parse(el.getAttribute("data-option")));
      charts.push(c);
    } catch (e) {
      el.textContent = "chart unavailable: " + e;
    }
  }
  window.addEventListener("resize", function () {
    for (var j = 0; j < charts.length; j++) { charts[j].resize(); }
  });
  document.documentElement.setAttribute("data-charts-ready", String(charts.length));
})();
