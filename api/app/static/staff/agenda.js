/* The agency workspace: agenda (filters, attendance, cancellation, moves), callback queue,
   exports and calendar feed. Live updates come from /staff/stream (Server-Sent Events); when
   the browser cannot keep the stream open, /staff/changes is polled every 30 seconds. */
(function () {
  "use strict";
  var GE = window.GE;
  var t = GE.t;
  var el = GE.el;
  var POLL_MS = 30000;
  var UPCOMING_DAYS = 14;

  var state = {
    staff: null,
    agency: "",
    day: "",
    service: "",
    status: "",
    q: "",
    from: null,
    to: null,
    items: new Map(),
    cursor: null,
    services: [],
    agencies: [],
    handoffs: new Map(),
    showClosed: false,
    source: null,
    pollTimer: null,
    fresh: new Set(),
    loggingIn: false,
  };

  /* ---------------------------------------------------------------------------- helpers */
  function today() {
    return GE.todayLocal();
  }

  function agendaParams() {
    var from = state.day || today();
    var to = state.day || GE.addDays(from, UPCOMING_DAYS - 1);
    return { agency: state.agency, from: from, to: to, service: state.service, status: state.status, q: state.q,
      lang: GE.apiLang() };
  }

  function digits(text) {
    return (text || "").replace(/\D/g, "");
  }

  function matches(item) {
    if (state.from && (item.date < state.from || item.date > state.to)) return false;
    if (state.agency && item.agency_id !== state.agency) return false;
    if (state.service && item.service !== state.service) return false;
    if (state.status ? item.status !== state.status : item.status === "rescheduled") return false;
    if (state.q) {
      var q = state.q.trim().toLowerCase();
      var qDigits = digits(q).replace(/^(00212|212)/, "").replace(/^0+/, "");
      var byName = (item.full_name || "").toLowerCase().indexOf(q) >= 0;
      var byRef = item.reference.toLowerCase() === q.replace(/[\s-]/g, "");
      var byPhone = qDigits.length >= 4 && digits(item.phone).indexOf(qDigits) >= 0;
      if (!byName && !byRef && !byPhone) return false;
    }
    return true;
  }

  function who(item) {
    return item.full_name || item.reference;
  }

  function when(item) {
    return GE.formatDay(item.date, "short") + " " + item.time;
  }

  function failed(error) {
    if (error && error.status === 401) return;
    GE.toast(t("errorGeneric", { detail: error && error.message ? error.message : "" }), "error");
  }

  /* ----------------------------------------------------------------------------- agenda */
  function loadAgenda() {
    var params = agendaParams();
    updateExportLink(params);
    return GE.api("GET", "/staff/agenda" + GE.query(params)).then(function (body) {
      state.from = body.from_date;
      state.to = body.to_date;
      state.cursor = body.cursor;
      state.items = new Map(body.items.map(function (item) { return [item.reference, item]; }));
      renderAgenda();
    }, failed);
  }

  function statusBadge(status) {
    return el("span", { className: "badge badge-" + status, text: t("st_" + status) });
  }

  function actionButtons(item) {
    var box = el("div", { className: "actions" });
    var started = item.date <= today();
    if (started && ["booked", "attended", "no_show"].indexOf(item.status) >= 0) {
      [["attended", "markAttended", "button-ok"], ["no_show", "markNoShow", "button-warn"]].forEach(function (spec) {
        box.appendChild(el("button", {
          type: "button", className: "button button-small " + spec[2], text: t(spec[1]),
          "aria-pressed": item.status === spec[0] ? "true" : "false",
          "aria-label": t(spec[1]) + " — " + who(item) + " " + item.time,
          "data-action": spec[0],
          onclick: function () { setStatus(item, spec[0]); },
        }));
      });
    }
    if (item.status === "booked" && new Date(item.starts_at) > new Date()) {
      box.appendChild(el("button", {
        type: "button", className: "button button-small", text: t("move"), "data-action": "move",
        "aria-label": t("move") + " — " + who(item) + " " + item.time,
        onclick: function () { openMove(item); },
      }));
      box.appendChild(el("button", {
        type: "button", className: "button button-small button-danger", text: t("cancel"), "data-action": "cancel",
        "aria-label": t("cancel") + " — " + who(item) + " " + item.time,
        onclick: function () { confirmCancel(item); },
      }));
    }
    return box;
  }

  function row(item) {
    var person = el("td", { className: "person", "data-label": t("colPerson") }, [
      el("span", { className: "name", text: item.full_name || "—" }),
      item.phone ? el("a", { className: "phone", href: "tel:" + item.phone, dir: "ltr", text: item.phone }) : null,
    ]);
    var need = el("td", { "data-label": t("colNeed") }, [
      el("span", { text: item.service_name }),
      item.segment_name ? el("span", { className: "muted", text: item.segment_name }) : null,
    ]);
    var channel = el("td", { "data-label": t("colChannel") }, [
      el("span", { text: t("ch_" + item.channel) }),
      item.whatsapp_opt_in ? el("span", { className: "muted", text: t("optIn") }) : null,
    ]);
    var tr = el("tr", {
      id: "appt-" + item.reference, "data-reference": item.reference, "data-status": item.status,
      className: (state.fresh.has(item.reference) ? "fresh " : "") + "status-" + item.status,
    }, [
      el("th", { scope: "row", className: "time", "data-label": t("colTime"), text: item.time }),
      person,
      need,
      el("td", { "data-label": t("colProgram"), text: item.program_name || "—" }),
      el("td", { "data-label": t("colLanguage"), text: t("lang_" + item.language) }),
      channel,
      el("td", { "data-label": t("colReference") }, [el("code", { text: item.reference })]),
      el("td", { "data-label": t("colStatus") }, [statusBadge(item.status)]),
      el("td", { "data-label": t("colActions") }, [actionButtons(item)]),
    ]);
    if (state.staff && state.staff.role === "admin" && !state.agency) {
      person.appendChild(el("span", { className: "muted", text: item.agency_name }));
    }
    return tr;
  }

  function renderCounts(items) {
    var day = state.day || today();
    var ofDay = items.filter(function (i) { return i.date === day && i.status !== "cancelled"; });
    var count = function (status) { return ofDay.filter(function (i) { return i.status === status; }).length; };
    var box = document.getElementById("counts");
    box.replaceChildren();
    [["countToday", ofDay.length], ["countBooked", count("booked")], ["countAttended", count("attended")],
      ["countNoShow", count("no_show")]].forEach(function (pair, index) {
      var label = index === 0 ? (state.day && state.day !== today() ? GE.formatDay(state.day, "short") : t("today"))
        : t(pair[0]);
      box.appendChild(el("li", { className: "count-" + pair[0] }, [
        el("span", { className: "count-value", text: GE.formatNumber(pair[1]) }),
        el("span", { className: "count-label", text: label }),
      ]));
    });
  }

  function renderAgenda() {
    var items = Array.from(state.items.values()).filter(matches).sort(function (a, b) {
      return a.starts_at < b.starts_at ? -1 : a.starts_at > b.starts_at ? 1 : a.reference < b.reference ? -1 : 1;
    });
    renderCounts(items);
    var range = document.getElementById("range");
    range.textContent = state.from === state.to ? GE.formatDay(state.from)
      : GE.formatDay(state.from, "short") + " – " + GE.formatDay(state.to, "short");
    var box = document.getElementById("agenda");
    box.replaceChildren();
    if (!items.length) {
      box.appendChild(el("p", { className: "empty", text: t("noAppointments") }));
      return;
    }
    var byDay = new Map();
    items.forEach(function (item) {
      if (!byDay.has(item.date)) byDay.set(item.date, []);
      byDay.get(item.date).push(item);
    });
    byDay.forEach(function (dayItems, date) {
      var headingId = "day-" + date;
      var heading = el("h2", { id: headingId, className: "day-title" }, [
        GE.formatDay(date),
        date === today() ? el("span", { className: "tag", text: t("today") }) : null,
      ]);
      var head = el("thead", {}, [el("tr", {}, ["colTime", "colPerson", "colNeed", "colProgram", "colLanguage",
        "colChannel", "colReference", "colStatus", "colActions"].map(function (key) {
        return el("th", { scope: "col", text: t(key) });
      }))]);
      var columns = el("colgroup", {}, ["time", "person", "need", "program", "language", "channel", "reference",
        "status", "actions"].map(function (name) { return el("col", { className: "col-" + name }); }));
      var table = el("table", { className: "agenda-table", "aria-labelledby": headingId }, [
        columns, head, el("tbody", {}, dayItems.map(row)),
      ]);
      box.appendChild(el("section", { className: "day" }, [heading, table]));
    });
  }

  function upsert(item) {
    var previous = state.items.get(item.reference);
    state.items.set(item.reference, item);
    state.fresh.add(item.reference);
    setTimeout(function () { state.fresh.delete(item.reference); }, 4000);
    return previous;
  }

  function setStatus(item, status) {
    return GE.api("POST", "/staff/appointments/" + encodeURIComponent(item.reference) + "/status" +
      GE.query({ lang: GE.apiLang() }), { status: status }).then(function (updated) {
      upsert(updated);
      renderAgenda();
      var focus = document.querySelector("#appt-" + updated.reference + " [data-action=" + status + "]");
      if (focus) focus.focus();
      GE.toast(status === "cancelled" ? t("cancelled", { ref: updated.reference })
        : t("marked", { ref: updated.reference, status: t("st_" + status) }), "ok");
    }, failed);
  }

  function confirmCancel(item) {
    var dialog = document.getElementById("cancel-dialog");
    document.getElementById("cancel-what").textContent = who(item) + " — " + when(item) + " (" + item.reference + ")";
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue === "confirm") setStatus(item, "cancelled");
    };
    dialog.showModal();
  }

  /* ------------------------------------------------------------------------------- moves */
  var moving = null;

  function openMove(item) {
    moving = item;
    var dialog = document.getElementById("move-dialog");
    document.getElementById("move-what").textContent = who(item) + " — " + when(item) + " · " + item.service_name;
    var from = document.getElementById("move-from");
    from.min = today();
    from.value = item.date > today() ? item.date : today();
    loadSlots();
    dialog.showModal();
  }

  function loadSlots() {
    var box = document.getElementById("move-slots");
    box.replaceChildren(el("p", { className: "muted", text: t("loading") }));
    var from = document.getElementById("move-from").value || today();
    GE.api("GET", "/staff/appointments/" + encodeURIComponent(moving.reference) + "/slots" +
      GE.query({ from: from, days: 7 })).then(function (body) {
      box.replaceChildren();
      if (!body.slots.length) {
        box.appendChild(el("p", { text: t("noSlots") }));
        return;
      }
      var byDay = new Map();
      body.slots.forEach(function (slot) {
        if (!byDay.has(slot.date)) byDay.set(slot.date, []);
        byDay.get(slot.date).push(slot);
      });
      byDay.forEach(function (slots, date) {
        box.appendChild(el("h3", { text: GE.formatDay(date) }));
        box.appendChild(el("div", { className: "slot-list" }, slots.map(function (slot) {
          return el("button", {
            type: "button", className: "button button-small slot", text: slot.time,
            "aria-label": GE.formatDay(date) + " " + slot.time, "data-starts-at": slot.starts_at,
            onclick: function () { move(slot); },
          });
        })));
      });
    }, function (error) {
      box.replaceChildren(el("p", { className: "error", text: t("errorGeneric", { detail: error.message }) }));
    });
  }

  function move(slot) {
    GE.api("POST", "/staff/appointments/" + encodeURIComponent(moving.reference) + "/reschedule" +
      GE.query({ lang: GE.apiLang() }), { starts_at: slot.starts_at }).then(function (updated) {
      document.getElementById("move-dialog").close();
      upsert(updated);
      renderAgenda();
      GE.toast(t("moved", { when: when(updated) }), "ok");
    }, function (error) {
      failed(error);
      loadSlots();
    });
  }

  /* ---------------------------------------------------------------------------- handoffs */
  function handoffMatches(item) {
    return state.showClosed ? item.status === "closed" : item.status !== "closed";
  }

  function loadHandoffs() {
    var params = { agency: state.agency, status: state.showClosed ? "closed" : "active", lang: GE.apiLang() };
    return GE.api("GET", "/staff/handoffs" + GE.query(params)).then(function (items) {
      state.handoffs = new Map(items.map(function (item) { return [item.id, item]; }));
      renderHandoffs();
    }, failed);
  }

  function handoffCard(item) {
    var actions = el("div", { className: "actions" });
    if (item.status === "open") {
      actions.appendChild(el("button", {
        type: "button", className: "button button-primary button-small", text: t("take"), "data-action": "take",
        onclick: function () { handoffAction(item, "take"); },
      }));
    }
    if (item.status !== "closed") {
      actions.appendChild(el("button", {
        type: "button", className: "button button-small", text: t("closeHandoff"), "data-action": "close",
        onclick: function () { handoffAction(item, "close"); },
      }));
    }
    var meta = [t("received", { when: GE.formatDateTime(item.created_at) }), t("lang_" + item.language),
      t("ch_" + item.channel)];
    return el("li", { className: "card handoff handoff-" + item.status, id: "handoff-" + item.id,
      "data-status": item.status }, [
      el("div", { className: "card-head" }, [
        el("span", { className: "badge badge-" + item.reason, text: t("reason_" + item.reason) }),
        el("span", { className: "badge badge-h" + item.status, text: t("hs_" + item.status) }),
        el("h2", { className: "card-title", text: item.full_name || "—" }),
      ]),
      item.phone ? el("p", {}, [el("a", { className: "phone", href: "tel:" + item.phone, dir: "ltr",
        "aria-label": t("call") + " " + item.phone, text: item.phone })]) : null,
      el("p", { className: "summary", text: item.summary }),
      item.routed ? el("p", { className: "muted", text: t("routed", { place: item.place }) })
        : item.place ? el("p", { className: "muted", text: item.place }) : null,
      item.taken_by ? el("p", { className: "muted", text: t("takenBy", { name: item.taken_by }) }) : null,
      el("p", { className: "muted", text: meta.join(" · ") }),
      actions,
    ]);
  }

  function renderHandoffs() {
    var items = Array.from(state.handoffs.values()).filter(handoffMatches);
    var order = { open: 0, taken: 1, closed: 2 };
    items.sort(function (a, b) {
      if (order[a.status] !== order[b.status]) return order[a.status] - order[b.status];
      return state.showClosed ? (a.changed_at < b.changed_at ? 1 : -1) : (a.created_at < b.created_at ? -1 : 1);
    });
    var list = document.getElementById("handoffs");
    list.replaceChildren();
    if (!items.length) list.appendChild(el("li", { className: "empty", text: t("noHandoffs") }));
    items.forEach(function (item) { list.appendChild(handoffCard(item)); });
    var open = Array.from(state.handoffs.values()).filter(function (h) { return h.status === "open"; }).length;
    var badge = document.getElementById("handoff-count");
    badge.textContent = open ? GE.formatNumber(open) : "";
    badge.hidden = !open;
  }

  function handoffAction(item, action) {
    GE.api("POST", "/staff/handoffs/" + item.id + "/" + action + GE.query({ lang: GE.apiLang() }))
      .then(function (updated) {
        state.handoffs.set(updated.id, updated);
        renderHandoffs();
      }, failed);
  }

  /* ------------------------------------------------------------------------------ live */
  function setLive(on) {
    var box = document.getElementById("live");
    box.hidden = false;
    box.classList.toggle("live-off", !on);
    document.getElementById("live-text").textContent = on ? t("live") : t("liveOff");
  }

  function receive(kind, item) {
    if (kind === "appointment") {
      if (item.status === "rescheduled") return; // the old row of a move: the new row says it all
      var previous = state.items.get(item.reference);
      if (!matches(item)) {
        if (previous) { state.items.delete(item.reference); renderAgenda(); }
        return;
      }
      if (previous && previous.changed_at === item.changed_at) return;
      upsert(item);
      renderAgenda();
      if (!previous && item.status === "booked") GE.toast(t("newBooking", { when: when(item), who: who(item) }));
      if (previous && previous.status !== "cancelled" && item.status === "cancelled") {
        GE.toast(t("cancelledLive", { when: when(item), who: who(item) }));
      }
    } else if (kind === "handoff") {
      var known = state.handoffs.get(item.id);
      if (state.agency && item.agency_id !== state.agency) return;
      state.handoffs.set(item.id, item);
      renderHandoffs();
      if (!known && item.status === "open") GE.toast(t("newHandoff", { who: item.full_name || item.phone || "" }));
    }
  }

  function stopLive() {
    if (state.source) { state.source.close(); state.source = null; }
    if (state.pollTimer) { clearInterval(state.pollTimer); state.pollTimer = null; }
  }

  function poll() {
    GE.api("GET", "/staff/changes" + GE.query({ cursor: state.cursor, agency: state.agency, lang: GE.apiLang() }))
      .then(function (body) {
        state.cursor = body.cursor;
        body.appointments.forEach(function (item) { receive("appointment", item); });
        body.handoffs.forEach(function (item) { receive("handoff", item); });
      }, function () { /* the next poll tries again */ });
  }

  function startPolling() {
    if (state.source) { state.source.close(); state.source = null; }
    setLive(false);
    if (!state.pollTimer) {
      // At once, then every 30 seconds: a stream refused because the session ended shows the
      // login form now rather than at the next poll.
      poll();
      state.pollTimer = setInterval(poll, POLL_MS);
    }
  }

  function startLive() {
    stopLive();
    if (!window.EventSource) { startPolling(); return; }
    var url = "/api/v1/staff/stream" + GE.query({ cursor: state.cursor, agency: state.agency, lang: GE.apiLang() });
    var source = new EventSource(url);
    state.source = source;
    var failures = 0;
    source.addEventListener("ready", function () { failures = 0; setLive(true); });
    ["appointment", "handoff"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        if (event.lastEventId) state.cursor = event.lastEventId;
        receive(kind, JSON.parse(event.data));
      });
    });
    source.addEventListener("expired", function () { stopLive(); expired(); });
    source.onerror = function () {
      // The server ends each stream after a few minutes and the browser reconnects by itself;
      // only repeated failures (a proxy that buffers, the server down) switch to polling.
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures > 3) startPolling();
    };
  }

  /* ---------------------------------------------------------------------------- export */
  function updateExportLink(params) {
    var link = document.getElementById("export-csv");
    link.href = "/api/v1/staff/agenda.csv" + GE.query(params);
  }

  function loadFeed() {
    return GE.api("GET", "/staff/feed").then(renderFeed, failed);
  }

  function renderFeed(feed, url) {
    var status = document.getElementById("feed-status");
    var parts = [feed.active ? t("feedActive", { when: GE.formatDateTime(feed.created_at) }) : t("feedNone")];
    if (feed.last_used_at) parts.push(t("feedUsed", { when: GE.formatDateTime(feed.last_used_at) }));
    status.textContent = parts.join(" ");
    document.getElementById("feed-create").textContent = feed.active ? t("feedRenew") : t("feedCreate");
    document.getElementById("feed-revoke").hidden = !feed.active;
    var box = document.getElementById("feed-url-box");
    box.hidden = !url;
    document.getElementById("feed-url").value = url || "";
  }

  function wireExport() {
    document.getElementById("feed-create").addEventListener("click", function () {
      GE.api("POST", "/staff/feed").then(function (feed) {
        renderFeed(feed, feed.url);
        document.getElementById("feed-url").select();
      }, failed);
    });
    document.getElementById("feed-revoke").addEventListener("click", function () {
      GE.api("DELETE", "/staff/feed").then(function () {
        renderFeed({ active: false });
        GE.toast(t("feedRevoked"), "ok");
      }, failed);
    });
    document.getElementById("feed-copy").addEventListener("click", function () {
      var input = document.getElementById("feed-url");
      input.select();
      var done = function () { GE.toast(t("copied"), "ok"); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  }

  /* ------------------------------------------------------------------------------ tabs */
  function wireTabs() {
    var tabs = Array.from(document.querySelectorAll("[role=tab]"));
    function select(tab) {
      tabs.forEach(function (other) {
        var selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        other.tabIndex = selected ? 0 : -1;
        document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
      });
      if (tab.id === "tab-export") loadFeed();
    }
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { select(tab); });
      tab.addEventListener("keydown", function (event) {
        var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        if (document.documentElement.dir === "rtl") step = -step;
        var next = tabs[(index + step + tabs.length) % tabs.length];
        next.focus();
        select(next);
      });
    });
  }

  /* ---------------------------------------------------------------------------- filters */
  function fillSelects() {
    var service = document.getElementById("f-service");
    var keep = service.value;
    service.replaceChildren(el("option", { value: "", text: t("allServices") }));
    state.services.forEach(function (s) { service.appendChild(el("option", { value: s.id, text: s.name })); });
    service.value = keep;
    if (state.staff.role === "admin") {
      var agency = document.getElementById("f-agency");
      agency.replaceChildren(el("option", { value: "", text: t("allAgencies") }));
      state.agencies.forEach(function (a) { agency.appendChild(el("option", { value: a.id, text: a.name })); });
      agency.value = state.agency;
    }
  }

  function loadReference() {
    var lang = GE.apiLang();
    var calls = [GE.api("GET", "/services" + GE.query({ lang: lang })).then(function (list) { state.services = list; })];
    if (state.staff.role === "admin") {
      calls.push(GE.api("GET", "/agencies" + GE.query({ lang: lang })).then(function (list) { state.agencies = list; }));
    } else {
      calls.push(GE.api("GET", "/agencies/" + encodeURIComponent(state.staff.agency_id) + GE.query({ lang: lang }))
        .then(function (agency) { state.agencies = [agency]; }));
    }
    return Promise.all(calls).then(function () {
      fillSelects();
      showAgency();
    }, failed);
  }

  function showAgency() {
    var name = "";
    if (state.staff.role === "admin") {
      var chosen = state.agencies.find(function (a) { return a.id === state.agency; });
      name = chosen ? chosen.name : t("allAgencies");
    } else if (state.agencies.length) {
      name = state.agencies[0].name;
    }
    document.getElementById("agency-title").textContent = name;
    GE.showIdentity(state.staff, state.staff.role === "admin" ? "" : name);
  }

  function wireFilters() {
    var searchTimer = null;
    var day = document.getElementById("f-day");
    day.addEventListener("change", function () { state.day = day.value; loadAgenda(); });
    document.getElementById("f-today").addEventListener("click", function () {
      state.day = today();
      day.value = state.day;
      loadAgenda();
    });
    document.getElementById("f-upcoming").addEventListener("click", function () {
      state.day = "";
      day.value = "";
      loadAgenda();
    });
    document.getElementById("f-service").addEventListener("change", function (event) {
      state.service = event.target.value;
      loadAgenda();
    });
    document.getElementById("f-status").addEventListener("change", function (event) {
      state.status = event.target.value;
      loadAgenda();
    });
    document.getElementById("f-q").addEventListener("input", function (event) {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { state.q = event.target.value.trim(); loadAgenda(); }, 300);
    });
    document.getElementById("f-agency").addEventListener("change", function (event) {
      state.agency = event.target.value;
      showAgency();
      Promise.all([loadAgenda(), loadHandoffs()]).then(startLive);
    });
    document.getElementById("filters").addEventListener("submit", function (event) { event.preventDefault(); });
    document.getElementById("show-closed").addEventListener("change", function (event) {
      state.showClosed = event.target.checked;
      loadHandoffs();
    });
    document.getElementById("move-from").addEventListener("change", loadSlots);
    document.getElementById("move-close").addEventListener("click", function () {
      document.getElementById("move-dialog").close();
    });
  }

  /* ------------------------------------------------------------------------------ start */
  function expired() {
    if (state.loggingIn) return;
    state.loggingIn = true;
    GE.me = null;
    stopLive();
    document.getElementById("live").hidden = true;
    GE.requireLogin(t("sessionExpired")).then(function (staff) {
      state.loggingIn = false;
      begin(staff);
    });
  }

  function begin(staff) {
    state.staff = staff;
    document.getElementById("agency-field").hidden = staff.role !== "admin";
    document.getElementById("go-steering").hidden = staff.role !== "admin";
    return loadReference().then(function () {
      return Promise.all([loadAgenda(), loadHandoffs()]);
    }).then(startLive);
  }

  function rerender() {
    if (!state.staff) return;
    loadReference();
    loadAgenda();
    loadHandoffs();
  }

  document.addEventListener("DOMContentLoaded", function () {
    GE.setLang(GE.initialLang(null), false);
    GE.onExpired = expired;
    GE.wireHeader(rerender);
    wireTabs();
    wireFilters();
    wireExport();
    GE.start().then(function (staff) {
      var stored = null;
      try { stored = localStorage.getItem("ge.staff.lang"); } catch (e) { /* private mode */ }
      if (!stored) GE.setLang(GE.initialLang(staff), false);
      begin(staff);
    });
  });
})();
