// Keyboard: space/k play-pause, arrows seek 5 s (j/l 10 s), up/down volume, f fullscreen,
// m mute. Other features add keys with player.keys.bind(key, handler).
export function install(player) {
  const map = new Map();
  const bind = (key, fn) => map.set(key, fn);
  const { video } = player;
  const step = (d) => player.seek((player.lastPos !== null ? player.lastPos : video.currentTime) + d);
  bind(' ', () => player.toggle());
  bind('k', () => player.toggle());
  bind('ArrowLeft', () => step(-5));
  bind('ArrowRight', () => step(5));
  bind('j', () => step(-10));
  bind('l', () => step(10));
  bind('ArrowUp', () => { video.volume = Math.min(1, video.volume + 0.1); });
  bind('ArrowDown', () => { video.volume = Math.max(0, video.volume - 0.1); });
  bind('f', () => player.fullscreen());
  bind('m', () => { video.muted = !video.muted; });
  player.keys = { bind };
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    const tag = target && target.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target && target.isContentEditable)) return;
    if (tag === 'BUTTON' && e.key === ' ' && !target.closest('.player-wrap')) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const fn = map.get(e.key === ' ' ? ' ' : key);
    if (!fn) return;
    e.preventDefault();
    fn(e);
  });
}
