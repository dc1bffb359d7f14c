// Prospect lists: select all rows, export the selected ones, tidy URLs.
(function () {
  "use strict";

  // Filters left empty stay out of the address that htmx pushes, so a
  // bookmarked or shared list reads "?source=sms&period=30d".
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest("[data-list-filters]")) return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (name) {
      if (params[name] === "") delete params[name];
    });
  });

  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var form = all.closest("form");
    form.querySelectorAll("input[name=ids]").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // The source menu's button says how many sources are chosen; htmx only
  // swaps the table, so it is kept up to date here.
  document.addEventListener("change", function (event) {
    var menu = event.target.closest("[data-source-menu]");
    if (!menu) return;
    var chosen = menu.querySelectorAll("input[type=checkbox]:checked").length;
    menu.querySelector("summary").textContent =
      chosen ? chosen + " selected" : "All sources";
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-export-selected]");
    if (!button) return;
    var form = button.closest("form");
    var ids = Array.prototype.map.call(
      form.querySelectorAll("input[name=ids]:checked"),
      function (box) { return "ids=" + encodeURIComponent(box.value); }
    );
    if (!ids.length) {
      window.alert("Select at least one row to export.");
      return;
    }
    window.location.href = button.dataset.exportSelected + "&" + ids.join("&");
  });
})();
