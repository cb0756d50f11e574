// The only script: player behaviour (resume, clip range, progress saving) and the stream-link
// copy button. No libraries.
(function () {
  "use strict";
  // "Copy stream link": ask for a signed link (audited), copy it, or show it to copy by hand
  // (the clipboard API exists only on https and localhost).
  var button = document.getElementById("copy-link");
  if (!button) return;
  button.addEventListener("click", function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    fetch("/api/contents/" + encodeURIComponent(button.dataset.content) + "/stream-link", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": meta ? meta.getAttribute("content") : "" }
    }).then(function (r) { return r.json(); }).then(function (link) {
      var box = document.getElementById("link-box");
      var text = document.getElementById("link-text");
      var done = document.getElementById("link-copied");
      text.value = link.url;
      box.hidden = false;
      text.focus();
      text.select();
      var shown = function () { done.hidden = false; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(link.url).then(shown, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        shown();
      }
    }).catch(function () {});
  });
})();

(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var contentId = video.dataset.content;
  var start = video.dataset.start ? parseFloat(video.dataset.start) : null;
  var end = video.dataset.end ? parseFloat(video.dataset.end) : null;
  var resume = video.dataset.resume ? parseFloat(video.dataset.resume) : null;
  var lastSaved = -1;

  function save(force) {
    var pos = video.currentTime;
    if (!isFinite(pos) || (!force && Math.abs(pos - lastSaved) < 5)) return;
    lastSaved = pos;
    fetch("/api/progress", {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ content_id: contentId, position_s: pos })
    }).catch(function () {});
  }

  video.addEventListener("loadedmetadata", function () {
    // The media fragment (#t=start,end) positions clips; resume wins when inside the range.
    var target = null;
    if (resume !== null && resume > 0) target = resume;
    if (start !== null && (target === null || target < start || (end !== null && target >= end))) {
      target = start;
    }
    if (target !== null && Math.abs(video.currentTime - target) > 0.5) video.currentTime = target;
    // /watch/{id}?autoplay=1 (the next episode, from "Up next") starts playing by itself
    if ("autoplay" in video.dataset) video.play().catch(function () {});
  });
  video.addEventListener("timeupdate", function () {
    if (end !== null && video.currentTime >= end) {
      video.pause();
      video.currentTime = end;
    }
    save(false);
  });
  video.addEventListener("play", function () {
    // Replaying a finished clip starts it again instead of stopping at once.
    if (end !== null && video.currentTime >= end - 0.05 && start !== null) video.currentTime = start;
  });
  video.addEventListener("pause", function () { save(true); });
  video.addEventListener("ended", function () { save(true); });
  window.addEventListener("pagehide", function () { save(true); });
})();
