/*
 * Draws the Vega-Lite charts of a page from the vendored Vega builds.
 *
 * Each chart is a <figure data-vega-chart="ID"> next to a JSON data block
 * (<script type="application/json" id="ID">): either a full Vega-Lite spec
 * (data-vega-kind="spec") or rows {label, count} drawn as horizontal bars
 * (data-vega-kind="bars"). No inline script: the specs are data, this file is
 * the only code. The figure stays hidden, and the accessible table next to it
 * is the whole content, until the chart is drawn.
 */
(function () {
  "use strict";

  var me = document.currentScript;
  var libraries = me
    ? [me.dataset.vega, me.dataset.vegaLite, me.dataset.vegaEmbed]
    : [];

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(script);
    });
  }

  function loadVega() {
    // Several includes on one page share one load of the libraries.
    if (!window.hdhVegaLoading) {
      window.hdhVegaLoading = libraries.reduce(function (previous, src) {
        return previous.then(function () { return loadScript(src); });
      }, Promise.resolve());
    }
    return window.hdhVegaLoading;
  }

  function barSpec(rows, figure) {
    var values = rows.filter(function (row) { return row.count !== null && row.count !== undefined; });
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: "container",
      data: { values: values },
      mark: { type: "bar", tooltip: true },
      encoding: {
        y: { field: "label", type: "nominal", sort: null, title: null },
        x: { field: "count", type: "quantitative", title: figure.dataset.vegaXTitle || null }
      }
    };
  }

  function draw(figure) {
    if (figure.dataset.vegaDrawn) { return; }
    figure.dataset.vegaDrawn = "pending";
    var source = document.getElementById(figure.dataset.vegaChart);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var spec = figure.dataset.vegaKind === "bars" ? barSpec(data, figure) : data;
    var target = figure.querySelector("[data-vega-target]");
    loadVega()
      .then(function () {
        // Shown before drawing: a "container" width is measured on a visible box.
        figure.hidden = false;
        return window.vegaEmbed(target, spec, { actions: false, renderer: "svg" });
      })
      .then(function () {
        figure.dataset.vegaDrawn = "yes";
      })
      .catch(function (error) {
        figure.hidden = true;
        figure.dataset.vegaDrawn = "failed";
        if (window.console) { window.console.warn("chart not drawn:", error); }
      });
  }

  function drawAll() {
    document.querySelectorAll("figure[data-vega-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
