// The little JavaScript parro needs; everything works without it.
"use strict";

// Activities: the schedule's print button (hidden without JavaScript; Ctrl+P works too).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});

// Polling (open conversations, the unread count in the navigation).
//
// Our CSP disables eval, so htmx trigger filters such as
// `every 3s [document.visibilityState=='visible']` cannot run. Instead an element
// that wants polling carries data-hx-get, data-hx-trigger="parro:poll" and
// data-poll="<seconds>", and this timer fires that event:
//  - only while the tab is visible: a hidden tab sends nothing; coming back
//    polls at once;
//  - every <seconds> while something happens; after a minute without news and
//    without the user typing or clicking, each empty answer (204) makes the
//    next wait half as long again, up to ten times <seconds> (3 s becomes 30 s);
//    news, typing, clicking or coming back to the tab resets it;
//  - never again for an element whose poll was refused (401, 403, 404).
// Swapped-in replacements keep their schedule: it is kept by element id.
(function () {
  var IDLE_AFTER = 60 * 1000;
  var MAX_FACTOR = 10;
  var schedule = {}; // element id -> {due: ms, factor: n}
  var lastActivity = Date.now();

  function base(el) {
    return (parseFloat(el.getAttribute("data-poll")) || 3) * 1000;
  }

  function entry(el, now) {
    if (!schedule[el.id]) schedule[el.id] = { due: now + base(el), factor: 1 };
    return schedule[el.id];
  }

  function tick() {
    if (document.visibilityState !== "visible" || !window.htmx) return;
    var now = Date.now();
    document.querySelectorAll("[data-poll][id]").forEach(function (el) {
      var s = entry(el, now);
      if (now >= s.due) {
        s.due = now + base(el) * s.factor;
        window.htmx.trigger(el, "parro:poll");
      }
    });
  }

  function wakeUp(pollNow) {
    var now = Date.now();
    lastActivity = now;
    document.querySelectorAll("[data-poll][id]").forEach(function (el) {
      var s = entry(el, now);
      s.factor = 1;
      s.due = pollNow ? now : Math.min(s.due, now + base(el));
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      wakeUp(true);
      tick();
    }
  });
  ["keydown", "pointerdown"].forEach(function (type) {
    document.addEventListener(type, function () { wakeUp(false); }, { passive: true });
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-poll")) return;
    var s = schedule[el.id];
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!s) return;
    if (status === 200) {
      wakeUp(false);
    } else if (status === 204) {
      if (Date.now() - lastActivity > IDLE_AFTER) s.factor = Math.min(s.factor * 1.5, MAX_FACTOR);
    } else if (status === 401 || status === 403 || status === 404) {
      el.removeAttribute("data-poll");
      var now = document.getElementById(el.id);
      if (now) now.removeAttribute("data-poll");
    }
  });

  setInterval(tick, 500);
})();

// Messages arriving out of band: a message already on the page (edited, or sent
// and polled at the same moment) replaces its old copy instead of appearing twice;
// the newest message scrolls into view when the reader was at the bottom.
(function () {
  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "messages") return;
    event.detail.fragment.querySelectorAll("li[id^='message-']").forEach(function (li) {
      var old = document.getElementById(li.id);
      if (old) {
        old.replaceWith(li);
        window.htmx.process(li);
      }
    });
    target.dataset.follow = nearBottom() ? "1" : "";
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "messages" || !target.dataset.follow) return;
    var last = target.lastElementChild;
    if (last) last.scrollIntoView({ block: "end" });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var messages = document.getElementById("messages");
    if (messages && !window.location.hash && messages.lastElementChild) {
      messages.lastElementChild.scrollIntoView({ block: "center" });
    }
  });
})();

// After a message is sent with htmx, the new (empty) send box gets the focus back.
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "chat-compose") {
    var box = document.querySelector("#chat-compose textarea");
    if (box) box.focus();
  }
});

