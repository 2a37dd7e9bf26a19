// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Inbox: "select all" ticks every group checkbox of the bulk form.
  const all = document.querySelector("[data-select-all]");
  if (all) {
    all.closest("[data-needs-js]").hidden = false;
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input.pick[form="bulk"]')) {
        box.checked = all.checked;
      }
    });
  }
});
