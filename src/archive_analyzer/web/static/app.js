// Page behaviour outside the player: the stream-link copy button. The player is the ES
// modules under static/player/ (main.js); marking.js (the archive team's panel) uses
// window.archivePlayer and window.archiveClock from there. No libraries.
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

