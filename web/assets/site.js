// The public page: language (fr, ar, ary, ary_latn, right-to-left for the Arabic script), the
// service catalogue read from the backend in that language, and the chat widget's start.
(function () {
  "use strict";

  var GE = (window.GE = window.GE || {});
  var LANG_KEY = "ge.lang";
  var servicesRequest = null;
  var current = "fr";

  function t(key, vars) {
    return GE.t(current, key, vars);
  }

  // ---- configuration: config.js, then ?rasa= / ?backend= when allowed, then the page's host ----

  function cleanUrl(value) {
    if (!value) return null;
    try {
      var url = new URL(String(value), window.location.href);
      if (url.protocol !== "http:" && url.protocol !== "https:") return null;
      return url.origin + url.pathname.replace(/\/+$/, "");
    } catch (err) {
      return null;
    }
  }

  function resolveConfig() {
    var config = window.GE_CONFIG || {};
    var params = new URLSearchParams(window.location.search);
    var allowOverride = config.allowUrlOverride !== false;
    var scheme = window.location.protocol === "https:" ? "https:" : "http:";
    var host = window.location.hostname || "localhost";
    if (host.indexOf(":") !== -1) host = "[" + host + "]";
    return {
      rasaUrl: (allowOverride && cleanUrl(params.get("rasa"))) || cleanUrl(config.rasaUrl) || scheme + "//" + host + ":5005",
      backendUrl: (allowOverride && cleanUrl(params.get("backend"))) || cleanUrl(config.backendUrl) || scheme + "//" + host + ":8000",
    };
  }

  // ---- language ----

  function initialLanguage() {
    var fromUrl = new URLSearchParams(window.location.search).get("lang");
    if (fromUrl && GE.LANGUAGES[fromUrl]) return fromUrl;
    try {
      var stored = window.localStorage.getItem(LANG_KEY);
      if (stored && GE.LANGUAGES[stored]) return stored;
    } catch (err) {
      /* no storage: fall through */
    }
    // The browser's first preference between French and Arabic; French otherwise.
    var preferred = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < preferred.length; i++) {
      var code = String(preferred[i]).toLowerCase();
      if (code.indexOf("ar") === 0) return "ar";
      if (code.indexOf("fr") === 0) return "fr";
    }
    return "fr";
  }

  function linkFor(lang) {
    var params = new URLSearchParams(window.location.search);
    params.set("lang", lang);
    return "?" + params.toString();
  }

  function applyStrings() {
    var info = GE.LANGUAGES[current];
    var root = document.documentElement;
    root.lang = info.tag;
    root.dir = info.dir;
    document.title = t("pageTitle");
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-aria-label]"), function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-i18n-aria-label")));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-placeholder]"), function (node) {
      node.setAttribute("placeholder", t(node.getAttribute("data-i18n-placeholder")));
    });
    Array.prototype.forEach.call(document.querySelectorAll(".lang-switch a[data-lang]"), function (a) {
      a.href = linkFor(a.dataset.lang);
      if (a.dataset.lang === current) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  }

  function setLanguage(lang, options) {
    if (!GE.LANGUAGES[lang]) return;
    var changed = lang !== current;
    current = lang;
    try {
      window.localStorage.setItem(LANG_KEY, lang);
    } catch (err) {
      /* the choice then lasts for this page only */
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", linkFor(lang) + window.location.hash);
    }
    applyStrings();
    if (changed || (options && options.force)) loadServices();
    if (GE.chat && !(options && options.fromChat)) GE.chat.setLanguage(lang);
  }

  // ---- services, from GET /api/v1/services?lang= ----

  function setServicesStatus(key, withRetry) {
    var box = document.getElementById("services-status");
    box.textContent = "";
    box.dataset.state = key || "";
    if (!key) return;
    var p = document.createElement("p");
    p.textContent = t(key);
    box.appendChild(p);
    if (withRetry) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "secondary";
      retry.textContent = t("retry");
      retry.addEventListener("click", function () { loadServices(); });
      box.appendChild(retry);
    }
  }

  function renderServices(services, lang) {
    var list = document.getElementById("services-list");
    list.textContent = "";
    services.forEach(function (service) {
      var li = document.createElement("li");
      li.className = "service-card";
      li.dataset.serviceId = service.id;
      var h3 = document.createElement("h3");
      h3.textContent = service.name;
      var p = document.createElement("p");
      p.textContent = service.description;
      var meta = document.createElement("p");
      meta.className = "service-meta";
      var duration = document.createElement("span");
      duration.textContent = GE.t(lang, "duration", { n: service.duration_minutes });
      meta.appendChild(duration);
      if (service.free_of_charge !== false) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = GE.t(lang, "free");
        meta.appendChild(badge);
      }
      var book = document.createElement("button");
      book.type = "button";
      book.className = "secondary book";
      book.textContent = GE.t(lang, "book");
      book.setAttribute("aria-label", GE.t(lang, "bookAbout", { name: service.name }));
      book.addEventListener("click", function () {
        GE.chat.request('/book_appointment{"service":"' + service.id + '"}', service.name);
      });
      li.appendChild(h3);
      li.appendChild(p);
      li.appendChild(meta);
      li.appendChild(book);
      list.appendChild(li);
    });
  }

  function loadServices() {
    var lang = current;
    var list = document.getElementById("services-list");
    if (servicesRequest) servicesRequest.abort();
    var controller = new AbortController();
    servicesRequest = controller;
    var timer = setTimeout(function () { controller.abort(); }, 10000);
    list.setAttribute("aria-busy", "true");
    list.dataset.lang = "";
    setServicesStatus("servicesLoading");
    fetch(GE.config.backendUrl + "/api/v1/services?lang=" + encodeURIComponent(lang), {
      signal: controller.signal,
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (services) {
        if (servicesRequest !== controller) return;
        renderServices(Array.isArray(services) ? services : [], lang);
        list.dataset.lang = lang;
        setServicesStatus(services.length ? null : "servicesEmpty");
      })
      .catch(function () {
        if (servicesRequest !== controller) return;
        list.textContent = "";
        setServicesStatus("servicesError", true);
      })
      .then(function () {
        clearTimeout(timer);
        if (servicesRequest === controller) {
          servicesRequest = null;
          list.setAttribute("aria-busy", "false");
        }
      });
  }

  function init() {
    GE.config = resolveConfig();
    current = initialLanguage();
    applyStrings();
    Array.prototype.forEach.call(document.querySelectorAll(".lang-switch a[data-lang]"), function (a) {
      a.addEventListener("click", function (event) {
        event.preventDefault();
        setLanguage(a.dataset.lang);
      });
    });
    GE.chat.init({
      lang: current,
      rasaUrl: GE.config.rasaUrl,
      onLanguage: function (lang) { setLanguage(lang, { fromChat: true }); },
    });
    loadServices();
  }

  GE.site = { setLanguage: setLanguage };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
