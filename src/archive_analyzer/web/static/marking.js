// The archive team's panel: hands as markers on the seek bar and a list beside the player
// (everyone); for editors, marking (I / O keys and buttons, frame steps with , and . on direct
// play), the hand form with a player type-ahead (names, 한글, 초성), editing and deleting,
// and clip exports with progress. Uses window.archiveClock from app.js. No libraries.
(function () {
  "use strict";
  var textEl = document.getElementById("marking-text");
  var T = textEl ? JSON.parse(textEl.textContent) : {};
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") options.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var detail = data && data.detail;
          if (Array.isArray(detail)) detail = detail.map(function (d) { return d.msg; }).join("; ");
          throw new Error(detail || ("HTTP " + r.status));
        }
        return data;
      });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // --- clip exports (a hand's page, or a hand in the list) --------------------------------
  function exportClip(contentId, exact, box) {
    var bar = box.querySelector(".export-progress");
    var status = box.querySelector(".export-status");
    bar.hidden = false;
    bar.value = 0;
    status.textContent = T.queued || "…";
    function show(state) {
      bar.value = state.progress || 0;
      if (state.state === "failed") {
        status.textContent = (T.failed || "Failed:") + " " + (state.error || "");
        bar.hidden = true;
        return true;
      }
      if (state.state === "done") {
        var clock = window.archiveClock;
        var range = "";
        if (state.real_in !== null && state.real_out !== null && clock) {
          range = " " + (T.got || "") + " " + clock.label(state.real_in) + "–" + clock.label(state.real_out);
        }
        status.textContent = (T.done || "Done.") + range;
        var link = el("a", { href: state.url, download: state.name || "", className: "export-file" }, state.name);
        status.appendChild(document.createTextNode(" "));
        status.appendChild(link);
        link.click();
        return true;
      }
      status.textContent = state.state === "running" ? (T.running || "…") : (T.queued || "…");
      return false;
    }
    api("POST", "/api/contents/" + contentId + "/export", { exact: exact }).then(function (state) {
      if (show(state)) return;
      var timer = setInterval(function () {
        api("GET", "/api/exports/" + state.key).then(function (next) {
          if (show(next)) clearInterval(timer);
        }).catch(function (err) { clearInterval(timer); status.textContent = err.message; });
      }, 1000);
    }).catch(function (err) { status.textContent = (T.failed || "") + " " + err.message; bar.hidden = true; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".export-clip") : null;
    if (!button) return;
    var box = button.closest(".clip-export");
    exportClip(box.dataset.content, button.dataset.exact === "1", box);
  });

  // --- the player's hands ---------------------------------------------------------------
  var clock = window.archiveClock;
  var list = document.getElementById("hand-list");
  if (!list || !clock) return;
  var video = clock.video;
  var episode = list.dataset.episode;
  var markers = document.getElementById("markers");
  var form = document.getElementById("hand-form");
  var hands = [];
  var duration = null;

  function seek(seconds) {
    video.currentTime = seconds;
    var played = video.play();
    if (played && played.catch) played.catch(function () {});
  }

  function load() {
    return api("GET", "/api/contents/" + episode + "/hands").then(function (data) {
      hands = data.hands;
      duration = data.duration_s || video.duration || null;
      render();
    }).catch(function () {});
  }

  function render() {
    list.textContent = "";
    if (!hands.length) list.appendChild(el("li", { className: "meta empty-hands" }, T.no_hands));
    hands.forEach(function (hand) {
      var item = el("li", { "data-hand": hand.id, "data-start": hand.start, "data-end": hand.end });
      var jump = el("button", { type: "button", className: "jump tc", title: hand.title },
        (hand.start_tc || clock.hms(hand.start)) + "–" + (hand.end_tc || clock.hms(hand.end)));
      jump.addEventListener("click", function () { seek(hand.start); });
      item.appendChild(jump);
      var link = el("a", { href: "/watch/" + hand.id, className: "clip-link", "data-clip": hand.id });
      link.appendChild(el("span", { className: "list-title" }, hand.title));
      var names = hand.players.map(function (p) { return p.label; }).join(", ");
      if (names) link.appendChild(el("span", { className: "meta" }, names));
      item.appendChild(link);
      if (form) {
        var edit = el("button", { type: "button", className: "link edit-hand" }, T.edit);
        edit.addEventListener("click", function () { fill(hand); });
        var del = el("button", { type: "button", className: "link delete-hand" }, T.delete);
        del.addEventListener("click", function () { remove(hand); });
        item.appendChild(edit);
        item.appendChild(del);
      }
      list.appendChild(item);
    });
    if (!markers) return;
    markers.textContent = "";
    var total = duration || video.duration;
    if (!total || !isFinite(total)) return;
    hands.forEach(function (hand) {
      var mark = el("button", { type: "button", className: "marker", title: hand.title, "data-hand": hand.id });
      mark.style.left = (100 * hand.start / total) + "%";
      mark.style.width = Math.max(0.5, 100 * (hand.end - hand.start) / total) + "%";
      mark.addEventListener("click", function () { seek(hand.start); });
      markers.appendChild(mark);
    });
  }
  video.addEventListener("loadedmetadata", function () { if (!duration) render(); });
  load();
  if (!form) return;

  // --- marking (editors) ----------------------------------------------------------------
  var startIn = document.getElementById("hand-start");
  var endIn = document.getElementById("hand-end");
  var status = document.getElementById("hand-status");
  var chips = document.getElementById("player-chips");
  var search = document.getElementById("player-search");
  var options = document.getElementById("player-options");
  var winner = form.elements.winner;
  var chosen = [];

  function mark(input) {
    var now = video.currentTime || 0;
    input.value = clock.label(now);
    input.dataset.label = input.value;
    input.dataset.seconds = String(now);
  }
  function timeOf(input) {
    // the exact position when the field still shows what I / O put there
    if (input.dataset.label && input.value === input.dataset.label) return input.dataset.seconds;
    return input.value.trim();
  }
  function step(frames) {
    if (!clock.direct) return;  // HLS segments do not seek to single frames
    video.pause();
    video.currentTime = Math.max(0, video.currentTime + frames / (clock.fps || 25));
  }
  document.getElementById("mark-in").addEventListener("click", function () { mark(startIn); });
  document.getElementById("mark-out").addEventListener("click", function () { mark(endIn); });
  document.getElementById("step-back").addEventListener("click", function () { step(-1); });
  document.getElementById("step-forward").addEventListener("click", function () { step(1); });
  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (event.key === "i" || event.key === "I") { mark(startIn); event.preventDefault(); }
    else if (event.key === "o" || event.key === "O") { mark(endIn); event.preventDefault(); }
    else if (event.key === ",") { step(-1); event.preventDefault(); }
    else if (event.key === ".") { step(1); event.preventDefault(); }
  });

  function renderChips() {
    chips.textContent = "";
    var keep = winner.value;
    while (winner.options.length > 1) winner.remove(1);
    chosen.forEach(function (player) {
      var chip = el("span", { className: "chip", "data-player": player.id }, player.label);
      var x = el("button", { type: "button", className: "link", "aria-label": "×" }, "×");
      x.addEventListener("click", function () {
        chosen = chosen.filter(function (p) { return p.id !== player.id; });
        renderChips();
      });
      chip.appendChild(x);
      chips.appendChild(chip);
      winner.appendChild(el("option", { value: player.id }, player.label));
    });
    winner.value = chosen.some(function (p) { return p.id === keep; }) ? keep : "";
  }
  function choose(player) {
    if (!chosen.some(function (p) { return p.id === player.id; })) chosen.push(player);
    renderChips();
    search.value = "";
    options.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.focus();
  }
  var pending = null;
  search.addEventListener("input", function () {
    clearTimeout(pending);
    var q = search.value.trim();
    if (!q) { options.hidden = true; return; }
    pending = setTimeout(function () {
      api("GET", "/api/players?q=" + encodeURIComponent(q)).then(function (found) {
        options.textContent = "";
        found.forEach(function (player, index) {
          var label = player.label + (player.name_kr ? " · " + player.name_kr : "");
          var option = el("li", { role: "option", id: "player-option-" + index, "data-player": player.id }, label);
          option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(player); });
          options.appendChild(option);
        });
        options.hidden = !found.length;
        search.setAttribute("aria-expanded", found.length ? "true" : "false");
      }).catch(function () {});
    }, 120);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      var first = options.querySelector("li");
      if (first && !options.hidden) first.dispatchEvent(new MouseEvent("mousedown"));
    } else if (event.key === "Escape") {
      options.hidden = true;
    }
  });

  function reset() {
    form.reset();
    form.elements.hand_id.value = "";
    [startIn, endIn].forEach(function (input) { input.value = ""; delete input.dataset.label; });
    chosen = [];
    renderChips();
  }
  function fill(hand) {
    reset();
    form.elements.hand_id.value = hand.id;
    startIn.value = hand.start_tc || String(hand.start);
    startIn.dataset.label = startIn.value;
    startIn.dataset.seconds = String(hand.start);
    endIn.value = hand.end_tc || String(hand.end);
    endIn.dataset.label = endIn.value;
    endIn.dataset.seconds = String(hand.end);
    form.elements.title.value = hand.title || "";
    chosen = hand.players.slice();
    if (hand.winner_player && !chosen.some(function (p) { return p.id === hand.winner; })) {
      chosen.push(hand.winner_player);
    }
    renderChips();
    winner.value = hand.winner || "";
    form.elements.pot_size_bb.value = hand.pot_size_bb === null ? "" : hand.pot_size_bb;
    form.elements.is_all_in.checked = !!hand.is_all_in;
    form.elements.is_showdown.checked = !!hand.is_showdown;
    form.elements.board.value = hand.board || "";
    form.elements.highlight_score.value = hand.highlight_score === null ? "" : String(hand.highlight_score);
    form.elements.tags.value = hand.tags.join(", ");
    seek(hand.start);
    video.pause();
    form.scrollIntoView({ block: "nearest" });
  }
  function remove(hand) {
    if (!window.confirm(T.confirm_delete)) return;
    api("DELETE", "/api/hands/" + hand.id).then(function () {
      status.textContent = T.deleted;
      if (form.elements.hand_id.value === hand.id) reset();
      load();
    }).catch(function (err) { status.textContent = err.message; });
  }
  document.getElementById("hand-cancel").addEventListener("click", reset);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = form.elements;
    var body = {
      start: timeOf(startIn),
      end: timeOf(endIn),
      title: f.title.value,
      players: chosen.map(function (p) { return p.id; }),
      winner: f.winner.value || null,
      pot_size_bb: f.pot_size_bb.value === "" ? null : parseFloat(f.pot_size_bb.value),
      is_all_in: f.is_all_in.checked,
      is_showdown: f.is_showdown.checked,
      board: f.board.value,
      highlight_score: f.highlight_score.value === "" ? null : parseInt(f.highlight_score.value, 10),
      tags: f.tags.value.split(",").map(function (t) { return t.trim(); }).filter(Boolean)
    };
    var id = f.hand_id.value;
    status.textContent = T.saving;
    api(id ? "PUT" : "POST", id ? "/api/hands/" + id : "/api/contents/" + episode + "/hands", body)
      .then(function () { status.textContent = T.saved; reset(); return load(); })
      .catch(function (err) { status.textContent = err.message; });
  });
})();
