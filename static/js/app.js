// The little JavaScript parro needs; everything works without it.
"use strict";

// Activities: the schedule's print button (hidden without JavaScript; Ctrl+P works too).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
