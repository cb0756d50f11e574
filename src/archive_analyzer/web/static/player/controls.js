// The control bar: play/pause, time, seek bar, menus' buttons, mute, fullscreen. The seek bar
// spans the clip's range for clips. It reports hover/drag positions ('scrub' events with the
// time and the pointer's x) for the preview module and offers markers (addMarker) for
// features that mark the timeline.
function el(tag, cls, parent) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (parent) parent.appendChild(node);
  return node;
}

export function clock(seconds) {
  if (!isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function install(player) {
  const { video, wrap, labels } = player;
  video.removeAttribute('controls');
  const big = el('button', 'player-big', wrap);
  big.type = 'button';
  big.setAttribute('aria-label', labels.play || 'Play');
  el('span', 'player-spinner', wrap);
  const bar = el('div', 'player-bar', wrap);
  const playBtn = el('button', 'pb-play', bar);
  playBtn.type = 'button';
  const time = el('span', 'pb-time', bar);
  const seek = el('div', 'seek', bar);
  seek.setAttribute('role', 'slider');
  seek.setAttribute('tabindex', '0');
  seek.setAttribute('aria-label', labels.seek || 'Seek');
  const buffered = el('div', 'seek-buffered', seek);
  const fill = el('div', 'seek-fill', seek);
  const markers = el('div', 'seek-markers', seek);
  const handle = el('div', 'seek-handle', seek);
  const right = el('span', 'pb-right', bar);
  const menus = el('span', 'pb-menus', right);
  const mute = el('button', 'pb-mute', right);
  mute.type = 'button';
  const full = el('button', 'pb-full', right);
  full.type = 'button';
  full.textContent = '⛶';
  full.setAttribute('aria-label', labels.fullscreen || 'Fullscreen');

  const span = () => [player.rangeStart(), player.rangeEnd()];
  const frac = (t) => {
    const [a, b] = span();
    return b > a ? Math.min(1, Math.max(0, (t - a) / (b - a))) : 0;
  };
  const timeAt = (clientX) => {
    const box = seek.getBoundingClientRect();
    const [a, b] = span();
    const f = box.width ? Math.min(1, Math.max(0, (clientX - box.left) / box.width)) : 0;
    return a + f * (b - a);
  };

  function draw() {
    const [a, b] = span();
    const t = player.dragging !== null ? player.dragging : video.currentTime;
    const pct = `${frac(t) * 100}%`;
    fill.style.width = pct;
    handle.style.left = pct;
    time.textContent = `${clock(t - a)} / ${clock(b - a)}`;
    playBtn.textContent = video.paused && !player.wantPlay ? '▶' : '❚❚';
    playBtn.setAttribute('aria-label', video.paused ? labels.play || 'Play' : labels.pause || 'Pause');
    mute.textContent = video.muted || video.volume === 0 ? '🔇' : '🔊';
    wrap.classList.toggle('is-paused', video.paused && !player.wantPlay);
    seek.setAttribute('aria-valuenow', String(Math.round(t - a)));
    const r = video.buffered;
    if (r.length) buffered.style.width = `${frac(r.end(r.length - 1)) * 100}%`;
  }
  for (const name of ['timeupdate', 'play', 'pause', 'durationchange', 'progress', 'volumechange', 'seeking']) {
    video.addEventListener(name, draw);
  }
  player.on('intent', draw);
  player.dragging = null;

  playBtn.addEventListener('click', () => player.toggle());
  big.addEventListener('click', () => player.play());
  video.addEventListener('click', () => player.toggle());
  video.addEventListener('dblclick', () => player.fullscreen());
  mute.addEventListener('click', () => { video.muted = !video.muted; });
  full.addEventListener('click', () => player.fullscreen());
  player.fullscreen = () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (wrap.requestFullscreen) wrap.requestFullscreen();
  };

  // hover, drag and touch on the seek bar (pointer events cover mouse, pen and touch)
  seek.addEventListener('pointermove', (e) => {
    const t = timeAt(e.clientX);
    if (player.dragging !== null) player.dragging = t;
    player.emit('scrub', { time: t, x: e.clientX - seek.getBoundingClientRect().left, width: seek.clientWidth });
    draw();
  });
  seek.addEventListener('pointerleave', () => {
    if (player.dragging === null) player.emit('scrub', null);
  });
  seek.addEventListener('pointerdown', (e) => {
    seek.setPointerCapture(e.pointerId);
    player.dragging = timeAt(e.clientX);
    player.emit('scrub', { time: player.dragging, x: e.clientX - seek.getBoundingClientRect().left, width: seek.clientWidth });
    draw();
  });
  const release = (e) => {
    if (player.dragging === null) return;
    const t = timeAt(e.clientX);
    player.dragging = null;
    player.emit('scrub', null);
    player.seek(t);
    draw();
  };
  seek.addEventListener('pointerup', release);
  seek.addEventListener('pointercancel', () => {
    player.dragging = null;
    player.emit('scrub', null);
    draw();
  });

  player.seekbar = {
    element: seek,
    // A marker on the timeline (file time), e.g. a hand's in/out point; returns its node.
    addMarker(t, cls, title) {
      const m = el('span', `seek-marker ${cls || ''}`, markers);
      m.style.left = `${frac(t) * 100}%`;
      if (title) m.title = title;
      m.dataset.time = String(t);
      return m;
    },
    redrawMarkers() {
      for (const m of markers.children) m.style.left = `${frac(parseFloat(m.dataset.time)) * 100}%`;
    },
  };
  video.addEventListener('durationchange', () => player.seekbar.redrawMarkers());
  player.menuSlot = menus;
  draw();
}
