// Player behaviour (resume, clip range, progress saving, the clock with the source timecode)
// and the stream-link copy button. No libraries. marking.js (the archive team's panel) uses
// window.archiveClock from here.
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

  // Source timecode: the file's first frame is data-timecode; frames at the file's own rate
  // (29.97 counts on base 30 with drop-frame labels). Mirrors archive_analyzer/timecode.py.
  var fps = video.dataset.fps ? parseFloat(video.dataset.fps) : null;
  var startLabel = video.dataset.timecode || null;
  var base = fps ? Math.round(fps) : 25;
  var ntsc = fps ? Math.abs(fps - base * 1000 / 1001) < 0.005 && base % 30 === 0 : false;
  var drop = startLabel ? startLabel.indexOf(";") >= 0 : ntsc;

  function dropped(frames) {
    var step = base / 15, perTen = base * 600 - 9 * step, perMinute = base * 60 - step;
    var tens = Math.floor(frames / perTen), rest = frames % perTen;
    var skipped = 9 * step * tens;
    if (rest > step) skipped += step * Math.floor((rest - step) / perMinute);
    return skipped;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function labelOf(frames) {
    var f = frames + (drop ? dropped(frames) : 0);
    var ff = f % base, s = Math.floor(f / base);
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60) +
      (drop ? ";" : ":") + pad(ff);
  }
  function framesOf(label) {
    var m = /^(\d+):(\d\d):(\d\d)[:;](\d\d)$/.exec(label || "");
    if (!m) return 0;
    var minutes = parseInt(m[1], 10) * 60 + parseInt(m[2], 10);
    var frames = (minutes * 60 + parseInt(m[3], 10)) * base + parseInt(m[4], 10);
    return drop ? frames - (base / 15) * (minutes - Math.floor(minutes / 10)) : frames;
  }
  var startFrames = framesOf(startLabel);
  function sourceLabel(seconds) {
    if (!fps) return null;
    return labelOf(startFrames + Math.round(seconds * fps));
  }
  function hms(seconds) {
    var t = Math.max(0, Math.floor(seconds));
    return Math.floor(t / 3600) + ":" + pad(Math.floor(t / 60) % 60) + ":" + pad(t % 60);
  }
  var clockTime = document.getElementById("clock-time");
  var clockSource = document.getElementById("clock-source");
  function tick() {
    var now = video.currentTime || 0;
    if (clockTime) clockTime.textContent = hms(now);
    if (clockSource && startLabel) clockSource.textContent = sourceLabel(now);
  }
  window.archiveClock = {
    video: video, fps: fps, direct: video.dataset.direct === "1", hasTimecode: !!startLabel,
    label: function (s) { return fps ? sourceLabel(s) : hms(s); },
    hms: hms
  };
  ["timeupdate", "seeked", "loadedmetadata"].forEach(function (name) {
    video.addEventListener(name, tick);
  });

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
