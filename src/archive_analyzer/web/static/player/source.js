// Attaches the media: the file itself (direct play, HTTP ranges) or HLS (hls.js on Media
// Source Extensions; Safari's native HLS when the browser reported it and no MSE).
const SLOW = {
  // A segment is made while the request waits (a transcode can take seconds on a busy
  // server): wait long for the first byte instead of aborting, which would kill its ffmpeg.
  maxTimeToFirstByteMs: 60000,
  maxLoadTimeMs: 120000,
  timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
  errorRetry: { maxNumRetry: 8, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
};

export function attach(player, { lazy }) {
  const { video, data } = player;
  const begin = player.startPosition();
  if (data.mode === 'direct') {
    if (!video.getAttribute('src') || !video.getAttribute('src').startsWith(data.url)) {
      video.src = data.url;
    }
    video.addEventListener('loadedmetadata', () => {
      if (Math.abs(video.currentTime - begin) > 0.5) video.currentTime = begin;
      if (begin === 0) player.positioned = true;
    }, { once: true });
    video.addEventListener('seeked', () => { player.positioned = true; }, { once: true });
    return;
  }
  video.removeAttribute('src');
  const Hls = window.Hls;
  if (Hls && Hls.isSupported()) {
    // No worker: the page's CSP allows scripts from 'self' only (a worker would be a blob:).
    const hls = new Hls({
      enableWorker: false,
      maxBufferLength: 30,
      backBufferLength: 60,
      startPosition: begin,
      autoStartLoad: !lazy,
      fragLoadPolicy: { default: SLOW },
    });
    hls.on(Hls.Events.ERROR, (_event, info) => {
      if (!info.fatal) return;
      if (info.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (info.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.on(Hls.Events.FRAG_BUFFERED, () => player.kick());
    hls.on(Hls.Events.MANIFEST_PARSED, () => player.emit('manifest', hls));
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => player.emit('audiotracks', hls));
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => player.emit('audiotracks', hls));
    let loading = !lazy;
    player.on('intent', () => {
      if (!loading) {
        loading = true;
        hls.startLoad(player.lastPos !== null ? player.lastPos : begin);
      }
    });
    player.deferSeek = (t) => {
      if (loading) return false;
      loading = true;
      hls.startLoad(t);
      return true;
    };
    hls.loadSource(data.url);
    hls.attachMedia(video);
    player.hls = hls;
    video.hls = hls; // for tests and the console
    if (begin === 0) player.positioned = true;
    player.onTeardown(() => hls.destroy());
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = data.url;
    video.addEventListener('loadedmetadata', () => {
      if (begin > 0) video.currentTime = begin; else player.positioned = true;
    }, { once: true });
  }
}
