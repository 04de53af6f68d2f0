/* Small inline-SVG charts: horizontal bars, a progress bar and weekly lines. Each chart is an
   image with a title and a description for screen readers, followed by its data as a table.
   Right-to-left pages mirror the x axis; text anchors are logical (start/end) so they follow. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var GE = window.GE;
  var uid = 0;
  var COLORS = { conversations: "#6c8ebf", eligibility_checks: "#3f7fbf", bookings: "#0b4f8a", attended: "#1e6b34",
    no_show: "#8a4b00", cancelled: "#a4161a" };

  function svg(tag, attrs, children) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (attrs[key] !== null && attrs[key] !== undefined) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function rtl() {
    return document.documentElement.dir === "rtl";
  }

  // The frame of every chart: <svg role=img> with <title> and <desc>.
  function frame(width, height, title, description) {
    uid += 1;
    var titleId = "chart-title-" + uid;
    var descId = "chart-desc-" + uid;
    return svg("svg", {
      viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img", class: "chart",
      "aria-labelledby": titleId + " " + descId, direction: rtl() ? "rtl" : "ltr",
    }, [svg("title", { id: titleId }, [title]), svg("desc", { id: descId }, [description])]);
  }

  function truncate(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function dataTable(caption, columns, rows) {
    var el = GE.el;
    var table = el("table", { className: "data-table" }, [
      el("caption", { className: "visually-hidden", text: caption }),
      el("thead", {}, [el("tr", {}, columns.map(function (c, i) {
        return el("th", { scope: "col", className: i ? "num" : "", text: c });
      }))]),
      el("tbody", {}, rows.map(function (cells) {
        return el("tr", {}, cells.map(function (cell, i) {
          return i ? el("td", { className: "num", text: cell }) : el("th", { scope: "row", text: cell });
        }));
      })),
    ]);
    return el("details", {}, [el("summary", { text: GE.t("showData") }), table]);
  }

  /* Horizontal bars: rows [{label, value, note}] sorted as given. */
  function bars(options) {
    var rows = options.rows;
    var width = options.width || 640;
    var labelWidth = options.labelWidth || 200;
    var valueWidth = options.valueWidth || 150;
    var rowHeight = 30;
    var height = Math.max(rows.length, 1) * rowHeight + 8;
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
    var plot = width - labelWidth - valueWidth;
    var mirror = rtl();
    var X = function (x) { return mirror ? width - x : x; };
    var description = rows.map(function (r) {
      return GE.t("chartSummary", { label: r.label, value: GE.formatNumber(r.value) + (r.note ? " (" + r.note + ")" : "") });
    }).join("; ") || GE.t("noData");
    var chart = frame(width, height, options.title, description);
    rows.forEach(function (r, i) {
      var y = 4 + i * rowHeight;
      var barWidth = r.value > 0 ? Math.max(2, (r.value / max) * plot) : 0;
      var label = svg("text", { x: X(labelWidth - 10), y: y + 19, "text-anchor": "end", "font-size": 14 },
        [truncate(r.label, 30)]);
      if (r.label.length > 30) label.appendChild(svg("title", {}, [r.label]));
      chart.appendChild(label);
      chart.appendChild(svg("rect", {
        x: mirror ? width - labelWidth - barWidth : labelWidth, y: y + 5, width: barWidth, height: rowHeight - 10,
        rx: 2, fill: r.color || options.color || COLORS.bookings,
      }));
      chart.appendChild(svg("text", { x: X(labelWidth + barWidth + 8), y: y + 19, "text-anchor": "start",
        "font-size": 14 }, [
        svg("tspan", { "font-weight": 700 }, [GE.formatNumber(r.value)]),
        r.note ? svg("tspan", { class: "label-muted", "font-size": 13 }, ["  (" + r.note + ")"]) : null,
      ]));
    });
    chart.appendChild(svg("line", { x1: X(labelWidth), x2: X(labelWidth), y1: 0, y2: height, class: "axis" }));
    return chart;
  }

  function progress(options) {
    var width = 640;
    var height = 46;
    var share = Math.min(1, options.value / options.target);
    var filled = options.value > 0 ? Math.max(3, share * width) : 0;
    var chart = frame(width, height, options.title, options.description);
    chart.appendChild(svg("rect", { x: 0, y: 8, width: width, height: 24, rx: 12, fill: "#e6ebf0" }));
    chart.appendChild(svg("rect", { x: rtl() ? width - filled : 0, y: 8, width: filled, height: 24, rx: 12,
      fill: COLORS.attended }));
    return chart;
  }

  /* Weekly lines: weeks [{key, label}], series [{key, name, values[]}]. */
  function lines(options) {
    var width = 860;
    var height = 280;
    var pad = { start: 56, end: 40, top: 14, bottom: 46 };
    var weeks = options.weeks;
    var max = Math.max.apply(null, options.series.reduce(function (all, s) { return all.concat(s.values); }, [1]));
    var top = niceMax(max);
    var plotWidth = width - pad.start - pad.end;
    var plotHeight = height - pad.top - pad.bottom;
    var mirror = rtl();
    var X = function (i) {
      var x = pad.start + (weeks.length === 1 ? plotWidth / 2 : (i / (weeks.length - 1)) * plotWidth);
      return mirror ? width - x : x;
    };
    var Y = function (v) { return pad.top + plotHeight - (v / top) * plotHeight; };
    var chart = frame(width, height, options.title, options.description);
    // Grid lines at whole numbers only: 0, the middle when it is one, the top.
    [0, top / 2, top].filter(function (v) { return v === Math.round(v); }).forEach(function (value) {
      chart.appendChild(svg("line", { x1: mirror ? width - pad.start : pad.start, x2: mirror ? pad.end : width - pad.end,
        y1: Y(value), y2: Y(value), class: "axis" }));
      chart.appendChild(svg("text", { x: mirror ? width - pad.start + 8 : pad.start - 8, y: Y(value) + 4,
        "text-anchor": "end", "font-size": 12, class: "label-muted" }, [GE.formatNumber(value)]));
    });
    var step = Math.max(1, Math.ceil(weeks.length / 8));
    weeks.forEach(function (week, i) {
      if (i % step !== 0 && i !== weeks.length - 1) return;
      chart.appendChild(svg("text", { x: X(i), y: height - pad.bottom + 20, "text-anchor": "middle", "font-size": 12,
        class: "label-muted" }, [week.label]));
    });
    options.series.forEach(function (series) {
      var points = series.values.map(function (v, i) { return X(i) + "," + Y(v); }).join(" ");
      chart.appendChild(svg("polyline", { points: points, fill: "none", stroke: COLORS[series.key], "stroke-width": 3,
        "stroke-linejoin": "round" }));
      series.values.forEach(function (v, i) {
        chart.appendChild(svg("circle", { cx: X(i), cy: Y(v), r: 3.5, fill: COLORS[series.key] }, [
          svg("title", {}, [series.name + " — " + weeks[i].label + GE.colon() + GE.formatNumber(v)]),
        ]));
      });
    });
    return chart;
  }

  function niceMax(value) {
    if (value <= 4) return 4;
    var magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i] * magnitude >= value) return steps[i] * magnitude;
    }
    return 10 * magnitude;
  }

  window.GECharts = { bars: bars, progress: progress, lines: lines, dataTable: dataTable, COLORS: COLORS };
})();
