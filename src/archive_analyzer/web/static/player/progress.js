// Watch progress: saved from the last settled position (never from a media element being
// torn down) every few seconds while playing, on pause, at the end, and with
// navigator.sendBeacon when the page is hidden or left.
const EVERY_S = 5;

export function install(player) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute('content') : '';
  let sent = null;

  function position() {
    const p = player.lastPos;
    return p !== null && isFinite(p) ? p : null;
  }

  function send(force) {
    const pos = position();
    if (pos === null || (!force && sent !== null && Math.abs(pos - sent) < EVERY_S)) return;
    sent = pos;
    fetch('/api/progress', {
      method: 'POST',
      credentials: 'same-origin',
      keepalive: true,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ content_id: player.contentId, position_s: pos }),
    }).catch(() => {});
  }

  function beacon() {
    const pos = position();
    if (pos === null || sent === pos) return;
    sent = pos;
    const form = new URLSearchParams({
      content_id: player.contentId,
      position_s: String(pos),
      csrf,
    });
    if (!navigator.sendBeacon || !navigator.sendBeacon('/api/progress/beacon', form)) send(true);
  }

  player.on('time', () => { if (!player.video.paused) send(false); });
  player.on('seek', () => send(true));
  player.video.addEventListener('pause', () => send(true));
  player.video.addEventListener('ended', () => send(true));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') beacon();
  });
  player.on('leave', beacon);
}
