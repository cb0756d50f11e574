// Scrubbing previews: the WebVTT thumbnails track (sprite.jpg#xywh=x,y,w,h cues, the JW
// Player / Video.js / Jellyfin convention) shown above the seek bar while hovering, dragging
// or touching it.
function seconds(stamp) {
  const parts = stamp.trim().split(':').map(parseFloat);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

export function parse(text, base) {
  const cues = [];
  for (const block of text.replace(/\r/g, '').split('\n\n')) {
    const lines = block.split('\n').filter(Boolean);
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [a, b] = lines[timing].split('-->');
    const [file, frag] = lines[timing + 1].split('#xywh=');
    if (!frag) continue;
    const [x, y, w, h] = frag.split(',').map(Number);
    cues.push({ start: seconds(a), end: seconds(b), url: new URL(file, base).href, x, y, w, h });
  }
  return cues;
}

function find(cues, t) {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t < cues[mid].start) hi = mid - 1;
    else if (t >= cues[mid].end) lo = mid + 1;
    else return cues[mid];
  }
  return cues.length ? cues[Math.max(0, Math.min(cues.length - 1, lo))] : null;
}

export function install(player) {
  const url = player.data.trickplay_url;
  const seek = player.seekbar && player.seekbar.element;
  if (!seek) return;
  const box = document.createElement('div');
  box.className = 'seek-preview';
  box.hidden = true;
  const image = document.createElement('div');
  image.className = 'seek-preview-image';
  const label = document.createElement('span');
  label.className = 'seek-preview-time';
  box.append(image, label);
  seek.appendChild(box);
  let cues = [];
  if (url) {
    fetch(url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : ''))
      .then((text) => { cues = parse(text, new URL(url, location.href)); })
      .catch(() => {});
  }
  player.on('scrub', (at) => {
    if (!at) {
      box.hidden = true;
      return;
    }
    const cue = find(cues, at.time);
    const a = player.rangeStart();
    const s = Math.max(0, Math.floor(at.time - a));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    label.textContent = `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s % 60).padStart(2, '0')}`;
    if (cue) {
      image.hidden = false;
      image.style.width = `${cue.w}px`;
      image.style.height = `${cue.h}px`;
      image.style.backgroundImage = `url("${cue.url}")`;
      image.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      box.dataset.src = `${cue.url}#xywh=${cue.x},${cue.y},${cue.w},${cue.h}`;
    } else {
      image.hidden = true;
      delete box.dataset.src;
    }
    const w = cue ? cue.w : 60;
    const left = Math.max(0, Math.min(at.width - w, at.x - w / 2));
    box.style.left = `${left}px`;
    box.hidden = false;
  });
}
