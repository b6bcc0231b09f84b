// Meldingen op deze telefoon (templates/auth/push_devices.html): register the service
// worker, ask for permission, subscribe with the server's VAPID key and send the
// subscription. Without JavaScript or Push support the page's own text says so.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var card = document.getElementById("push-here");
  if (!card) return;
  var $ = function (sel) { return card.querySelector(sel); };
  var status = $(".js-push-status");
  var button = $(".js-push-enable");

  function show(sel) {
    [".js-push-unsupported", ".js-push-ios", ".js-push-denied", ".js-push-on"].forEach(function (s) {
      $(s).hidden = s !== sel;
    });
  }

  var ios = /iPhone|iPad|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  var installed = window.navigator.standalone === true ||
    window.matchMedia("(display-mode: standalone)").matches;
  var supported = "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window;

  if (ios && !installed && !supported) { show(".js-push-ios"); return; }
  if (!supported) { show(".js-push-unsupported"); return; }
  if (Notification.permission === "denied") { show(".js-push-denied"); return; }
  show(null);

  function keyBytes(base64url) {
    var text = base64url.replace(/-/g, "+").replace(/_/g, "/");
    text += "===".slice((text.length + 3) % 4);
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, key) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return true;
    var a = new Uint8Array(current);
    if (a.length !== key.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== key[i]) return false;
    return true;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("data-hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }

  var key = keyBytes(card.getAttribute("data-public-key"));

  function subscription(registration) {
    return registration.pushManager.getSubscription().then(function (existing) {
      if (existing && sameKey(existing, key)) return existing;
      var gone = existing ? existing.unsubscribe() : Promise.resolve();
      return gone.then(function () {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
    });
  }

  function turnOn() {
    button.disabled = true;
    status.textContent = "";
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show(permission === "denied" ? ".js-push-denied" : null);
        button.disabled = false;
        return null;
      }
      return navigator.serviceWorker.register("/sw.js", { scope: "/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(subscription)
        .then(function (sub) {
          return fetch(card.getAttribute("data-subscribe-url"), {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify(sub.toJSON()),
          });
        })
        .then(function (response) {
          return response.json().catch(function () { return { ok: false }; }).then(function (body) {
            status.textContent = body.message || button.getAttribute("data-failed") || "";
            if (body.ok) window.location.reload();
            else button.disabled = false;
          });
        });
    }).catch(function (error) {
      status.textContent = String(error && error.message || error);
      button.disabled = false;
    });
  }

  button.hidden = false;
  button.addEventListener("click", turnOn);
  // Already on here? Say so (the list below shows it too); the button stays to send again.
  navigator.serviceWorker.getRegistration("/").then(function (registration) {
    return registration && registration.pushManager.getSubscription();
  }).then(function (sub) {
    var known = Array.prototype.some.call(document.querySelectorAll("[data-endpoint]"),
      function (li) { return sub && li.getAttribute("data-endpoint") === sub.endpoint; });
    if (known && Notification.permission === "granted") show(".js-push-on");
  }).catch(function () {});
});