// -- Upload progress (feed posts, announcements) ------------------------------
// Forms marked data-upload are sent by htmx (data-hx-post with multipart encoding),
// which reports the upload's progress as htmx:xhr:progress events. We show it,
// then a "processing" message while the server resizes the photos.
(function () {
  function parts(form) {
    var box = form.querySelector(".upload-progress");
    return box && { box: box, bar: box.querySelector("progress"), status: box.querySelector(".upload-status") };
  }
  function uploadForm(event) {
    var form = event.target && event.target.closest && event.target.closest("form[data-upload]");
    return form && parts(form) ? form : null;
  }
  function hasFiles(form) {
    return Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (input) {
      return input.files && input.files.length > 0;
    });
  }
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var p = parts(form);
    form.dataset.processing_shown = "";
    p.box.hidden = !hasFiles(form);
    p.bar.value = 0;
    p.bar.removeAttribute("aria-hidden");
    p.status.textContent = form.dataset.uploading;
    p.box.classList.remove("upload-failed");
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    if (!form || form.dataset.processing_shown || !event.detail.lengthComputable) return;
    var p = parts(form);
    var percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    p.bar.value = percent;
    p.status.textContent = form.dataset.uploading + " " + percent + "%";
    if (event.detail.loaded >= event.detail.total) {
      // Everything is sent; now the server works (the next events are the answer coming in).
      form.dataset.processing_shown = "yes";
      p.bar.removeAttribute("value"); // an indeterminate bar
      p.status.textContent = form.dataset.processing;
    }
  });
  function failed(event, message) {
    var form = uploadForm(event);
    if (!form) return;
    var p = parts(form);
    p.box.hidden = false;
    p.box.classList.add("upload-failed");
    p.bar.value = 0;
    p.bar.setAttribute("aria-hidden", "true");
    p.status.textContent = message(form);
  }
  document.addEventListener("htmx:responseError", function (event) {
    failed(event, function (form) {
      return event.detail.xhr.status === 413 ? form.dataset.tooLarge : form.dataset.failed;
    });
  });
  document.addEventListener("htmx:sendError", function (event) {
    failed(event, function (form) { return form.dataset.failed; });
  });
})();

// -- Feedback for every htmx action -------------------------------------------
// While a request is under way its element is aria-busy (the stylesheet shows a
// spinner) and a form's submit buttons are disabled, so a second tap sends nothing.
// Polls stay quiet. Messages the server flashed arrive as the `parro:flash` event
// (HX-Trigger header, see parro/feedback.py) and go into the status region.
(function () {
  function buttons(el) {
    return el.tagName === "FORM" ? el.querySelectorAll("button:not([type=button])") : [];
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail.elt;
    if (!el || el.hasAttribute("data-poll")) return;
    el.setAttribute("aria-busy", "true");
    buttons(el).forEach(function (b) { b.disabled = true; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.detail.elt;
    if (!el || !el.hasAttribute("aria-busy")) return;
    el.removeAttribute("aria-busy");
    buttons(el).forEach(function (b) { b.disabled = false; });
  });

  var timer = null;
  document.addEventListener("parro:flash", function (event) {
    var region = document.getElementById("flashes");
    if (!region || !event.detail || !event.detail.messages) return;
    region.textContent = "";
    event.detail.messages.forEach(function (m) {
      var p = document.createElement("p");
      p.className = "flash flash-" + m[0];
      p.textContent = m[1];
      region.appendChild(p);
    });
    region.classList.add("toast");
    clearTimeout(timer);
    timer = setTimeout(function () {
      region.textContent = "";
      region.classList.remove("toast");
    }, 6000);
  });
})();

// -- Relative times ---------------------------------------------------------------
// The server writes a form that only changes with the date, "vandaag om 14:05"
// (parro/i18n.py), so that pages can be kept for the day. Times of today carry
// data-fresh; here they say "zojuist" or "5 minuten geleden", kept true every minute,
// on new content too.
(function () {
  if (!window.Intl || !Intl.RelativeTimeFormat) return;
  var root = document.documentElement;
  var format = new Intl.RelativeTimeFormat(root.lang || "nl");
  function update(scope) {
    (scope || document).querySelectorAll("time[data-fresh]").forEach(function (el) {
      var minutes = Math.floor((Date.now() - Date.parse(el.dateTime)) / 60000);
      if (minutes < 0 || minutes >= 24 * 60) return;
      el.textContent = minutes < 1 ? root.getAttribute("data-just-now")
        : minutes < 60 ? format.format(-minutes, "minute")
        : format.format(-Math.floor(minutes / 60), "hour");
    });
  }
  update();
  document.addEventListener("htmx:load", function (event) { update(event.detail.elt); });
  setInterval(update, 60000);
})();

// The photo viewer (templates/feed/photo.html): swipe left or right on the photo, or press
// the arrow keys, for the next or previous photo; Escape closes it. Without JavaScript the
// links do the same.
(function () {
  function go(viewer, which) {
    var link = viewer.querySelector('[data-viewer="' + which + '"]');
    if (link) window.location.assign(link.href);
  }

  function setUp(viewer) {
    if (viewer.dataset.ready) return;
    viewer.dataset.ready = "1";
    var photo = viewer.querySelector(".photo-viewer-photo") || viewer;
    var start = null;
    photo.addEventListener("pointerdown", function (event) {
      start = { x: event.clientX, y: event.clientY, id: event.pointerId };
    });
    photo.addEventListener("pointercancel", function () { start = null; });
    photo.addEventListener("pointerup", function (event) {
      if (!start || start.id !== event.pointerId) return;
      var dx = event.clientX - start.x, dy = event.clientY - start.y;
      start = null;
      // A swipe: mostly sideways, and far enough not to be a tap.
      if (Math.abs(dx) < 50 || Math.abs(dx) < 2 * Math.abs(dy)) return;
      go(viewer, dx < 0 ? "next" : "prev");
    });
    // Dragging the image would start the browser's own drag and drop instead.
    photo.addEventListener("dragstart", function (event) { event.preventDefault(); });
  }

  document.addEventListener("keydown", function (event) {
    var viewer = document.querySelector("[data-photo-viewer]");
    if (!viewer || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var which = { ArrowRight: "next", ArrowLeft: "prev", Escape: "close" }[event.key];
    if (!which) return;
    event.preventDefault();
    go(viewer, which);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-photo-viewer]").forEach(setUp);
  });
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root.querySelectorAll) root.querySelectorAll("[data-photo-viewer]").forEach(setUp);
  });
})();

