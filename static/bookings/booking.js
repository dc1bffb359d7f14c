// Booking page: save what the visitor types as a draft, so a visit that
// ends before "Book now" can still be followed up. The final submit is a
// plain form post and works without this script.
(function () {
  "use strict";

  var form = document.getElementById("booking-form");
  if (!form) return;
  // After a refused submit, start where the problems are listed.
  var summary = document.getElementById("form-errors");
  if (summary) summary.focus();
  if (!window.fetch) return;
  var url = form.dataset.draftUrl;
  var timer = null;
  var lastSent = "";
  // One save at a time, so that they reach the server in the order typed.
  // (The page came with the draft's cookie: every save names one draft.)
  var inFlight = false;
  var again = false;

  function hasContact() {
    return Boolean(form.elements.email.value.trim() || form.elements.phone.value.trim());
  }

  function payload() {
    var data = new FormData(form);
    data.delete("action");
    return data;
  }

  function fingerprint(data) {
    var parts = [];
    data.forEach(function (value, key) { parts.push(key + "=" + value); });
    return parts.join("&");
  }

  function save(useBeacon) {
    window.clearTimeout(timer);
    if (!hasContact()) return;
    if (inFlight && !useBeacon) {
      again = true;
      return;
    }
    var data = payload();
    var print = fingerprint(data);
    if (print === lastSent) return;
    lastSent = print;
    if (useBeacon && navigator.sendBeacon) {
      navigator.sendBeacon(url, data);
      return;
    }
    inFlight = true;
    fetch(url, { method: "POST", body: data, credentials: "same-origin", keepalive: true })
      .catch(function () { lastSent = ""; })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          save(false);
        }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { save(false); }, 700);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  // A new service or day swaps the choice section: say what is shown now
  // (the swapped section cannot announce itself) and save the new choice.
  var status = document.getElementById("choice-status");
  document.body.addEventListener("htmx:afterSwap", function () {
    var shown = document.querySelector("#booking-choice [data-status]");
    if (status && shown) status.textContent = shown.dataset.status;
    later();
  });
  // Leaving or hiding the page: one last save that survives the unload.
  window.addEventListener("pagehide", function () { save(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") save(true);
  });
  // A finished booking is not a draft to save on the way out.
  form.addEventListener("submit", function () {
    window.clearTimeout(timer);
    lastSent = fingerprint(payload());
  });
})();
