// Audio and subtitle menus. Audio options are HLS alternate renditions (hls.js audioTracks);
// subtitles are the <track> elements (WebVTT). A choice is remembered for the user
// (POST /api/playback/prefs) and becomes the default on every content.
function el(tag, cls, parent) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (parent) parent.appendChild(node);
  return node;
}

function remember(values) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  fetch('/api/playback/prefs', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': meta ? meta.content : '' },
    body: JSON.stringify(values),
  }).catch(() => {});
}

function menu(player, cls, label, items) {
  const box = el('span', `pb-menu ${cls}`, player.menuSlot);
  const button = el('button', 'pb-menu-button', box);
  button.type = 'button';
  button.textContent = label;
  button.setAttribute('aria-haspopup', 'menu');
  const list = el('ul', 'pb-menu-list', box);
  list.setAttribute('role', 'menu');
  list.hidden = true;
  button.addEventListener('click', (e) => {
    e.stopPropagation();
    const open = list.hidden;
    for (const other of document.querySelectorAll('.pb-menu-list')) other.hidden = true;
    list.hidden = !open;
  });
  document.addEventListener('click', () => { list.hidden = true; });
  function render(entries) {
    list.textContent = '';
    for (const entry of entries) {
      const item = el('li', null, list);
      const b = el('button', 'pb-menu-item', item);
      b.type = 'button';
      b.setAttribute('role', 'menuitemradio');
      b.setAttribute('aria-checked', entry.checked ? 'true' : 'false');
      b.dataset.value = entry.value;
      b.textContent = entry.label;
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        list.hidden = true;
        entry.pick();
      });
    }
  }
  render(items);
  return { box, render };
}

export function install(player) {
  const { video, data, labels } = player;

  // audio: the HLS renditions, once hls.js knows them
  let audioMenu = null;
  const audioItems = (hls) => hls.audioTracks.map((track, i) => ({
    label: track.name || (data.audio[i] && data.audio[i].title) || String(i + 1),
    value: String(i),
    checked: i === hls.audioTrack,
    pick: () => {
      hls.audioTrack = i;
      remember({ audio_language: track.lang || null });
    },
  }));
  player.on('manifest', (hls) => {
    const wanted = data.default_audio;
    if (hls.audioTracks.length > 1 && wanted !== null && wanted < hls.audioTracks.length
        && hls.audioTrack !== wanted) {
      hls.audioTrack = wanted;
    }
  });
  player.on('audiotracks', (hls) => {
    if (hls.audioTracks.length < 2) return;
    if (!audioMenu) audioMenu = menu(player, 'pb-audio', labels.audio || 'Audio', []);
    audioMenu.render(audioItems(hls));
  });

  // subtitles: our <track> elements
  const tracks = Array.from(video.textTracks).filter((t) => t.kind === 'subtitles' || t.kind === 'captions');
  if (!tracks.length) return;
  const show = (chosen) => {
    for (const t of tracks) t.mode = t === chosen ? 'showing' : 'disabled';
  };
  const items = () => [
    {
      label: labels.subtitles_off || 'Off',
      value: 'off',
      checked: tracks.every((t) => t.mode !== 'showing'),
      pick: () => { show(null); remember({ subtitle_language: '' }); redraw(); },
    },
    ...tracks.map((t, i) => ({
      label: t.label || t.language || String(i + 1),
      value: String(i),
      checked: t.mode === 'showing',
      pick: () => { show(t); remember({ subtitle_language: t.language || null }); redraw(); },
    })),
  ];
  const subsMenu = menu(player, 'pb-subtitles', labels.subtitles || 'Subtitles', items());
  function redraw() { subsMenu.render(items()); }
  video.textTracks.addEventListener('change', redraw);
}
