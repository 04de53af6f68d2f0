/* The steering dashboard (admin role): progress toward 100,000, the funnel, weekly trend,
   breakdowns and the agencies' capacity, from /stats and /stats/capacity. */
(function () {
  "use strict";
  var GE = window.GE;
  var C = window.GECharts;
  var t = GE.t;
  var el = GE.el;
  var PLAN_START = "2023-02-06";
  var METRICS = ["conversations", "eligibility_checks", "bookings", "attended"];
  var DIMENSIONS = ["region", "agency", "segment", "program", "channel", "language"];
  var TOP = 15;

  var TOP_AGENCIES = 12;
  var state = { from: "", to: "", metric: "bookings", stats: null, capacity: null, region: "", weeks: 4,
    allAgencies: false };

  function failed(error) {
    if (error && error.status === 401) return;
    GE.toast(t("errorGeneric", { detail: error && error.message ? error.message : "" }), "error");
  }

  function mondayBefore(isoDate, weeks) {
    var date = new Date(isoDate + "T12:00:00Z");
    var day = (date.getUTCDay() + 6) % 7;
    date.setUTCDate(date.getUTCDate() - day - 7 * (weeks - 1));
    return date.toISOString().slice(0, 10);
  }

  /* -------------------------------------------------------------------------------- stats */
  function loadStats() {
    var params = { from: state.from, to: state.to, lang: GE.apiLang() };
    document.getElementById("stats-csv").href = "/api/v1/stats/export.csv" + GE.query(params);
    return GE.api("GET", "/stats" + GE.query(params)).then(function (stats) {
      state.stats = stats;
      state.from = stats.from_date;
      state.to = stats.to_date;
      document.getElementById("p-from").value = stats.from_date;
      document.getElementById("p-to").value = stats.to_date;
      renderStats();
    }, failed);
  }

  function renderStats() {
    var stats = state.stats;
    if (!stats) return;
    document.getElementById("period-text").textContent = t("period") + GE.colon() + GE.formatDay(stats.from_date) + " – " +
      GE.formatDay(stats.to_date);
    renderProgress(stats.progress);
    renderFunnel(stats.funnel);
    renderWeekly(stats.by.week);
    renderBreakdowns();
  }

  function renderProgress(progress) {
    var box = document.getElementById("progress");
    var of = t("progressOf", { n: GE.formatNumber(progress.accompanied), target: GE.formatNumber(progress.target) });
    box.replaceChildren(
      el("p", { className: "big-number", text: GE.formatPercent(progress.share, progress.share < 0.01 ? 3 : 1) }),
      el("p", { className: "strong", text: progress.label + GE.colon() + of }),
      C.progress({ value: progress.accompanied, target: progress.target, title: t("progressTitle"),
        description: progress.label + GE.colon() + of + " (" + GE.formatPercent(progress.share, 3) + ")" }),
      el("p", { className: "muted", text: progress.note })
    );
  }

  function renderFunnel(funnel) {
    var rows = funnel.map(function (step) {
      return { label: step.label, value: step.count, color: C.COLORS[step.step],
        note: step.rate == null ? "" : t("ofPrevious", { rate: GE.formatPercent(step.rate) }) };
    });
    document.getElementById("funnel").replaceChildren(
      C.bars({ rows: rows, title: t("funnelTitle"), width: 580, valueWidth: 240, labelWidth: 170 }),
      C.dataTable(t("funnelTitle"), ["", t("total"), "%"], funnel.map(function (step) {
        return [step.label, GE.formatNumber(step.count), step.rate == null ? "—" : GE.formatPercent(step.rate)];
      }))
    );
  }

  function renderWeekly(weeks) {
    var labels = weeks.map(function (w) { return { key: w.key, label: GE.formatDay(w.key, "short") }; });
    var series = METRICS.map(function (metric) {
      return { key: metric, name: t("m_" + metric), values: weeks.map(function (w) { return w[metric]; }) };
    });
    var description = series.map(function (s) {
      return s.name + GE.colon() + GE.formatNumber(s.values.reduce(function (a, b) { return a + b; }, 0));
    }).join("; ");
    var legend = el("ul", { className: "legend" }, series.map(function (s) {
      return el("li", {}, [el("span", { className: "swatch swatch-" + s.key, "aria-hidden": "true" }), s.name]);
    }));
    document.getElementById("weekly").replaceChildren(
      legend,
      C.lines({ weeks: labels, series: series, title: t("weeklyTitle"), description: description }),
      C.dataTable(t("weeklyTitle"), [""].concat(series.map(function (s) { return s.name; })), weeks.map(function (w) {
        return [t("weekOf", { date: GE.formatDay(w.key, "short") })].concat(METRICS.map(function (m) {
          return GE.formatNumber(w[m]);
        }));
      }))
    );
  }

  function renderBreakdowns() {
    var box = document.getElementById("breakdowns");
    box.replaceChildren();
    DIMENSIONS.forEach(function (dimension) {
      var groups = state.stats.by[dimension].slice().sort(function (a, b) {
        if ((a.key === null) !== (b.key === null)) return a.key === null ? 1 : -1;
        return b[state.metric] - a[state.metric];
      });
      var shown = groups.filter(function (g) { return g[state.metric] > 0; }).slice(0, TOP);
      var title = t("d_" + dimension) + " — " + t("m_" + state.metric);
      var chart = shown.length ? C.bars({ rows: shown.map(function (g) {
        return { label: g.label, value: g[state.metric] };
      }), title: title, color: C.COLORS[state.metric], width: 560, labelWidth: 190, valueWidth: 60 })
        : el("p", { className: "muted", text: t("noData") });
      box.appendChild(el("section", { className: "breakdown", "data-dimension": dimension }, [
        el("h3", { text: t("d_" + dimension) }),
        chart,
        C.dataTable(title, [""].concat(METRICS.concat(["no_show", "cancelled"]).map(function (m) {
          return t("m_" + m);
        })), groups.map(function (g) {
          return [g.label].concat(METRICS.concat(["no_show", "cancelled"]).map(function (m) {
            return GE.formatNumber(g[m]);
          }));
        })),
      ]));
    });
  }

  function buildMetricChoice() {
    var box = document.getElementById("metric");
    Array.from(box.querySelectorAll("label")).forEach(function (label) { label.remove(); });
    METRICS.forEach(function (metric) {
      var input = el("input", { type: "radio", name: "metric", value: metric,
        onchange: function () { state.metric = metric; renderBreakdowns(); } });
      input.checked = metric === state.metric;
      box.appendChild(el("label", {}, [input, t("m_" + metric)]));
    });
  }

  /* ----------------------------------------------------------------------------- capacity */
  function loadCapacity() {
    var params = { weeks: state.weeks, lang: GE.apiLang() };
    document.getElementById("capacity-csv").href = "/api/v1/stats/capacity.csv" + GE.query(params);
    return GE.api("GET", "/stats/capacity" + GE.query(params)).then(function (capacity) {
      state.capacity = capacity;
      fillRegions();
      renderCapacity();
    }, failed);
  }

  function fillRegions() {
    var select = document.getElementById("c-region");
    var regions = new Map();
    state.capacity.agencies.forEach(function (a) { if (a.region_id) regions.set(a.region_id, a.region); });
    select.replaceChildren(el("option", { value: "", text: t("allRegions") }));
    Array.from(regions.entries()).sort(function (a, b) { return a[1].localeCompare(b[1]); }).forEach(function (pair) {
      select.appendChild(el("option", { value: pair[0], text: pair[1] }));
    });
    select.value = state.region;
  }

  function meter(week) {
    var rate = week.rate || 0;
    var level = rate >= 0.85 ? " high" : rate >= 0.6 ? " mid" : "";
    var bar = el("span", { className: "meter" + level, "aria-hidden": "true" }, [el("span")]);
    bar.firstChild.style.width = Math.round(Math.min(1, rate) * 100) + "%";
    var text = week.available ? GE.formatNumber(week.booked) + " / " + GE.formatNumber(week.available) +
      " (" + GE.formatPercent(rate, 0) + ")" : "—";
    return el("td", { className: "cell" }, [bar, el("span", { text: text })]);
  }

  function renderCapacity() {
    var capacity = state.capacity;
    var agencies = capacity.agencies.filter(function (a) { return !state.region || a.region_id === state.region; });
    agencies.sort(function (a, b) { return (b.rate || 0) - (a.rate || 0) || a.agency_name.localeCompare(b.agency_name); });
    // Every agency's hours are still "to be confirmed": one note, not one per row.
    var unverified = capacity.agencies.filter(function (a) { return !a.hours_verified; }).length;
    var allUnverified = unverified === capacity.agencies.length;
    var head = el("tr", {}, [el("th", { scope: "col", text: t("agency") }), el("th", { scope: "col", text: t("region") })]
      .concat(capacity.totals.map(function (week) {
        return el("th", { scope: "col", text: t("weekOf", { date: GE.formatDay(week.week_start, "short") }) });
      })));
    var total = el("tr", { className: "strong" }, [el("th", { scope: "row", text: t("capacityTotal") }), el("td")]
      .concat(capacity.totals.map(meter)));
    var totalCount = agencies.length;
    if (!state.allAgencies) agencies = agencies.slice(0, TOP_AGENCIES);
    var rows = agencies.map(function (agency) {
      return el("tr", { "data-agency": agency.agency_id }, [
        el("th", { scope: "row" }, [agency.agency_name,
          agency.hours_verified || allUnverified ? null
            : el("span", { className: "muted", text: " (" + t("hoursTbc") + ")" })]),
        el("td", { text: agency.region }),
      ].concat(agency.weeks.map(meter)));
    });
    var table = el("table", { className: "capacity-table" }, [
      el("caption", { className: "visually-hidden", text: t("capacityTitle") + " — " + t("occupancy") }),
      el("thead", {}, [head]), el("tbody", {}, [total].concat(rows)),
    ]);
    var toggle = totalCount > TOP_AGENCIES ? el("button", {
      type: "button", className: "button show-all", "aria-expanded": state.allAgencies ? "true" : "false",
      text: state.allAgencies ? t("showTop", { n: TOP_AGENCIES }) : t("showAll", { n: totalCount }),
      onclick: function () { state.allAgencies = !state.allAgencies; renderCapacity(); },
    }) : null;
    var note = allUnverified ? el("p", { className: "muted", text: t("hoursTbcAll") }) : "";
    document.getElementById("capacity").replaceChildren(note, el("div", { className: "table-scroll" }, [table]),
      toggle || "");
  }

  /* -------------------------------------------------------------------------------- start */
  function wire() {
    document.getElementById("period").addEventListener("submit", function (event) {
      event.preventDefault();
      state.from = document.getElementById("p-from").value;
      state.to = document.getElementById("p-to").value;
      loadStats();
    });
    document.querySelectorAll("[data-weeks]").forEach(function (button) {
      button.addEventListener("click", function () {
        var weeks = button.getAttribute("data-weeks");
        state.to = GE.todayLocal();
        state.from = weeks === "plan" ? PLAN_START : mondayBefore(state.to, Number(weeks));
        if (weeks === "plan" && state.from < GE.addDays(state.to, -800)) state.from = GE.addDays(state.to, -800);
        loadStats();
      });
    });
    document.getElementById("c-weeks").addEventListener("change", function (event) {
      state.weeks = Number(event.target.value);
      loadCapacity();
    });
    document.getElementById("c-region").addEventListener("change", function (event) {
      state.region = event.target.value;
      renderCapacity();
    });
  }

  function begin(staff) {
    GE.showIdentity(staff, "");
    if (staff.role !== "admin") {
      document.getElementById("not-admin").hidden = false;
      document.getElementById("dashboard").hidden = true;
      return;
    }
    document.getElementById("not-admin").hidden = true;
    document.getElementById("dashboard").hidden = false;
    buildMetricChoice();
    loadStats();
    loadCapacity();
  }

  document.addEventListener("DOMContentLoaded", function () {
    GE.setLang(GE.initialLang(null), false);
    GE.onExpired = function () { GE.requireLogin(t("sessionExpired")).then(begin); };
    GE.wireHeader(function () {
      if (!GE.me || GE.me.role !== "admin") return;
      buildMetricChoice();
      loadStats();
      loadCapacity();
    });
    wire();
    GE.start().then(function (staff) {
      var stored = null;
      try { stored = localStorage.getItem("ge.staff.lang"); } catch (e) { /* private mode */ }
      if (!stored) GE.setLang(GE.initialLang(staff), false);
      begin(staff);
    });
  });
})();
