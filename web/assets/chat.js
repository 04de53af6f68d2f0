// The chat widget: talks to Rasa's socket.io channel (bot/credentials.yml: user_uttered /
// bot_uttered, session_persistence). The session id and the transcript live in localStorage,
// so a reload (or a new tab) continues the same conversation; "New conversation" forgets both.
(function () {
  "use strict";

  var STORE_KEY = "ge.chat.v1";
  var OPEN_KEY = "ge.chat.open";
  var MAX_MESSAGES = 200;
  // A conversation left alone this long starts afresh (and its personal details leave the device).
  var MAX_IDLE_MS = 24 * 60 * 60 * 1000;
  var TYPING_MAX_MS = 25000;
  var TYPING_QUIET_MS = 700;
  var ARABIC = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/g;
  var LATIN = /[A-Za-z\u00C0-\u024F]/g;
  var LINK = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]|\b(?:[a-z0-9-]+\.)+ma\b(?:\/[^\s<>"]*[^\s<>".,;:!?)\]])?)/gi;

  var GE = (window.GE = window.GE || {});
  var el = {};
  var state = {
    lang: "fr",
    rasaUrl: "",
    socket: null,
    ready: false,
    offline: false,
    sessionId: null,
    started: false,
    messages: [],
    queue: [],
    typingTimer: null,
    quietTimer: null,
    statusTimer: null,
    onLanguage: null,
    turnStart: null,
  };

  function t(key, vars) {
    return GE.t(state.lang, key, vars);
  }

  // ---- storage (private browsing may refuse it: the widget then works without memory) ----

  function readJson(storage, key) {
    try {
      var raw = storage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (err) {
      return null;
    }
  }

  function writeStorage(storage, key, value) {
    try {
      if (value == null) storage.removeItem(key);
      else storage.setItem(key, typeof value === "string" ? value : JSON.stringify(value));
    } catch (err) {
      /* storage full or refused: the conversation simply will not survive a reload */
    }
  }

  function save() {
    if (state.messages.length > MAX_MESSAGES) state.messages = state.messages.slice(-MAX_MESSAGES);
    writeStorage(window.localStorage, STORE_KEY, {
      sessionId: state.sessionId,
      started: state.started,
      messages: state.messages,
      savedAt: Date.now(),
    });
  }

  function load() {
    var stored = readJson(window.localStorage, STORE_KEY);
    if (!stored || typeof stored.sessionId !== "string" || Date.now() - (stored.savedAt || 0) > MAX_IDLE_MS) {
      writeStorage(window.localStorage, STORE_KEY, null);
      return;
    }
    state.sessionId = stored.sessionId;
    state.started = !!stored.started;
    state.messages = Array.isArray(stored.messages) ? stored.messages : [];
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- text helpers ----

  // Right-to-left when Arabic letters outnumber Latin ones ("RDV f الرباط" stays left-to-right).
  function directionOf(text) {
    var arabic = (String(text).match(ARABIC) || []).length;
    var latin = (String(text).match(LATIN) || []).length;
    return arabic > latin ? "rtl" : "ltr";
  }

  function langTagFor(dir) {
    if (dir === "rtl") return state.lang === "ary" ? "ary" : "ar";
    return state.lang === "ary_latn" ? "ary-Latn" : "fr";
  }

  // Folds what people vary when typing an option: case, accents, harakat, tatweel, alef and
  // yaa/taa-marbuta forms, punctuation, spaces.
  function fold(text) {
    return String(text)
      .normalize("NFKD")
      .replace(/[\u0300-\u036f\u064B-\u065F\u0670\u06D6-\u06ED]/g, "")
      .replace(/\u0640/g, "")
      .replace(/[\u0622\u0623\u0625\u0671]/g, "\u0627")
      .replace(/\u0649/g, "\u064A")
      .replace(/\u0629/g, "\u0647")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, " ")
      .trim();
  }

  // "2", "٢", "۲", "2." or "(2)" -> 2; anything else -> null.
  function optionNumber(text) {
    var digits = String(text)
      .trim()
      .replace(/[\u0660-\u0669]/g, function (d) { return String(d.charCodeAt(0) - 0x0660); })
      .replace(/[\u06F0-\u06F9]/g, function (d) { return String(d.charCodeAt(0) - 0x06F0); });
    var match = /^\(?\s*(\d{1,2})\s*[.)\-]?\s*$/.exec(digits);
    return match ? parseInt(match[1], 10) : null;
  }

  // The button a typed reply stands for, among the latest unanswered choices, or null.
  function buttonForTyped(text) {
    var offer = null;
    for (var i = state.messages.length - 1; i >= 0; i--) {
      var m = state.messages[i];
      if (m.from === "user") break;
      if (m.buttons && m.buttons.length && !m.answered) { offer = m; break; }
    }
    if (!offer) return null;
    var n = optionNumber(text);
    if (n !== null) return n >= 1 && n <= offer.buttons.length ? offer.buttons[n - 1] : null;
    var typed = fold(text);
    if (!typed) return null;
    var exact = offer.buttons.filter(function (b) { return fold(b.title) === typed; });
    if (exact.length === 1) return exact[0];
    if (typed.length < 4) return null;
    var padded = " " + typed + " ";
    var within = offer.buttons.filter(function (b) { return (" " + fold(b.title) + " ").indexOf(padded) !== -1; });
    return within.length === 1 ? within[0] : null;
  }

  function appendText(parent, text) {
    var lines = String(text).split("\n");
    lines.forEach(function (line, index) {
      if (index) parent.appendChild(document.createElement("br"));
      var last = 0;
      line.replace(LINK, function (url, _group, offset) {
        if (offset > last) parent.appendChild(document.createTextNode(line.slice(last, offset)));
        var a = document.createElement("a");
        a.href = /^https?:/i.test(url) ? url : "https://" + url;
        a.textContent = url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
        last = offset + url.length;
        return url;
      });
      if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
    });
  }

  // ---- rendering ----

  function renderMessage(message, index) {
    var li = document.createElement("li");
    li.className = "msg msg-" + message.from;
    li.dataset.index = String(index);
    var dir = directionOf(message.text || (message.buttons && message.buttons[0] && message.buttons[0].title) || "");
    li.dir = dir;
    li.lang = langTagFor(dir);

    var who = document.createElement("span");
    who.className = "visually-hidden sender";
    who.dataset.sender = message.from;
    who.textContent = message.from === "user" ? t("chatYou") : t("chatBot");
    li.appendChild(who);

    if (message.text) {
      var bubble = document.createElement("p");
      bubble.className = "bubble";
      appendText(bubble, message.text);
      li.appendChild(bubble);
    }
    if (message.image) {
      var img = document.createElement("img");
      img.src = message.image;
      img.alt = "";
      img.className = "bubble-image";
      li.appendChild(img);
    }
    if (message.buttons && message.buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("chatChoices"));
      message.buttons.forEach(function (button, i) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.dir = directionOf(button.title);
        var num = document.createElement("span");
        num.className = "choice-num";
        num.textContent = String(i + 1);
        var label = document.createElement("span");
        label.className = "choice-label";
        label.textContent = button.title;
        b.appendChild(num);
        b.appendChild(label);
        b.disabled = !!message.answered;
        b.addEventListener("click", function () {
          sendChoice(button);
        });
        group.appendChild(b);
      });
      li.appendChild(group);
    }
    return li;
  }

  function renderAll() {
    state.turnStart = null;
    el.log.textContent = "";
    state.messages.forEach(function (m, i) { el.log.appendChild(renderMessage(m, i)); });
    scrollToEnd();
  }

  function addMessage(message) {
    state.messages.push(message);
    save();
    var li = renderMessage(message, state.messages.length - 1);
    el.log.appendChild(li);
    if (message.from === "user") {
      state.turnStart = null;
      scrollToEnd();
      return;
    }
    // A long answer (a list, then its buttons) is read from its beginning: scroll to the end,
    // but never past the first message of the bot's answer.
    if (!state.turnStart) state.turnStart = li;
    var top = state.turnStart.getBoundingClientRect().top - el.log.getBoundingClientRect().top + el.log.scrollTop - 8;
    el.log.scrollTop = Math.max(0, top); // the browser stops at the end when the answer fits
  }

  function markChoicesAnswered() {
    var changed = false;
    state.messages.forEach(function (m) {
      if (m.buttons && m.buttons.length && !m.answered) { m.answered = true; changed = true; }
    });
    if (!changed) return;
    Array.prototype.forEach.call(el.log.querySelectorAll(".choice"), function (b) { b.disabled = true; });
  }

  function scrollToEnd() {
    el.log.scrollTop = el.log.scrollHeight;
  }

  function setStatus(key, kind, transient) {
    clearTimeout(state.statusTimer);
    el.status.dataset.key = key || "";
    el.status.dataset.kind = kind || "";
    el.status.textContent = key ? t(key) : "";
    el.status.hidden = !key;
    if (transient) {
      state.statusTimer = setTimeout(function () { setStatus(null); }, 4000);
    }
  }

  function showTyping() {
    el.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_MAX_MS);
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    clearTimeout(state.quietTimer);
    el.typing.hidden = true;
  }

  function syncInputDirection() {
    var text = el.input.value;
    el.input.dir = text.trim() ? directionOf(text) : GE.LANGUAGES[state.lang].dir;
  }

  function applyStrings() {
    Array.prototype.forEach.call(el.root.querySelectorAll(".sender"), function (span) {
      span.textContent = span.dataset.sender === "user" ? t("chatYou") : t("chatBot");
    });
    Array.prototype.forEach.call(el.root.querySelectorAll(".choices"), function (group) {
      group.setAttribute("aria-label", t("chatChoices"));
    });
    Array.prototype.forEach.call(el.langButtons, function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.chatLang === state.lang));
    });
    if (el.status.dataset.key) el.status.textContent = t(el.status.dataset.key);
    syncInputDirection();
  }

  // ---- socket.io ----

  function socketTarget(url) {
    var parsed = new URL(url);
    var prefix = parsed.pathname.replace(/\/+$/, "");
    return { origin: parsed.origin, path: prefix + "/socket.io" };
  }

  function connect() {
    if (state.socket) return;
    if (typeof window.io !== "function") {
      state.offline = true;
      setStatus("chatOffline", "error");
      return;
    }
    if (!state.sessionId) state.sessionId = newSessionId();
    var target = socketTarget(state.rasaUrl);
    setStatus("chatConnecting", "info");
    var socket = window.io(target.origin, {
      path: target.path,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 8000,
      timeout: 10000,
    });
    state.socket = socket;

    socket.on("connect", function () {
      // Every new connection (first one or after a drop) joins the conversation's room again.
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (data) {
      var id = typeof data === "string" ? data : data && data.session_id;
      if (id && id !== state.sessionId) return;
      var wasOffline = state.offline;
      state.ready = true;
      state.offline = false;
      el.root.dataset.connection = "ready";
      if (wasOffline) setStatus("chatBack", "ok", true);
      else setStatus(null);
      if (!state.started) {
        state.started = true;
        save();
        emit('/greet{"language":"' + state.lang + '"}');
        showTyping();
      }
      flushQueue();
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function (reason) {
      state.ready = false;
      el.root.dataset.connection = "down";
      if (reason === "io client disconnect") return;
      goOffline();
    });
    socket.on("connect_error", function () {
      state.ready = false;
      el.root.dataset.connection = "down";
      goOffline();
    });
  }

  function goOffline() {
    hideTyping();
    if (!state.offline) {
      state.offline = true;
      setStatus("chatOffline", "error");
    }
  }

  function emit(text) {
    state.socket.emit("user_uttered", {
      message: text,
      session_id: state.sessionId,
      metadata: { channel: "web", page_language: state.lang },
    });
  }

  function flushQueue() {
    var queued = state.queue;
    state.queue = [];
    queued.forEach(function (text) { emit(text); });
    if (queued.length) showTyping();
  }

  // Sends now when connected, waits for the connection while it is being made, and refuses
  // (keeping the user's text) when the bot is known to be unreachable.
  function deliver(text) {
    if (state.ready) {
      emit(text);
      showTyping();
      return true;
    }
    if (state.offline) {
      setStatus("chatNotSent", "error");
      return false;
    }
    state.queue.push(text);
    connect();
    return true;
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") return;
    var message = { from: "bot", text: typeof data.text === "string" ? data.text : "" };
    var buttons = data.quick_replies || data.buttons || [];
    if (Array.isArray(buttons) && buttons.length) {
      message.buttons = buttons
        .filter(function (b) { return b && b.title != null && b.payload != null; })
        .map(function (b) { return { title: String(b.title), payload: String(b.payload) }; });
    }
    var attachment = data.attachment;
    if (attachment && attachment.type === "image" && attachment.payload && /^https?:/i.test(attachment.payload.src || "")) {
      message.image = attachment.payload.src;
    }
    if (!message.text && !message.image && !(message.buttons && message.buttons.length)) return;
    addMessage(message);
    // Several bot messages may follow one another: keep the indicator until they stop coming.
    clearTimeout(state.quietTimer);
    state.quietTimer = setTimeout(hideTyping, TYPING_QUIET_MS);
  }

  // ---- user actions ----

  function sendChoice(button) {
    if (!deliver(button.payload)) return;
    markChoicesAnswered();
    addMessage({ from: "user", text: button.title });
    el.input.focus();
  }

  function onSubmit(event) {
    event.preventDefault();
    var text = el.input.value.trim();
    if (!text) return;
    var button = buttonForTyped(text);
    if (!deliver(button ? button.payload : text)) return;
    markChoicesAnswered();
    addMessage({ from: "user", text: text });
    el.input.value = "";
    syncInputDirection();
    el.input.focus();
  }

  function chooseLanguage(lang, fromPage) {
    if (!GE.LANGUAGES[lang]) return;
    var changed = lang !== state.lang;
    state.lang = lang;
    applyStrings();
    if (!fromPage && state.onLanguage) state.onLanguage(lang);
    // The page's language switch tells the bot only once a conversation exists; before that,
    // the greeting itself carries the language.
    if (!state.started || (fromPage && !changed)) return;
    if (deliver('/choose_language{"language":"' + lang + '"}')) {
      markChoicesAnswered();
      addMessage({ from: "user", text: GE.LANGUAGES[lang].name });
    }
  }

  function open(options) {
    el.root.hidden = false;
    el.launcher.hidden = true;
    el.launcher.setAttribute("aria-expanded", "true");
    writeStorage(window.sessionStorage, OPEN_KEY, "1");
    connect();
    scrollToEnd();
    if (!options || options.focus !== false) el.input.focus();
  }

  function close() {
    el.root.hidden = true;
    el.launcher.hidden = false;
    el.launcher.setAttribute("aria-expanded", "false");
    writeStorage(window.sessionStorage, OPEN_KEY, null);
    el.launcher.focus();
  }

  function newConversation() {
    hideTyping();
    state.messages = [];
    state.queue = [];
    state.started = false;
    state.sessionId = newSessionId();
    save();
    renderAll();
    if (state.socket) {
      // A new connection leaves the old conversation's room behind.
      state.ready = false;
      state.socket.disconnect();
      state.socket.connect();
    } else {
      connect();
    }
    el.input.focus();
  }

  function init(options) {
    state.lang = options.lang;
    state.rasaUrl = options.rasaUrl;
    state.onLanguage = options.onLanguage || null;
    el.root = document.getElementById("chat");
    el.launcher = document.getElementById("chat-launcher");
    el.log = document.getElementById("chat-log");
    el.status = document.getElementById("chat-status");
    el.typing = document.getElementById("chat-typing");
    el.form = document.getElementById("chat-form");
    el.input = document.getElementById("chat-input");
    el.langButtons = el.root.querySelectorAll("[data-chat-lang]");
    el.status.hidden = true;

    load();
    renderAll();
    applyStrings();

    Array.prototype.forEach.call(document.querySelectorAll("[data-open-chat]"), function (b) {
      b.addEventListener("click", function () { open(); });
    });
    document.getElementById("chat-close").addEventListener("click", close);
    document.getElementById("chat-new").addEventListener("click", newConversation);
    el.form.addEventListener("submit", onSubmit);
    // The field writes right-to-left for Arabic script, left-to-right otherwise, as one types.
    el.input.addEventListener("input", syncInputDirection);
    el.root.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    Array.prototype.forEach.call(el.langButtons, function (b) {
      b.addEventListener("click", function () { chooseLanguage(b.dataset.chatLang, false); });
    });

    if (window.sessionStorage && readJson(window.sessionStorage, OPEN_KEY) === 1) open({ focus: false });
  }

  GE.chat = {
    init: init,
    open: open,
    close: close,
    // The page's language switch: the widget follows, and tells the bot if a conversation exists.
    setLanguage: function (lang) { chooseLanguage(lang, true); },
    // A request made from the page (a service's "book" button): opens the widget and sends it.
    request: function (payload, label) {
      open();
      if (deliver(payload)) {
        markChoicesAnswered();
        addMessage({ from: "user", text: label });
      }
    },
  };
})();
