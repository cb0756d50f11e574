// What this browser plays, as the tokens web/capabilities.py knows (<container>.<codec>,
// "mse", "hls"), asked of the browser itself: canPlayType for files, MediaSource for hls.js.
// Stored in the aa_caps cookie so the server decides direct play before the page is drawn.
const AVC = 'avc1.640028';
const TYPES = {
  'mp4.h264': `video/mp4; codecs="${AVC}"`,
  'mp4.hevc': 'video/mp4; codecs="hvc1.1.6.L120.90"',
  'mp4.hevc_10': 'video/mp4; codecs="hvc1.2.4.L120.90"',
  'mp4.av1': 'video/mp4; codecs="av01.0.08M.08"',
  'mp4.av1_10': 'video/mp4; codecs="av01.0.08M.10"',
  'mp4.vp9': 'video/mp4; codecs="vp09.00.40.08"',
  'mp4.vp9_10': 'video/mp4; codecs="vp09.02.40.10"',
  'webm.vp8': 'video/webm; codecs="vp8"',
  'webm.vp9': 'video/webm; codecs="vp9"',
  'webm.vp9_10': 'video/webm; codecs="vp09.02.40.10"',
  'webm.av1': 'video/webm; codecs="av01.0.08M.08"',
  'webm.av1_10': 'video/webm; codecs="av01.0.08M.10"',
  'mkv.h264': `video/x-matroska; codecs="${AVC}"`,
  'mkv.hevc': 'video/x-matroska; codecs="hvc1.1.6.L120.90"',
  'mkv.vp9': 'video/x-matroska; codecs="vp9"',
  'mkv.av1': 'video/x-matroska; codecs="av01.0.08M.08"',
  'mp4.aac': 'audio/mp4; codecs="mp4a.40.2"',
  'mp4.mp3': 'audio/mp4; codecs="mp4a.6B"',
  'mp4.opus': 'audio/mp4; codecs="opus"',
  'mp4.flac': 'audio/mp4; codecs="flac"',
  'mp4.ac3': 'audio/mp4; codecs="ac-3"',
  'mp4.eac3': 'audio/mp4; codecs="ec-3"',
  'webm.opus': 'audio/webm; codecs="opus"',
  'webm.vorbis': 'audio/webm; codecs="vorbis"',
  'mkv.aac': 'audio/x-matroska; codecs="mp4a.40.2"',
  'mkv.opus': 'audio/x-matroska; codecs="opus"',
  'mkv.ac3': 'audio/x-matroska; codecs="ac-3"',
};
export const COOKIE = 'aa_caps';

export function detect() {
  const probe = document.createElement('video');
  const found = [];
  for (const [token, type] of Object.entries(TYPES)) {
    if (probe.canPlayType(type) === 'probably') found.push(token);
  }
  const mse = window.MediaSource || window.ManagedMediaSource;
  if (mse && mse.isTypeSupported(`video/mp4; codecs="${AVC},mp4a.40.2"`)) found.push('mse');
  if (probe.canPlayType('application/vnd.apple.mpegurl')) found.push('hls');
  return found.sort().join(',');
}

export function stored() {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(`${COOKIE}=`));
  return hit ? decodeURIComponent(hit.slice(COOKIE.length + 1)) : null;
}

export function store(value) {
  document.cookie = `${COOKIE}=${encodeURIComponent(value)}; path=/; max-age=31536000; samesite=lax`;
}
