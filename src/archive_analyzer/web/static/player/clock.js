// The clock under the player: the playback time and, for files with a source timecode, the
// source timecode of the frame shown (issue 17). The file's first frame is data-timecode;
// frames count at the file's own rate (29.97 counts on base 30 with drop-frame labels).
// Mirrors archive_analyzer/timecode.py. Installed before anything else of the player, so
// window.archiveClock exists when marking.js (a deferred script after the player) runs.
export function install(video) {
  const fps = video.dataset.fps ? parseFloat(video.dataset.fps) : null;
  const startLabel = video.dataset.timecode || null;
  const base = fps ? Math.round(fps) : 25;
  const ntsc = fps ? Math.abs(fps - base * 1000 / 1001) < 0.005 && base % 30 === 0 : false;
  const drop = startLabel ? startLabel.indexOf(';') >= 0 : ntsc;

  function dropped(frames) {
    const step = base / 15;
    const perTen = base * 600 - 9 * step;
    const perMinute = base * 60 - step;
    const tens = Math.floor(frames / perTen);
    const rest = frames % perTen;
    let skipped = 9 * step * tens;
    if (rest > step) skipped += step * Math.floor((rest - step) / perMinute);
    return skipped;
  }
  const pad = (n) => (n < 10 ? '0' : '') + n;
  function labelOf(frames) {
    const f = frames + (drop ? dropped(frames) : 0);
    const ff = f % base;
    const s = Math.floor(f / base);
    return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}${drop ? ';' : ':'}${pad(ff)}`;
  }
  function framesOf(label) {
    const m = /^(\d+):(\d\d):(\d\d)[:;](\d\d)$/.exec(label || '');
    if (!m) return 0;
    const minutes = parseInt(m[1], 10) * 60 + parseInt(m[2], 10);
    const frames = (minutes * 60 + parseInt(m[3], 10)) * base + parseInt(m[4], 10);
    return drop ? frames - (base / 15) * (minutes - Math.floor(minutes / 10)) : frames;
  }
  const startFrames = framesOf(startLabel);
  const sourceLabel = (seconds) => (fps ? labelOf(startFrames + Math.round(seconds * fps)) : null);
  function hms(seconds) {
    const t = Math.max(0, Math.floor(seconds));
    return `${Math.floor(t / 3600)}:${pad(Math.floor(t / 60) % 60)}:${pad(t % 60)}`;
  }
  const clockTime = document.getElementById('clock-time');
  const clockSource = document.getElementById('clock-source');
  function tick() {
    const now = video.currentTime || 0;
    if (clockTime) clockTime.textContent = hms(now);
    if (clockSource && startLabel) clockSource.textContent = sourceLabel(now);
  }
  window.archiveClock = {
    video,
    fps,
    direct: video.dataset.direct === '1',
    hasTimecode: !!startLabel,
    label: (s) => (fps ? sourceLabel(s) : hms(s)),
    hms,
  };
  for (const name of ['timeupdate', 'seeked', 'loadedmetadata']) video.addEventListener(name, tick);
}
