// parro's service worker: shows pushes and opens their page. It caches nothing: no page
// and no data stays on the device, nothing goes stale (parro/push.py sends the pushes).
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function sameOriginUrl(value) {
  try {
    var url = new URL(value || "/", self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + "/";
  } catch (e) {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: event.data ? event.data.text() : "" };
  }
  var title = data.title || "parro";
  var options = {
    body: data.body || "",
    icon: "/static/img/icon-192.png",
    badge: "/static/img/icon-192.png",
    data: { url: sameOriginUrl(data.url) },
    lang: data.lang || "nl",
  };
  if (data.tag) {
    options.tag = data.tag; // several posts from one group: one notification
    options.renotify = true;
  }
  var work = [self.registration.showNotification(title, options)];
  // The app icon's badge (Badging API): the count when the push carries one, else a dot.
  if (self.navigator && self.navigator.setAppBadge) {
    var badge = typeof data.badge === "number" ? self.navigator.setAppBadge(data.badge)
                                               : self.navigator.setAppBadge();
    work.push(badge.catch(function () {}));
  }
  event.waitUntil(Promise.all(work));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        var client = list[i];
        if (new URL(client.url).origin === self.location.origin && "focus" in client) {
          return client.focus().then(function (focused) {
            return focused && focused.navigate ? focused.navigate(target) : focused;
          });
        }
      }
      return self.clients.openWindow(target);
    })
  );
});
