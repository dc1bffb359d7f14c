// Staff pages: keyboard shortcuts, confirmations, relative times, menus.
(function () {
  "use strict";

  // "/" focuses the page's search box; Esc closes open menus and dialogs.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing) {
      var search = document.querySelector("main [data-search]") ||
        document.querySelector("[data-global-search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    }
    if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
      });
    }
  });

  // Close a menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Destructive forms carry data-confirm="Question?" and ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // htmx requests ask too, through hx-confirm (native), and carry CSRF.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("meta[name=csrf-token]");
    if (token) event.detail.headers["X-CSRFToken"] = token.content;
  });

  // <time data-relative datetime="..."> shows "3 h ago" with the exact time on hover.
  var units = [["y", 31536000], ["mo", 2592000], ["d", 86400], ["h", 3600], ["min", 60]];
  function relative(seconds) {
    var future = seconds < 0;
    var abs = Math.abs(seconds);
    if (abs < 60) return future ? "in a moment" : "just now";
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][1]) {
        var n = Math.floor(abs / units[i][1]) + " " + units[i][0];
        return future ? "in " + n : n + " ago";
      }
    }
    return "";
  }
  function refreshTimes(root) {
    (root || document).querySelectorAll("time[data-relative]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = relative((Date.now() - when) / 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { refreshTimes(); });
  document.addEventListener("htmx:afterSwap", function (event) { refreshTimes(event.target); });
  document.addEventListener("htmx:oobAfterSwap", function (event) { refreshTimes(event.detail.target); });
  setInterval(refreshTimes, 60000);

  // The narrow-screen navigation toggle.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (!toggle) return;
    var bar = toggle.closest(".topbar");
    var open = bar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
