// The little JavaScript parro needs; everything works without it.
"use strict";

// Polling regions (data-poll) skip their request while the tab is hidden,
// and refresh at once when it is shown again.
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.hidden && event.detail.elt.hasAttribute("data-poll")) {
    event.preventDefault();
  }
});
document.addEventListener("visibilitychange", function () {
  if (document.hidden || !window.htmx) return;
  document.querySelectorAll("[data-poll]").forEach(function (elt) {
    window.htmx.trigger(elt, "parro:visible");

// Activities: the schedule's print button (hidden without JavaScript; Ctrl+P works too).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
