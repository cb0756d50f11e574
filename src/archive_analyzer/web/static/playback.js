// Attaches HLS to the player when the page gives an HLS playlist instead of a direct file.
// Chromium has no native HLS: hls.js (vendored, static/vendor/hls.min.js) feeds Media Source
// Extensions. Safari plays the playlist natively.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video || !video.dataset.hls) return;
  var url = video.dataset.hls;
  if (window.Hls && window.Hls.isSupported()) {
    // No worker: the page's CSP allows scripts from 'self' only (a worker would be a blob:).
    // A segment is made while the request waits (a transcode can take seconds on a busy
    // server): wait long for the first byte instead of aborting, which would kill its ffmpeg.
    var slow = {
      maxTimeToFirstByteMs: 60000,
      maxLoadTimeMs: 120000,
      timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: { maxNumRetry: 8, retryDelayMs: 1000, maxRetryDelayMs: 8000 }
    };
    var hls = new window.Hls({
      enableWorker: false,
      maxBufferLength: 30,
      backBufferLength: 60,
      fragLoadPolicy: { default: slow }
    });
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.hls = hls;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
  }
  window.addEventListener("pagehide", function () {
    if (video.hls) video.hls.destroy();
  });
})();
