/*
 * MioCRM chat box. Paste one tag into any page:
 *   <script src="https://crm.example.com/static/inbox/chatbox.js" async
 *           data-title="Chat with us" data-greeting="Hi! How can we help?"
 *           data-color="#2451c9" data-position="right"></script>
 * It draws a launcher and a chat panel inside a shadow root (so the site's CSS
 * and ours never mix), keeps the conversation across page loads with a token
 * the server issues (localStorage), and polls for staff replies. Everything
 * shown is set with textContent: nothing the visitor or staff typed is HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__mioChatLoaded) return;
  window.__mioChatLoaded = true;

  var cfg = script.dataset;
  var base = (cfg.api || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var api = base + "/chat/api/";
  var storeKey = "miocrm-chat:" + base;
  var openPoll = 3000, closedPoll = 20000;
  var state = load();
  var lastId = 0, timer = null, unread = 0, isOpen = false, starting = null, caughtUp = false;
  var shown = {};

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var out = "";
    for (var i = 0; i < 32; i++) out += Math.floor(Math.random() * 16).toString(16);
    return out;
  }

  // --- layout -------------------------------------------------------------
  var host = el("div", { id: "miocrm-chat" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var color = /^#[0-9a-fA-F]{3,8}$/.test(cfg.color || "") ? cfg.color : "#2451c9";
  var side = cfg.position === "left" ? "left" : "right";
  var style = el("style");
  style.textContent = [
    ":host{all:initial}",
    "[hidden]{display:none!important}",
    "*{box-sizing:border-box;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;border:0;border-radius:28px;",
    "padding:14px 20px;background:" + color + ";color:#fff;font-weight:600;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f2b01e;outline-offset:2px}",
    ".count{display:inline-block;min-width:20px;margin-left:8px;padding:0 6px;border-radius:10px;background:#fff;color:" + color + "}",
    ".panel{position:fixed;bottom:84px;" + side + ":20px;z-index:2147483001;width:360px;max-width:calc(100vw - 24px);",
    "height:520px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;color:#1c2430;",
    "border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.3);overflow:hidden}",
    ".head{display:flex;justify-content:space-between;align-items:center;padding:12px 14px;background:" + color + ";color:#fff}",
    ".head strong{font-weight:700}.close{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9;margin:0;list-style:none}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".msg.visitor{align-self:flex-end;background:" + color + ";color:#fff}",
    ".msg.staff,.msg.note{align-self:flex-start;background:#fff;border:1px solid #dde1e7}",
    ".msg.note{color:#5b6676;font-size:13px}.msg.failed{opacity:.6}",
    ".intro{display:grid;gap:6px;padding:10px 12px;border-top:1px solid #dde1e7;font-size:13px}",
    ".intro input{width:100%;padding:8px;border:1px solid #c5ccd6;border-radius:6px;font-size:16px}",
    ".intro .row{display:flex;gap:6px}.skip,.later{background:none;border:0;color:" + color + ";cursor:pointer;padding:0;text-align:left;font-size:13px}",
    ".later{margin:0 12px 8px;text-decoration:underline}",
    "form.send{display:flex;gap:8px;padding:10px;border-top:1px solid #dde1e7}",
    "form.send textarea{flex:1;resize:none;min-height:44px;max-height:120px;padding:10px;border:1px solid #c5ccd6;border-radius:8px;font-size:16px}",
    "form.send button{border:0;border-radius:8px;padding:0 16px;background:" + color + ";color:#fff;font-weight:600;cursor:pointer}",
    ".error{color:#b42318;font-size:13px;padding:0 12px 8px}",
    "@media (max-width:480px){.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}",
    ".launcher{bottom:12px;" + side + ":12px}}"
  ].join("");
  root.appendChild(style);

  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "mio-panel" });
  var launcherText = el("span", {}, cfg.title || "Chat with us");
  var count = el("span", { class: "count", hidden: "" });
  launcher.appendChild(launcherText);
  launcher.appendChild(count);

  var panel = el("section", { class: "panel", id: "mio-panel", role: "dialog", "aria-label": cfg.title || "Chat", hidden: "" });
  var head = el("div", { class: "head" });
  head.appendChild(el("strong", {}, cfg.title || "Chat with us"));
  var close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "×");
  head.appendChild(close);
  var log = el("ol", { class: "log", "aria-live": "polite" });
  var intro = el("div", { class: "intro" });
  intro.appendChild(el("span", {}, "So we can get back to you (optional):"));
  var nameInput = el("input", { type: "text", name: "name", autocomplete: "name", placeholder: "Your name", "aria-label": "Your name", maxlength: "150" });
  var contactInput = el("input", { type: "text", name: "contact", autocomplete: "email", placeholder: "Email or phone", "aria-label": "Email or phone", maxlength: "254" });
  var skip = el("button", { type: "button", class: "skip" }, "Skip");
  intro.appendChild(nameInput);
  intro.appendChild(contactInput);
  intro.appendChild(skip);
  // Someone who skipped may still leave an address later; it goes with the
  // next message, and joins the chat to what MioCRM knows about them.
  var later = el("button", { type: "button", class: "later", hidden: "" }, "Add your email or phone");
  var error = el("div", { class: "error", role: "alert" });
  var form = el("form", { class: "send" });
  var text = el("textarea", { name: "text", rows: "1", placeholder: "Type your message…", "aria-label": "Your message", maxlength: "4000", required: "" });
  var send = el("button", { type: "submit" }, "Send");
  form.appendChild(text);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(intro);
  panel.appendChild(later);
  panel.appendChild(error);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  if (cfg.greeting) log.appendChild(el("li", { class: "msg note" }, cfg.greeting));
  if (state.introDone) intro.hidden = true;
  nameInput.value = state.name || "";
  contactInput.value = state.contact || "";
  function offerLater() {
    later.hidden = !(state.introDone && !state.email && !state.phone);
  }
  offerLater();

  // --- server -------------------------------------------------------------
  function request(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers["X-Chat-Token"] = state.token;
    return fetch(api + path, {
      method: method, headers: headers, credentials: "omit",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 403 && state.token) {
          // The server no longer knows this token: start a fresh chat.
          state = { introDone: state.introDone, name: state.name, contact: state.contact };
          save();
        }
        if (!response.ok) {
          var err = new Error(data.error || "Something went wrong. Please try again.");
          err.fields = data.fields;
          err.status = response.status;
          throw err;
        }
        return data;
      });
    });
  }
  function ensureToken() {
    if (state.token) return Promise.resolve(state.token);
    if (!starting) {
      starting = request("POST", "session/").then(function (data) {
        state.token = data.token;
        save();
        starting = null;
        return data.token;
      }, function (err) { starting = null; throw err; });
    }
    return starting;
  }

  function show(message) {
    var pending = message.client && log.querySelector('[data-client="' + message.client + '"]');
    if (pending) pending.remove();
    if (shown[message.id]) return;
    shown[message.id] = true;
    lastId = Math.max(lastId, message.id);
    var item = el("li", { class: "msg " + (message.from === "staff" ? "staff" : "visitor"), "data-id": String(message.id) }, message.text);
    // In id order: the visitor's own message may come back after a staff
    // reply that was stored while it was on its way.
    var next = Array.prototype.find.call(log.querySelectorAll("li[data-id]"), function (node) {
      return Number(node.getAttribute("data-id")) > message.id;
    });
    log.insertBefore(item, next || log.querySelector("li[data-client]"));
    log.scrollTop = log.scrollHeight;
    if (message.from === "staff" && !isOpen && caughtUp) {
      unread += 1;
      count.textContent = String(unread);
      count.hidden = false;
    }
  }

  function poll() {
    clearTimeout(timer);
    if (!state.token) { schedule(); return; }
    request("GET", "messages/?after=" + lastId).then(function (data) {
      (data.messages || []).forEach(show);
      caughtUp = true;
    }).catch(function () { /* network blips: try again on the next tick */ }).then(schedule);
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, isOpen ? openPoll : closedPoll);
  }

  function details() {
    var value = (contactInput.value || "").trim();
    var out = { name: (nameInput.value || "").trim(), email: "", phone: "" };
    if (value.indexOf("@") >= 0) out.email = value; else out.phone = value;
    return out;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = text.value.trim();
    if (!body) return;
    error.textContent = "";
    var who = state.introDone ? { name: state.name || "", email: state.email || "", phone: state.phone || "" } : details();
    var clientId = uid().replace(/[^A-Za-z0-9_-]/g, "");
    var pending = el("li", { class: "msg visitor", "data-client": clientId }, body);
    log.appendChild(pending);
    log.scrollTop = log.scrollHeight;
    text.value = "";
    send.disabled = true;
    var message = { text: body, client_id: clientId, name: who.name, email: who.email, phone: who.phone };
    function post() {
      return ensureToken().then(function () { return request("POST", "messages/", message); });
    }
    post().catch(function (err) {
      // A token the server forgot was dropped by request(): once more, anew.
      if (err.status === 403) return post();
      throw err;
    }).then(function (data) {
      state.introDone = true;
      state.name = who.name; state.email = who.email; state.phone = who.phone;
      state.contact = contactInput.value;
      save();
      intro.hidden = true;
      offerLater();
      data.message.client = clientId;
      show(data.message);
      poll();
    }).catch(function (err) {
      pending.classList.add("failed");
      text.value = body;
      var fields = err.fields || {};
      var first = fields.email || fields.phone || fields.text || fields.name;
      // fetch() rejects with a TypeError when the network is down.
      var offline = err instanceof TypeError;
      error.textContent = first ? first[0] : offline ? "Could not reach us. Please try again in a moment." : err.message;
      pending.remove();
    }).then(function () { send.disabled = false; });
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  skip.addEventListener("click", function () {
    intro.hidden = true;
    state.introDone = true;
    save();
    offerLater();
    text.focus();
  });
  later.addEventListener("click", function () {
    state.introDone = false;
    save();
    intro.hidden = false;
    offerLater();
    contactInput.focus();
  });

  function setOpen(open) {
    isOpen = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      unread = 0;
      count.hidden = true;
      (intro.hidden ? text : nameInput).focus();
      log.scrollTop = log.scrollHeight;
    }
    poll();
  }
  launcher.addEventListener("click", function () { setOpen(!isOpen); });
  close.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  function mount() {
    document.body.appendChild(host);
    poll();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