// A table wider than the screen scrolls sideways inside its .table-wrap: say so above it
// (the text is on <html data-table-hint>, in the page's language).
(function () {
  function mark() {
    var text = document.documentElement.getAttribute("data-table-hint");
    if (!text) { return; }
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      var hint = wrap.previousElementSibling;
      var has = hint && hint.classList.contains("table-hint");
      if (scrolls && !has) {
        hint = document.createElement("p");
        hint.className = "hint table-hint";
        hint.textContent = text;
        wrap.parentNode.insertBefore(hint, wrap);
      } else if (!scrolls && has) {
        hint.remove();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSwap", mark);
  window.addEventListener("resize", mark);
})();

// The app icon's badge (Badging API, where the installed app supports it): the unread
// counts of the navigation, on every page and after every count poll. A push sets it too
// (static/sw.js); opening the app corrects it to the real number.
(function () {
  function update() {
    if (!navigator.setAppBadge) return;
    var counts = document.querySelectorAll("[id^='nav-count-'] .nav-count");
    if (!document.getElementById("nav-poll") && !counts.length) return; // not logged in
    var total = 0;
    counts.forEach(function (el) { total += parseInt(el.textContent, 10) || 0; });
    var done = total ? navigator.setAppBadge(total) : navigator.clearAppBadge();
    if (done && done.catch) done.catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", update);
  document.addEventListener("htmx:afterSettle", update);
})();

// A new post: the chosen photos shown small before posting (URL.createObjectURL; the
// files never leave the browser for this). Other files, and photos the browser cannot
// show (HEIC), by name. Delegated, so a form swapped in after a refusal works too.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("input[type=file][data-preview]")) return;
  var list = document.getElementById(input.getAttribute("data-preview"));
  if (!list) return;
  list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
  list.textContent = "";
  Array.prototype.forEach.call(input.files, function (file) {
    var item = document.createElement("li");
    if (/^image\/(jpeg|png|webp|gif)$/.test(file.type)) {
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      item.appendChild(img);
    } else {
      item.textContent = file.name;
      item.className = "upload-preview-file";
    }
    list.appendChild(item);
  });
  list.hidden = !input.files.length;
});
