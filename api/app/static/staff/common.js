/* Shared by the workspace and the steering page: texts and direction, the API (same origin,
   HttpOnly session cookie), the login form, dates in Casablanca time, small DOM helpers. */
(function () {
  "use strict";
  var API = "/api/v1";
  var LANG_KEY = "ge.staff.lang";
  var ZONE = "Africa/Casablanca";

  var GE = (window.GE = {
    lang: "fr",
    me: null,
    onExpired: null,
  });

  GE.t = function (key, values) {
    var texts = window.GE_TEXTS[GE.lang] || window.GE_TEXTS.fr;
    var text = texts[key] != null ? texts[key] : window.GE_TEXTS.fr[key] != null ? window.GE_TEXTS.fr[key] : key;
    if (values) {
      text = text.replace(/\{(\w+)\}/g, function (_, name) {
        return values[name] != null ? values[name] : "";
      });
    }
    return text;
  };

  // French puts a space before a colon; Arabic does not.
  GE.colon = function () {
    return GE.lang === "fr" ? " : " : ": ";
  };

  GE.apiLang = function () {
    return GE.lang === "ar" ? "ar" : "fr";
  };

  GE.applyTexts = function (root) {
    var scope = root || document;
    scope.querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = GE.t(el.getAttribute("data-i18n"));
    });
    scope.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
      el.setAttribute("placeholder", GE.t(el.getAttribute("data-i18n-placeholder")));
    });
    scope.querySelectorAll("[data-i18n-label]").forEach(function (el) {
      el.setAttribute("aria-label", GE.t(el.getAttribute("data-i18n-label")));
    });
  };

  GE.setLang = function (lang, persist) {
    GE.lang = lang === "ar" ? "ar" : "fr";
    if (persist) {
      try { localStorage.setItem(LANG_KEY, GE.lang); } catch (e) { /* private mode */ }
    }
    document.documentElement.lang = GE.lang;
    document.documentElement.dir = GE.lang === "ar" ? "rtl" : "ltr";
    GE.applyTexts();
    var title = document.querySelector("[data-page-title]");
    if (title) document.title = GE.t(title.getAttribute("data-page-title")) + " — " + GE.t("appName");
  };

  GE.initialLang = function (staff) {
    var stored = null;
    try { stored = localStorage.getItem(LANG_KEY); } catch (e) { /* private mode */ }
    if (stored) return stored;
    var params = new URLSearchParams(location.search);
    if (params.get("lang")) return params.get("lang");
    if (staff && (staff.language === "ar" || staff.language === "ary")) return "ar";
    return "fr";
  };

  /* ------------------------------------------------------------------------------ the API */
  function ApiError(status, detail) {
    this.status = status;
    this.detail = detail;
    this.message = typeof detail === "string" ? detail : JSON.stringify(detail);
  }

  GE.ApiError = ApiError;

  GE.api = function (method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(
      function (response) {
        if (response.status === 204) return null;
        return response.json().then(
          function (data) {
            if (!response.ok) throw new ApiError(response.status, data && data.detail);
            return data;
          },
          function () {
            if (!response.ok) throw new ApiError(response.status, response.statusText);
            return null;
          }
        ).catch(function (error) {
          // Only a session that was open can expire; the first "who am I?" of a page is a 401 too.
          if (error instanceof ApiError && error.status === 401 && path !== "/auth/login" && GE.me) {
            GE.me = null;
            if (GE.onExpired) GE.onExpired();
          }
          throw error;
        });
      },
      function () {
        throw new ApiError(0, GE.t("networkError"));
      }
    );
  };

  GE.query = function (params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (key) {
      if (params[key] !== null && params[key] !== undefined && params[key] !== "") search.set(key, params[key]);
    });
    var text = search.toString();
    return text ? "?" + text : "";
  };

  /* --------------------------------------------------------------------------------- login */
  // Shows the login form until the person is logged in; resolves with the staff member. Callers
  // that ask while the form is already shown share the same answer.
  var pendingLogin = null;

  GE.requireLogin = function (message) {
    var view = document.getElementById("login-view");
    var app = document.getElementById("app-view");
    var form = document.getElementById("login-form");
    var error = document.getElementById("login-error");
    app.hidden = true;
    view.hidden = false;
    document.body.classList.add("logged-out");
    if (message || !pendingLogin) {
      error.textContent = message || "";
      error.hidden = !message;
    }
    if (pendingLogin) return pendingLogin;
    form.querySelector("input[name=email]").focus();
    pendingLogin = new Promise(function (resolve) {
      form.onsubmit = function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        GE.api("POST", "/auth/login", {
          email: form.email.value,
          password: form.password.value,
        }).then(function (result) {
          form.password.value = "";
          error.hidden = true;
          view.hidden = true;
          app.hidden = false;
          document.body.classList.remove("logged-out");
          GE.me = result.staff;
          pendingLogin = null;
          resolve(result.staff);
        }, function (err) {
          error.textContent = err.status === 401 ? GE.t("loginFailed") : err.status === 0 ? GE.t("networkError")
            : GE.t("errorGeneric", { detail: err.message });
          error.hidden = false;
          form.password.focus();
        }).then(function () { button.disabled = false; });
      };
    });
    return pendingLogin;
  };

  GE.start = function () {
    return GE.api("GET", "/auth/me").then(function (staff) {
      GE.me = staff;
      document.getElementById("login-view").hidden = true;
      document.getElementById("app-view").hidden = false;
      return staff;
    }, function () {
      return GE.requireLogin();
    });
  };

  GE.logout = function () {
    return GE.api("POST", "/auth/logout").catch(function () { return null; }).then(function () {
      location.reload();
    });
  };

  /* ------------------------------------------------------------------------- dates, numbers */
  function locale() {
    return GE.lang === "ar" ? "ar-MA" : "fr-FR";
  }

  GE.todayLocal = function () {
    var parts = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
    return parts; // YYYY-MM-DD
  };

  GE.addDays = function (isoDate, days) {
    var date = new Date(isoDate + "T12:00:00Z");
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  };

  GE.formatDay = function (isoDate, style) {
    var options = style === "short" ? { day: "numeric", month: "short" }
      : { weekday: "long", day: "numeric", month: "long", year: "numeric" };
    options.timeZone = "UTC";
    var text = new Intl.DateTimeFormat(locale(), options).format(new Date(isoDate + "T12:00:00Z"));
    // "samedi 28 novembre" opens a heading: only its first letter takes a capital.
    return style === "short" ? text : text.charAt(0).toUpperCase() + text.slice(1);
  };

  GE.formatDateTime = function (iso) {
    return new Intl.DateTimeFormat(locale(), {
      timeZone: ZONE, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    }).format(new Date(iso));
  };

  GE.formatNumber = function (value) {
    return new Intl.NumberFormat(locale()).format(value);
  };

  GE.formatPercent = function (value, digits) {
    return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: digits == null ? 1 : digits })
      .format(value);
  };

  /* ------------------------------------------------------------------------------------ DOM */
  GE.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  };

  GE.toast = function (message, kind) {
    var box = document.getElementById("toast");
    if (!box) return;
    var item = GE.el("p", { className: "toast-item" + (kind ? " toast-" + kind : ""), text: message });
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  };

  GE.wireHeader = function (onLangChange) {
    document.getElementById("lang-switch").addEventListener("click", function () {
      GE.setLang(GE.lang === "ar" ? "fr" : "ar", true);
      if (onLangChange) onLangChange();
    });
    document.getElementById("logout").addEventListener("click", GE.logout);
  };

  GE.showIdentity = function (staff, agencyName) {
    var who = document.getElementById("who");
    who.textContent = staff.full_name + (agencyName ? " · " + agencyName : "");
    document.getElementById("logout").hidden = false;
  };
})();
