// Quote lines: "+ Add line" adds an empty row from the formset's template.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-line]");
    if (!button) return;
    var total = document.getElementById("id_lines-TOTAL_FORMS");
    var template = document.getElementById("line-template");
    var body = document.querySelector("[data-formset=lines] tbody");
    if (!total || !template || !body) return;
    var index = Number(total.value);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = body.lastElementChild.querySelector("input");
    if (first) first.focus();
  });
})();
