// The little JavaScript parro needs; everything works without it.
"use strict";

// -- Upload progress (feed posts, announcements) ------------------------------
// Forms marked data-upload are sent by htmx (hx-post with multipart encoding),
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
