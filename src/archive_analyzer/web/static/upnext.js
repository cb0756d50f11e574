// "Up next": in the last seconds of an episode (or a clip's range) a card offers the next one
// in series order. With autoplay on it counts down the remaining seconds and goes there at the
// end; "Cancel" stops that for this playback. With autoplay off the card waits to be clicked.
// Works on the page's one <video id="player"> (the clip range comes from data-start/data-end).
(function () {
  "use strict";
  var box = document.getElementById("up-next");
  var video = document.getElementById("player");
  if (!box || !video) return;
  var LEAD_S = 10; // the card appears this long before the end (a quarter of short videos)
  var autoplay = box.dataset.autoplay === "1";
  var count = box.querySelector(".up-next-count");
  var cancel = document.getElementById("up-next-cancel");
  var cancelled = false;
  var leaving = false;

  function start() { return video.dataset.start ? parseFloat(video.dataset.start) : 0; }
  function end() {
    var e = video.dataset.end ? parseFloat(video.dataset.end) : video.duration;
    return isFinite(e) ? e : null;
  }
  function lead() {
    var e = end();
    return e === null ? LEAD_S : Math.min(LEAD_S, Math.max(2, (e - start()) / 4));
  }

  function show(remaining) {
    if (cancelled) return;
    box.hidden = false;
    box.classList.toggle("counting", autoplay);
    if (autoplay && count) {
      count.textContent = count.dataset.template.replace("{n}", String(Math.max(0, Math.ceil(remaining))));
    }
  }

  function go() {
    if (leaving || cancelled || !autoplay) return;
    leaving = true;
    window.location.href = box.dataset.url;
  }

  video.addEventListener("timeupdate", function () {
    var e = end();
    if (e === null) return;
    var remaining = e - video.currentTime;
    if (remaining <= lead()) {
      show(remaining);
      if (remaining <= 0.05 && video.dataset.end) go(); // a clip stops at its end, never "ends"
    } else if (!box.hidden && !video.seeking) {
      box.hidden = true; // went back before the last seconds
    }
  });
  video.addEventListener("ended", function () { show(0); go(); });
  if (cancel) {
    cancel.addEventListener("click", function () {
      cancelled = true;
      box.hidden = true;
    });
  }
  box.dataset.ready = "1";
})();
