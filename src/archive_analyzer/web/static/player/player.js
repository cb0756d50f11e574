// The player core: one <video>, its playback description, the play intent and loading state,
// the clip range, and a small event hub the feature modules (source, progress, controls,
// keys, tracks, previews; timecode and hand marking later) attach to. Modules never reach
// into each other: they talk through this object.
export class Player {
  constructor(video, data) {
    this.video = video;
    this.data = data; // the playback description (web/playinfo.py: PlaybackInfo.page)
    this.wrap = video.closest('.player-wrap');
    this.contentId = video.dataset.content;
    this.start = video.dataset.start ? parseFloat(video.dataset.start) : null;
    this.end = video.dataset.end ? parseFloat(video.dataset.end) : null;
    this.resume = video.dataset.resume ? parseFloat(video.dataset.resume) : null;
    this.labels = data.labels || {};
    this.wantPlay = false; // the user asked to play: start as soon as media arrives
    this.positioned = false; // the resume position has been applied (safe to save)
    this.lastPos = null; // the last settled playback position (what progress saves)
    this.hls = null;
    this.handlers = {};
    this.teardowns = [];
    video.addEventListener('playing', () => {
      this.positioned = true;
      this.setLoading(false);
    });
    video.addEventListener('waiting', () => { if (!video.paused) this.setLoading(true); });
    for (const ready of ['canplay', 'loadeddata']) {
      video.addEventListener(ready, () => this.kick());
    }
    video.addEventListener('pause', () => {
      // a pause we did not ask for (the user, the clip end) ends the intent
      if (!this.starting) this.wantPlay = false;
      this.setLoading(false);
    });
    video.addEventListener('timeupdate', () => this.track());
    video.addEventListener('seeked', () => this.track());
    video.addEventListener('play', () => {
      // replaying a finished clip starts it again instead of stopping at once
      if (this.end !== null && video.currentTime >= this.end - 0.05) this.seek(this.rangeStart());
    });
  }

  on(name, fn) {
    (this.handlers[name] = this.handlers[name] || []).push(fn);
  }

  emit(name, detail) {
    for (const fn of this.handlers[name] || []) fn(detail);
  }

  // The timeline the user sees: a clip's range, else the whole file.
  rangeStart() { return this.start !== null ? this.start : 0; }

  rangeEnd() {
    if (this.end !== null) return this.end;
    return isFinite(this.video.duration) ? this.video.duration : 0;
  }

  // Where to begin: the saved position when it lies inside the range, else the range start.
  startPosition() {
    const from = this.rangeStart();
    const to = this.end;
    const r = this.resume;
    if (r !== null && r > 0 && r >= from && (to === null || r < to - 1)) return r;
    return from;
  }

  track() {
    const v = this.video;
    if (this.end !== null && v.currentTime >= this.end && !v.paused) {
      v.pause();
      v.currentTime = this.end;
    }
    if (!this.positioned || v.seeking || v.readyState < 1) return;
    if (isFinite(v.currentTime)) this.lastPos = v.currentTime;
    this.emit('time', v.currentTime);
  }

  setLoading(on) {
    if (this.wrap) this.wrap.classList.toggle('is-loading', on);
  }

  // Play now, or as soon as the first media arrives (a cold transcode takes seconds).
  play() {
    this.wantPlay = true;
    this.emit('intent');
    if (this.video.readyState < 3) this.setLoading(true);
    this.kick();
  }

  kick() {
    if (!this.wantPlay || !this.video.paused) return;
    this.starting = true;
    const done = () => { this.starting = false; };
    const promise = this.video.play();
    if (promise) promise.then(done, done); else done();
  }

  pause() {
    this.wantPlay = false;
    this.video.pause();
  }

  toggle() {
    if (this.video.paused && !this.wantPlay) this.play(); else this.pause();
  }

  seek(t) {
    const from = this.rangeStart();
    const to = this.rangeEnd();
    const target = Math.max(from, to > from ? Math.min(t, to) : t);
    this.positioned = true;
    this.lastPos = target;
    // HLS not loading yet (the content page loads nothing before Play): start loading there
    // instead of seeking an element that has no media
    if (!(this.deferSeek && this.deferSeek(target))) this.video.currentTime = target;
    this.emit('seek', target);
  }

  onTeardown(fn) { this.teardowns.push(fn); }

  // Leaving the page: listeners save first (they read lastPos), then resources go.
  teardown() {
    this.emit('leave');
    for (const fn of this.teardowns) fn();
  }
}
