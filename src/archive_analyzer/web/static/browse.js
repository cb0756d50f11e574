// Browsing without reloads: the watched / My list toggles post their forms in place, sort
// menus apply on change, and an editor's "use this frame" takes the player's current time.
// Every form also works without this script (plain POST and redirect back).
(function () {
  "use strict";

  function label(button, on) {
    var text = on ? button.dataset.on : button.dataset.off;
    if (!text) return;
    button.title = text;
    var span = button.querySelector(".label");
    if (span) span.textContent = text;
  }

  // Show the new state on every control and item of the page for the same content or series.
  function update(kind, item, on) {
    var forms = document.querySelectorAll(
      'form.toggle[data-toggle="' + kind + '"][data-item="' + item + '"]'
    );
    forms.forEach(function (form) {
      form.querySelector('input[name="on"]').value = on ? "0" : "1";
      var button = form.querySelector("button");
      button.setAttribute("aria-pressed", on ? "true" : "false");
      label(button, on);
    });
    if (kind !== "watched") return;
    document.querySelectorAll('[data-item="' + item + '"]').forEach(function (el) {
      if (el.tagName === "FORM") return;
      el.classList.toggle("is-watched", on);
      // marking watched or unwatched forgets where playback was
      el.querySelectorAll("progress.poster-progress").forEach(function (bar) { bar.remove(); });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form.toggle")) return;
    event.preventDefault();
    var on = form.querySelector('input[name="on"]').value === "1";
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      update(form.dataset.toggle, form.dataset.item, on);
    }).catch(function () { form.submit(); });
  });

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  document.querySelectorAll("form.frame-pick").forEach(function (form) {
    form.addEventListener("submit", function () {
      var video = document.getElementById("player");
      var input = form.querySelector("[data-player-time]");
      if (video && input && isFinite(video.currentTime)) input.value = video.currentTime.toFixed(3);
    });
  });
})();
