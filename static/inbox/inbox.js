// Inbox: keep the open thread scrolled to its newest message, unless staff
// scrolled up to read older ones while the thread refreshed.
(function () {
  "use strict";
  var stick = true;

  function thread() { return document.getElementById("thread-messages"); }
  function toBottom() {
    var box = thread();
    if (box && stick) box.scrollTop = box.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = thread();
    if (!box) return;
    box.addEventListener("scroll", function () {
      stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    });
    toBottom();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "thread-messages") toBottom();
  });
})();
